/**
 * Issue 2: Keymint's oauth2 token endpoint (client_credentials, Basic) per algorithm, next to the raw
 * node:crypto signing rate and oidc-provider with the same algorithm, all on the server core, rounds
 * interleaved. Targets: RS256 ≥ 0.85 × raw signing and ≥ 1.5 × oidc-provider; EdDSA ≥ 1.5 ×
 * oidc-provider.
 */
import { join } from 'node:path';
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import { NODE, removeTempDir, ROOT, runPinned, tempDir } from '../procs.ts';
import { OAUTH2, OIDC_PROVIDER } from '../recipes.ts';
import { int, loadSeries, ms, pairedRatio, progress, ratio, ratioDetail, rates, Series } from '../rounds.ts';
import { checkToken, createClient, OIDC_SECRET, startKeymint, startOidcProvider, type Server } from '../servers.ts';

/** Ratio goals per algorithm: [vs raw signing, vs oidc-provider]. */
const GOALS: Record<string, { sign?: number; oidc?: number }> = { RS256: { sign: 0.85, oidc: 1.5 }, EdDSA: { oidc: 1.5 } };

export async function coreSection(ctx: Context): Promise<void> {
  const table = ctx.report.table('oauth2 token endpoint vs references (64 connections)', [
    'alg',
    'target',
    'tokens/s',
    'p50',
    'p99',
    'rounds (tokens/s)',
    'Keymint ÷ this',
  ]);
  for (const alg of ctx.opts.algs) await measureAlg(ctx, alg, table.rows);
  table.notes.push('The signing row is signatures/s of node:crypto alone (bench/sign-rate.ts), not an HTTP figure.');
}

async function measureAlg(ctx: Context, alg: string, rows: string[][]): Promise<void> {
  const { opts } = ctx;
  const dataDir = tempDir(`core-${alg}`);
  const servers: Server[] = [];
  try {
    progress(`core ${alg}: starting keymint serve and oidc-provider on core ${opts.serverCore}`);
    const creds = await createClient(keymintAt(ctx, dataDir), opts.loadCore);
    const km = await startKeymint(keymintAt(ctx, dataDir, { alg }));
    if (!km.ok) throw new Error(`keymint serve --alg ${alg} refused to start: ${km.reason}`);
    servers.push(km.server);
    const op = await startOidcProvider(opts.serverCore, alg);
    if (!op.ok) throw new Error(`oidc-provider ${alg} did not start: ${op.reason}`);
    servers.push(op.server);

    const kmReq = OAUTH2.request(km.server.base, creds);
    const opReq = OIDC_PROVIDER.request(op.server.base, { clientId: 'bench', clientSecret: OIDC_SECRET });
    await checkToken(`keymint ${alg}`, kmReq, OAUTH2.token, alg);
    await checkToken(`oidc-provider ${alg}`, opReq, OIDC_PROVIDER.token, alg);
    progress(`core ${alg}: both answer with a ${alg} JWT`);
    await warmUp(ctx, `keymint ${alg}`, kmReq);
    await warmUp(ctx, `oidc-provider ${alg}`, opReq);

    const sign = new Series<number>(`raw node:crypto ${alg} signing`, (n) => n);
    const keymint = loadSeries(`keymint ${alg}`);
    const oidc = loadSeries(`oidc-provider ${alg}`);
    for (let r = 1; r <= opts.rounds; r++) {
      const rate = sign.add(await signRate(ctx, alg));
      progress(`${sign.label} round ${r}/${opts.rounds}: ${int(rate)} signatures/s`);
      await round(ctx, keymint, kmReq, r);
      await round(ctx, oidc, opReq, r);
    }

    const k = keymint.pick(opts.pick);
    const o = oidc.pick(opts.pick);
    const s = sign.pick(opts.pick);
    if (!k || !o || s === undefined) return;
    const kRates = rates(keymint);
    const vsSign = pairedRatio(kRates, sign.rounds, opts.pick);
    const vsOidc = pairedRatio(kRates, rates(oidc), opts.pick);
    rows.push([alg, '**Keymint** oauth2', int(k.rps), ms(k.p50), ms(k.p99), keymint.spread(int, (r) => r.rps), '']);
    rows.push([alg, 'raw node:crypto signing', int(s), '', '', sign.spread(int), ratio(vsSign)]);
    rows.push([alg, 'oidc-provider 9', int(o.rps), ms(o.p50), ms(o.p99), oidc.spread(int, (r) => r.rps), ratio(vsOidc)]);

    const goal = GOALS[alg] ?? {};
    if (goal.sign !== undefined) {
      const detail = ratioDetail(kRates, sign.rounds, opts.pick);
      ctx.report.target(`${alg} tokens/s vs raw signatures/s`, `${ratio(vsSign)}${detail ? ` (${detail})` : ''}`, `≥ ${goal.sign}×`, Number.isFinite(vsSign) ? vsSign >= goal.sign : undefined);
    }
    if (goal.oidc !== undefined) {
      const detail = ratioDetail(kRates, rates(oidc), opts.pick);
      ctx.report.target(`${alg} vs oidc-provider ${alg}`, `${ratio(vsOidc)}${detail ? ` (${detail})` : ''}`, `≥ ${goal.oidc}×`, Number.isFinite(vsOidc) ? vsOidc >= goal.oidc : undefined);
    }
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dataDir);
  }
}

/** One round of the raw signing reference, pinned to the server core. */
async function signRate(ctx: Context, alg: string): Promise<number> {
  const out = await runPinned(ctx.opts.serverCore, NODE, [join(ROOT, 'bench/sign-rate.ts'), alg, String(ctx.opts.duration)], (ctx.opts.duration + 30) * 1000);
  return (JSON.parse(out.trim()) as { rate: number }).rate;
}

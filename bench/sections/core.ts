/**
 * Keymint's oauth2 token endpoint (client_credentials, Basic) per algorithm, next to three references
 * on the same server core: the raw node:crypto signing rate, a minimal node:http endpoint that only
 * signs (bench/minimal-server.ts, the ceiling), and oidc-provider with the same algorithm. Every
 * round runs all four, in an order that rotates from round to round, so drift on a shared machine
 * lands on each alike; ratios are medians of per-round ratios. Each server's CPU time per token comes
 * from its own accounting (bench/proc-stats.ts).
 */
import { join } from 'node:path';
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import type { LoadResult } from '../load.ts';
import { NODE, removeTempDir, ROOT, runPinned, tempDir } from '../procs.ts';
import { OAUTH2, OIDC_PROVIDER, MINIMAL } from '../recipes.ts';
import { cpuPerToken, int, loadSeries, median, ms, pairedRatio, progress, ratio, ratioDetail, rates, Series } from '../rounds.ts';
import { checkToken, createClient, OIDC_SECRET, startKeymint, startMinimal, startOidcProvider, type Server } from '../servers.ts';

interface Goals {
  /** Keymint ÷ raw signatures/s. */
  readonly sign?: number;
  /** Keymint ÷ oidc-provider. */
  readonly oidc?: number;
  /** Keymint ÷ the minimal endpoint. */
  readonly minimal?: number;
  /** Keymint's CPU-µs per token may exceed one raw signature by at most this much. */
  readonly cpuOverSignUs?: number;
}

const GOALS: Record<string, Goals> = {
  RS256: { sign: 0.9, oidc: 1.5, minimal: 0.97, cpuOverSignUs: 50 },
  EdDSA: { sign: 0.45, oidc: 2.5, minimal: 0.9 },
};

export async function coreSection(ctx: Context): Promise<void> {
  const table = ctx.report.table(`oauth2 token endpoint vs references (${ctx.opts.connections} connections)`, [
    'alg',
    'target',
    'tokens/s',
    'p50',
    'p99',
    'p99.9',
    'CPU-µs / token',
    'rounds (tokens/s)',
    'Keymint ÷ this',
  ]);
  for (const alg of ctx.opts.algs) await measureAlg(ctx, alg, table.rows);
  table.notes.push(
    'The signing row is signatures/s of node:crypto alone in a loop (bench/sign-rate.ts), not an HTTP figure; its CPU-µs is one signature.',
    'The minimal endpoint (bench/minimal-server.ts) reads the request, signs a JWT of the same claims inline and answers: no parsing, client, limits or metrics.',
    'CPU-µs / token: the server process\'s CPU time over the round (every thread: event loop, threadpool, GC), from /proc, divided by its 2xx answers; median of rounds.',
  );
}

async function measureAlg(ctx: Context, alg: string, rows: string[][]): Promise<void> {
  const { opts } = ctx;
  const dataDir = tempDir(`core-${alg}`);
  const servers: Server[] = [];
  try {
    progress(`core ${alg}: starting keymint serve, the minimal endpoint and oidc-provider on core ${opts.serverCore}`);
    const creds = await createClient(keymintAt(ctx, dataDir), opts.loadCore);
    const start = async (what: string, started: Awaited<ReturnType<typeof startKeymint>>): Promise<Server> => {
      if (!started.ok) throw new Error(`${what} did not start: ${started.reason}`);
      servers.push(started.server);
      return started.server;
    };
    const km = await start(`keymint serve --alg ${alg}`, await startKeymint(keymintAt(ctx, dataDir, { alg })));
    const mini = await start(`minimal endpoint ${alg}`, await startMinimal(opts.serverCore, alg));
    const op = await start(`oidc-provider ${alg}`, await startOidcProvider(opts.serverCore, alg));

    const kmReq = OAUTH2.request(km.base, creds);
    const miniReq = MINIMAL.request(mini.base, creds);
    const opReq = OIDC_PROVIDER.request(op.base, { clientId: 'bench', clientSecret: OIDC_SECRET });
    await checkToken(`keymint ${alg}`, kmReq, OAUTH2.token, alg);
    await checkToken(`minimal ${alg}`, miniReq, MINIMAL.token, alg);
    await checkToken(`oidc-provider ${alg}`, opReq, OIDC_PROVIDER.token, alg);
    progress(`core ${alg}: all three answer with a ${alg} JWT`);
    await warmUp(ctx, `keymint ${alg}`, kmReq);
    await warmUp(ctx, `minimal ${alg}`, miniReq);
    await warmUp(ctx, `oidc-provider ${alg}`, opReq);

    const sign = new Series<SignRound>(`raw node:crypto ${alg} signing`, (n) => n.rate);
    const keymint = loadSeries(`keymint ${alg}`);
    const minimal = loadSeries(`minimal endpoint ${alg}`);
    const oidc = loadSeries(`oidc-provider ${alg}`);
    const steps: Array<(r: number) => Promise<unknown>> = [
      async (r) => {
        const x = sign.add(await signRate(ctx, alg));
        progress(`${sign.label} round ${r}/${opts.rounds}: ${int(x.rate)} signatures/s, ${int(x.cpuUs)} CPU-µs each`);
      },
      (r) => round(ctx, keymint, kmReq, r, km),
      (r) => round(ctx, minimal, miniReq, r, mini),
      (r) => round(ctx, oidc, opReq, r, op),
    ];
    for (let r = 1; r <= opts.rounds; r++) {
      for (let i = 0; i < steps.length; i++) await steps[(i + r - 1) % steps.length]!(r);
    }

    const k = keymint.pick(opts.pick);
    const m = minimal.pick(opts.pick);
    const o = oidc.pick(opts.pick);
    const s = sign.pick(opts.pick);
    if (!k || !m || !o || s === undefined) return;
    const kRates = rates(keymint);
    const signRates = sign.rounds.map((x) => x.rate);
    const vs = {
      sign: pairedRatio(kRates, signRates, opts.pick),
      minimal: pairedRatio(kRates, rates(minimal), opts.pick),
      oidc: pairedRatio(kRates, rates(oidc), opts.pick),
    };
    const cpu = (series: Series<LoadResult>) => median(series.rounds.map(cpuPerToken));
    const signUs = median(sign.rounds.map((x) => x.cpuUs));
    const row = (target: string, x: LoadResult, series: Series<LoadResult>, versus: string) => [alg, target, int(x.rps), ms(x.p50), ms(x.p99), ms(x.p999 ?? NaN), int(cpu(series)), series.spread(int, (v) => v.rps), versus];
    rows.push(row('**Keymint** oauth2', k, keymint, ''));
    rows.push([alg, 'raw node:crypto signing', int(s.rate), '', '', '', int(signUs), sign.spread(int, (x) => x.rate), ratio(vs.sign)]);
    rows.push(row('minimal node:http endpoint', m, minimal, ratio(vs.minimal)));
    rows.push(row('oidc-provider 9', o, oidc, ratio(vs.oidc)));

    const goal = GOALS[alg] ?? {};
    const target = (name: string, x: number, against: readonly number[], min: number | undefined) => {
      if (min === undefined) return;
      const detail = ratioDetail(kRates, against, opts.pick);
      ctx.report.target(name, `${ratio(x)}${detail ? ` (${detail})` : ''}`, `≥ ${min}×`, Number.isFinite(x) ? x >= min : undefined);
    };
    target(`${alg} tokens/s vs raw signatures/s`, vs.sign, signRates, goal.sign);
    target(`${alg} vs oidc-provider ${alg}`, vs.oidc, rates(oidc), goal.oidc);
    target(`${alg} vs the minimal endpoint`, vs.minimal, rates(minimal), goal.minimal);
    if (goal.cpuOverSignUs !== undefined) {
      // Per round: Keymint's CPU-µs per token minus that round's raw signature time.
      const over = keymint.rounds.map((x, i) => cpuPerToken(x) - (sign.rounds[i]?.cpuUs ?? NaN));
      const extra = median(over);
      ctx.report.target(
        `${alg} CPU-µs per token over one raw signature`,
        `${int(cpu(keymint))} µs − ${int(signUs)} µs = ${int(extra)} µs (median of rounds ${over.map((x) => int(x)).join(', ')}; minimal endpoint ${int(cpu(minimal))} µs, oidc-provider ${int(cpu(oidc))} µs)`,
        `≤ ${goal.cpuOverSignUs} µs`,
        Number.isFinite(extra) ? extra <= goal.cpuOverSignUs : undefined,
      );
    }
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dataDir);
  }
}

interface SignRound {
  /** Signatures per second of wall time. */
  readonly rate: number;
  /** CPU time per signature. */
  readonly cpuUs: number;
}

/** One round of the raw signing reference, pinned to the server core. */
async function signRate(ctx: Context, alg: string): Promise<SignRound> {
  const out = await runPinned(ctx.opts.serverCore, NODE, [join(ROOT, 'bench/sign-rate.ts'), alg, String(ctx.opts.duration)], (ctx.opts.duration + 30) * 1000);
  return JSON.parse(out.trim()) as SignRound;
}

/**
 * Issue 13: the `oauth2` token endpoint (RS256, client_credentials) for three kinds of client on one
 * server, rounds alternating: `client_secret_basic`; `private_key_jwt` (a fresh ES256 assertion per
 * request); `client_secret_basic` with a fresh ES256 DPoP proof per request. Every request of every
 * row comes from the same generator (bench/signed-load.ts), which signs on the load core. Goal: each
 * costs at most one extra signature verification.
 *
 * Both sides of that comparison are CPU time on the server core, so that other processes on a shared
 * machine count on neither: the extra is the server's CPU-µs per token (read from /proc over the
 * round) minus Basic's, median of the per-round differences; the reference is the CPU-µs of one ES256
 * signature check by the server's own code (bench/verify-rate.ts: src/tokens/jws-verify.ts, a key
 * imported once), everything else a proof or an assertion costs being the overhead the goal allows
 * none of. Where /proc is missing, the extra falls back to 1/rate − 1/rate of Basic.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accounted, keymintAt, type Context } from '../context.ts';
import type { LoadResult } from '../load.ts';
import { NODE, removeTempDir, ROOT, runPinned, tempDir } from '../procs.ts';
import { cpuPerToken, describe, failureShare, int, loadSeries, median, ms, progress, Series } from '../rounds.ts';
import { createClient, runKeymintCli, startKeymint } from '../servers.ts';

type Row = { readonly label: string; readonly auth: 'client_secret_basic' | 'private_key_jwt'; readonly dpop: boolean };
const ROWS: readonly Row[] = [
  { label: 'client_secret_basic', auth: 'client_secret_basic', dpop: false },
  { label: 'private_key_jwt (ES256 assertion)', auth: 'private_key_jwt', dpop: false },
  { label: 'client_secret_basic + DPoP (ES256 proof)', auth: 'client_secret_basic', dpop: true },
];

export async function senderSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const dataDir = tempDir('sender');
  try {
    // No load shedding: on a busy machine the event-loop delay passes its limit and 503s replace
    // tokens, in every row alike; this section measures what a token costs, not overload.
    const options = keymintAt(ctx, dataDir);
    const at = { ...options, extraFlags: ['--max-event-loop-delay-ms', '0', ...options.extraFlags] };
    const basic = await createClient(at, opts.loadCore);
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwksFile = join(dataDir, 'bench-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256' }] }));
    const created = JSON.parse(await runKeymintCli(at, opts.loadCore, ['clients', 'create', '--name', 'bench-pkjwt', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--json'])) as { client_id: string };
    const km = await startKeymint(at);
    if (!km.ok) throw new Error(`keymint serve refused to start: ${km.reason}`);
    try {
      const base = km.server.base;
      // The issuer of a server started on a port is http://localhost:<port>: the assertion audience and the proof htu name it.
      const issuer = base.replace('127.0.0.1', 'localhost');
      const spec = (row: Row) => ({
        url: `${base}/oauth2/token`,
        htu: `${issuer}/oauth2/token`,
        connections: opts.connections,
        clientId: row.auth === 'private_key_jwt' ? created.client_id : basic.clientId,
        auth: row.auth,
        clientSecret: basic.clientSecret,
        keyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        kid: 'bench',
        audience: issuer,
        dpop: row.dpop,
      });
      const load = async (row: Row, seconds: number): Promise<LoadResult> => {
        return accounted(km.server, async () => {
          const out = await runPinned(opts.loadCore, NODE, [join(ROOT, 'bench/signed-load.ts'), JSON.stringify({ ...spec(row), seconds })], (seconds + 30) * 1000);
          const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<LoadResult, 'rps'>;
          return { ...r, rps: r.ok / r.seconds };
        });
      };
      for (const row of ROWS) {
        const probe = await load(row, 1);
        if (probe.ok === 0) throw new Error(`${row.label}: no token in a 1 s probe (${describe(probe)})`);
        if (opts.warmup > 0) await load(row, opts.warmup);
      }
      const series = ROWS.map((row) => loadSeries(row.label));
      for (let r = 1; r <= opts.rounds; r++) {
        for (const [i, row] of ROWS.entries()) {
          const result = series[i]!.add(await load(row, opts.duration));
          ctx.report.round(failureShare(result) > 0.01, result.statuses);
          progress(`${row.label} round ${r}/${opts.rounds}: ${describe(result)}`);
        }
      }
      const verify = new Series<Reference>('ES256 verification (server core)', (v) => -v.micros);
      for (let r = 1; r <= opts.rounds; r++) verify.add(await verifyMicros(ctx));
      const verifyUs = verify.pick(opts.pick)?.micros;
      const joseUs = verify.pick(opts.pick)?.joseMicros;
      const basicRate = series[0]!.pick(opts.pick)?.rps;
      const table = ctx.report.table('oauth2 token endpoint by client authentication (RS256 tokens, 64 connections, rounds alternating)', [
        'client',
        'tokens/s',
        'p50',
        'p99',
        'rounds (tokens/s)',
        'server CPU-µs per token',
        'extra CPU-µs per token vs Basic',
        'extra µs per token vs Basic (from tokens/s)',
      ]);
      for (const [i, row] of ROWS.entries()) {
        const picked = series[i]!.pick(opts.pick);
        if (!picked) continue;
        // Per round against the Basic round just before it (rounds alternate), then the median;
        // rounds with more than 1% failures are left out (their answers are not tokens).
        const extraCpu = median(series[i]!.rounds.map((x, r) => tokenCpu(x) - tokenCpu(series[0]!.rounds[r]!)));
        const extraWall = basicRate === undefined ? NaN : 1e6 / picked.rps - 1e6 / basicRate;
        table.rows.push([row.label, int(picked.rps), ms(picked.p50), ms(picked.p99), series[i]!.spread(int, (x) => x.rps), int(median(series[i]!.rounds.map(tokenCpu))), i === 0 ? '' : int(extraCpu), i === 0 ? '' : int(extraWall)]);
        if (i > 0 && verifyUs !== undefined) {
          const byCpu = Number.isFinite(extraCpu);
          const extraUs = byCpu ? extraCpu : extraWall;
          ctx.report.target(
            `${row.label}: extra ${byCpu ? 'server CPU' : 'time'} per token`,
            `${int(extraUs)} µs (one ES256 verification: ${int(verifyUs)} CPU-µs)`,
            '≤ one verification',
            Number.isFinite(extraUs) ? extraUs <= verifyUs : undefined,
          );
        }
      }
      table.notes.push(
        'Every request is built anew by bench/signed-load.ts (fresh assertion jti, fresh proof jti), Basic included, so the rows differ only in what the server checks.',
        `Extra CPU-µs per token: the server's CPU time per token (all its threads, from /proc) minus Basic's in the round before, median of the rounds; it does not depend on how much of the core other processes took.`,
        `One ES256 verification as the server does it (its own signature check, src/tokens/jws-verify.ts: node:crypto on a key imported once; bench/verify-rate.ts) on the server core: ${verifyUs === undefined ? 'n/a' : `${int(verifyUs)} CPU-µs`} (rounds: ${verify.spread((n) => int(-n))}); through jose's jwtVerify: ${joseUs === undefined ? 'n/a' : `${int(joseUs)} CPU-µs`}.`,
      );
    } finally {
      await km.server.stop();
    }
  } finally {
    removeTempDir(dataDir);
  }
}

/** CPU-µs per token of a round, NaN for a round with more than 1% failures. */
const tokenCpu = (r: LoadResult): number => (failureShare(r) > 0.01 ? NaN : cpuPerToken(r));

interface Reference {
  /** CPU-µs of one ES256 verification as the server does it (node:crypto, key imported once). */
  readonly micros: number;
  /** The same through jose's jwtVerify, for comparison. */
  readonly joseMicros: number;
}

/** The reference (bench/verify-rate.ts), on the server core. */
async function verifyMicros(ctx: Context): Promise<Reference> {
  const out = await runPinned(ctx.opts.serverCore, NODE, [join(ROOT, 'bench/verify-rate.ts'), String(Math.min(ctx.opts.duration, 5))], 60_000);
  return JSON.parse(out.trim()) as Reference;
}

/**
 * Latency at half capacity, per algorithm, at 16 and at 64 connections, on one pinned core. Each
 * round first measures the capacity (closed loop) and then offers half of it with the paced
 * open-loop generator (bench/paced-load.ts) on the same warmed server, so the rate follows the
 * machine's state at that moment. Three independent views of every paced run separate the causes
 * of a tail:
 * - the paced generator's latency (from each request's scheduled time), its own lateness in
 *   sending and the gaps between its own turns (its pauses: preempted, or its GC);
 * - a second, low-rate probe generator (its own process, one connection, 100 requests/s) on the
 *   same server: a tail the main generator sees but the probe does not is the main generator's;
 * - the server's own time per request (node:http's 'request' event to the answer written), its
 *   event-loop delay and GC pauses (bench/server-probe.ts) and how long its threads waited for the
 *   core (bench/proc-stats.ts): a tail with none of these is outside the server.
 * Both generators first send WARMUP_S seconds at the same rate that are not counted, so their own
 * start (process, JIT, the other generator starting beside it on the load core) stays out.
 * Target: p99 ≤ 5 ms.
 */
import { accounted, keymintAt, round, warmUp, type Context } from '../context.ts';
import { histogramText } from '../latency.ts';
import { pacedLoad, type LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { describe, failureShare, int, loadSeries, ms, progress, Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint } from '../servers.ts';

const P99_GOAL_MS = 5;
const CONNECTIONS = [16, 64] as const;
const PROBE_RATE = 100;
const WARMUP_S = 1;

interface HalfRound {
  readonly capacity: number;
  readonly rate: number;
  readonly result: LoadResult;
  readonly probe: LoadResult;
}

export async function halfSection(ctx: Context): Promise<void> {
  const table = ctx.report.table('Latency at half capacity (paced open loop, one pinned core)', [
    'alg',
    'connections',
    'offered (½ capacity)',
    'p50',
    'p99',
    'p99.9',
    'histogram of answers',
    'probe p99',
    'generator lag p99 / pauses',
    'server time p99 / max',
    'server loop delay p99 / max',
    'server GC max',
    'rounds: p99',
  ]);
  for (const alg of ctx.opts.algs) await measureAlg(ctx, alg, table.rows);
  table.notes.push(
    'Each round measures capacity (closed loop) and then offers half of it at even intervals (bench/paced-load.ts); latency counts from each request\'s scheduled send time, so a stall is not hidden by a waiting generator.',
    `Both generators send ${WARMUP_S} s at the same rate before the measured seconds, not counted by them (their own start; the server-side figures cover it too). probe: a second generator in its own process, one connection, ${PROBE_RATE} requests/s, on the same server at the same time. generator lag: how late the paced generator itself sent; pauses: gaps over 1 ms between its own turns (count, longest). Server time (from node:http's request event to the answer written), loop delay and GC: bench/server-probe.ts inside the server process.`,
  );
}

async function measureAlg(ctx: Context, alg: string, rows: string[][]): Promise<void> {
  const { opts } = ctx;
  const dataDir = tempDir(`half-${alg}`);
  const creds = await createClient(keymintAt(ctx, dataDir), opts.loadCore);
  const km = await startKeymint(keymintAt(ctx, dataDir, { alg }));
  if (!km.ok) throw new Error(`keymint serve refused to start: ${km.reason}`);
  try {
    const req = OAUTH2.request(km.server.base, creds);
    await checkToken(`keymint ${alg}`, req, OAUTH2.token, alg);
    await warmUp(ctx, `keymint ${alg}`, req);
    const capacity = loadSeries(`keymint ${alg} capacity`);
    const series = new Map(CONNECTIONS.map((c) => [c, new Series<HalfRound>(`keymint ${alg} at half capacity, ${c} connections`, (r) => (failureShare(r.result) > 0.01 ? -Infinity : -r.result.p99))]));
    for (let r = 1; r <= opts.rounds; r++) {
      const cap = await round(ctx, capacity, req, r, km.server);
      const rate = Math.max(1, Math.floor(cap.rps / 2));
      for (const connections of r % 2 ? CONNECTIONS : [...CONNECTIONS].reverse()) {
        const s = series.get(connections)!;
        const [result, probe] = await Promise.all([
          accounted(km.server, () => pacedLoad(req, { connections, seconds: opts.duration, warmup: WARMUP_S, core: opts.loadCore, rate })),
          pacedLoad(req, { connections: 1, seconds: opts.duration, warmup: WARMUP_S, core: opts.loadCore, rate: PROBE_RATE }),
        ]);
        s.add({ capacity: cap.rps, rate, result, probe });
        ctx.report.round(failureShare(result) > 0.01, result.statuses);
        progress(`${s.label} (${int(rate)}/s offered) round ${r}/${opts.rounds}: ${describe(result)}; p99.9 ${ms(result.p999 ?? NaN)}, generator lag p99 ${ms(result.lag?.p99 ?? NaN)}, ${pauses(result)}, server time p99 ${ms(result.probe?.requests?.p99 ?? NaN)}, probe p99 ${ms(probe.p99)}`);
      }
    }
    for (const connections of CONNECTIONS) {
      const s = series.get(connections)!;
      const picked = s.pick(opts.pick);
      if (!picked) continue;
      const p = picked.result;
      const eld = p.probe?.eventLoopDelay;
      rows.push([
        alg,
        String(connections),
        `${int(picked.rate)}/s (½ × ${int(picked.capacity)})`,
        ms(p.p50),
        ms(p.p99),
        ms(p.p999 ?? NaN),
        histogramText(p.latency?.histogram ?? []),
        ms(picked.probe.p99),
        `${ms(p.lag?.p99 ?? NaN)} / ${pauses(p)}`,
        p.probe?.requests ? `${ms(p.probe.requests.p99)} / ${ms(p.probe.requests.max)}` : 'n/a',
        eld ? `${ms(eld.p99)} / ${ms(eld.max)}` : 'n/a',
        p.probe ? ms(p.probe.gc.maxMs) : 'n/a',
        s.rounds.map((x) => ms(x.result.p99)).join(', '),
      ]);
      ctx.report.target(`p99 at half capacity (${alg}, ${connections} connections)`, `${ms(p.p99)} at ${int(picked.rate)}/s`, `≤ ${P99_GOAL_MS} ms`, failureShare(p) <= 0.01 && p.p99 <= P99_GOAL_MS);
    }
  } finally {
    await km.server.stop();
    removeTempDir(dataDir);
  }
}

/** "3 pauses, longest 1.40 ms": the paced generator's own gaps over 1 ms. */
function pauses(r: LoadResult): string {
  if (!r.pauses) return 'pauses n/a';
  return r.pauses.count ? `${r.pauses.count} pauses, longest ${ms(r.pauses.maxMs)}` : 'no pauses';
}

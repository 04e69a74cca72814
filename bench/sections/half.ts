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
 * In every round the minimal endpoint (bench/minimal-server.ts, on the same core) takes the same
 * paced load right before or after Keymint, the order alternating: the tail of a server that only
 * signs, at the same rate on the same machine at the same moment, is the share of the tail no
 * token server on that machine avoids.
 * Target: p99 ≤ 5 ms.
 */
import { accounted, keymintAt, round, warmUp, type Context } from '../context.ts';
import { histogramText } from '../latency.ts';
import { pacedLoad, type LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { MINIMAL, OAUTH2 } from '../recipes.ts';
import { describe, failureShare, int, loadSeries, ms, progress, Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint, startMinimal, type Server } from '../servers.ts';
import type { TokenRequest } from '../load.ts';

const P99_GOAL_MS = 5;
const CONNECTIONS = [16, 64] as const;
const PROBE_RATE = 100;
const WARMUP_S = 1;

interface HalfRound {
  readonly capacity: number;
  readonly rate: number;
  readonly result: LoadResult;
  readonly probe: LoadResult;
  /** The minimal endpoint at the same rate and connections in the same round, and its probe. */
  readonly minimal: LoadResult;
  readonly minimalProbe: LoadResult;
}

export async function halfSection(ctx: Context): Promise<void> {
  const table = ctx.report.table('Latency at half capacity (paced open loop, one pinned core)', [
    'alg',
    'connections',
    'server',
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
    'The minimal endpoint (bench/minimal-server.ts, the same core) takes the same paced load in every round, right before or after Keymint (the order alternates); its row is its own median round, and "rounds: p99" lists both servers round by round. What the minimal endpoint shows as well is the machine\'s and the generator\'s share of the tail.',
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
  const mini = await startMinimal(opts.serverCore, alg);
  try {
    if (!mini.ok) throw new Error(`the minimal endpoint did not start: ${mini.reason}`);
    const req = OAUTH2.request(km.server.base, creds);
    const miniReq = MINIMAL.request(mini.server.base, creds);
    await checkToken(`keymint ${alg}`, req, OAUTH2.token, alg);
    await checkToken(`minimal ${alg}`, miniReq, MINIMAL.token, alg);
    await warmUp(ctx, `keymint ${alg}`, req);
    await warmUp(ctx, `minimal ${alg}`, miniReq);
    const capacity = loadSeries(`keymint ${alg} capacity`);
    const series = new Map(CONNECTIONS.map((c) => [c, new Series<HalfRound>(`keymint ${alg} at half capacity, ${c} connections`, (r) => (failureShare(r.result) > 0.01 ? -Infinity : -r.result.p99))]));
    let pairs = 0;
    for (let r = 1; r <= opts.rounds; r++) {
      const cap = await round(ctx, capacity, req, r, km.server);
      const rate = Math.max(1, Math.floor(cap.rps / 2));
      for (const connections of r % 2 ? CONNECTIONS : [...CONNECTIONS].reverse()) {
        const s = series.get(connections)!;
        const paced = (target: TokenRequest, server: Server) => pacedPair(ctx, target, server, connections, rate);
        const keymintFirst = pairs++ % 2 === 0;
        const first = await paced(keymintFirst ? req : miniReq, keymintFirst ? km.server : mini.server);
        const second = await paced(keymintFirst ? miniReq : req, keymintFirst ? mini.server : km.server);
        const [[result, probe], [minimal, minimalProbe]] = keymintFirst ? [first, second] : [second, first];
        s.add({ capacity: cap.rps, rate, result, probe, minimal, minimalProbe });
        ctx.report.round(failureShare(result) > 0.01, result.statuses);
        progress(`${s.label} (${int(rate)}/s offered) round ${r}/${opts.rounds}: ${describe(result)}; p99.9 ${ms(result.p999 ?? NaN)}, generator lag p99 ${ms(result.lag?.p99 ?? NaN)}, ${pauses(result)}, server time p99 ${ms(result.probe?.requests?.p99 ?? NaN)}, probe p99 ${ms(probe.p99)}; minimal endpoint p99 ${ms(minimal.p99)}`);
      }
    }
    for (const connections of CONNECTIONS) {
      const s = series.get(connections)!;
      const picked = s.pick(opts.pick);
      if (!picked) continue;
      const row = (server: string, p: LoadResult, probe: LoadResult, p99s: string) => {
        const eld = p.probe?.eventLoopDelay;
        rows.push([
          alg,
          String(connections),
          server,
          `${int(picked.rate)}/s (½ × ${int(picked.capacity)})`,
          ms(p.p50),
          ms(p.p99),
          ms(p.p999 ?? NaN),
          histogramText(p.latency?.histogram ?? []),
          ms(probe.p99),
          `${ms(p.lag?.p99 ?? NaN)} / ${pauses(p)}`,
          p.probe?.requests ? `${ms(p.probe.requests.p99)} / ${ms(p.probe.requests.max)}` : 'n/a',
          eld ? `${ms(eld.p99)} / ${ms(eld.max)}` : 'n/a',
          p.probe ? ms(p.probe.gc.maxMs) : 'n/a',
          p99s,
        ]);
      };
      const p = picked.result;
      row('**Keymint**', p, picked.probe, s.rounds.map((x) => ms(x.result.p99)).join(', '));
      const m = [...s.rounds].sort((a, b) => a.minimal.p99 - b.minimal.p99)[Math.floor((s.rounds.length - 1) / 2)]!;
      row('minimal endpoint, same rate', m.minimal, m.minimalProbe, s.rounds.map((x) => ms(x.minimal.p99)).join(', '));
      ctx.report.target(`p99 at half capacity (${alg}, ${connections} connections)`, `${ms(p.p99)} at ${int(picked.rate)}/s`, `≤ ${P99_GOAL_MS} ms`, failureShare(p) <= 0.01 && p.p99 <= P99_GOAL_MS);
    }
  } finally {
    await km.server.stop();
    if (mini.ok) await mini.server.stop();
    removeTempDir(dataDir);
  }
}

/** One paced run against `server` with the probe generator beside it, accounted on that server. */
async function pacedPair(ctx: Context, req: TokenRequest, server: Server, connections: number, rate: number): Promise<[LoadResult, LoadResult]> {
  const { opts } = ctx;
  return Promise.all([
    accounted(server, () => pacedLoad(req, { connections, seconds: opts.duration, warmup: WARMUP_S, core: opts.loadCore, rate })),
    pacedLoad(req, { connections: 1, seconds: opts.duration, warmup: WARMUP_S, core: opts.loadCore, rate: PROBE_RATE }),
  ]);
}

/** "3 pauses, longest 1.40 ms": the paced generator's own gaps over 1 ms. */
function pauses(r: LoadResult): string {
  if (!r.pauses) return 'pauses n/a';
  return r.pauses.count ? `${r.pauses.count} pauses, longest ${ms(r.pauses.maxMs)}` : 'no pauses';
}

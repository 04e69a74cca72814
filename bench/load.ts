/**
 * Load generators, each run as its own process pinned to the load core: wrk (with bench/wrk-token.lua)
 * when it is on PATH, else autocannon (bench/autocannon-runner.ts), and the paced open-loop generator
 * (bench/paced-load.ts) for latency at a fixed rate. Every run is bounded in time (and the paced one in
 * count) and only ever targets 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { LatencySummary } from './latency.ts';
import type { LoaderChoice } from './options.ts';
import type { CpuDelta } from './proc-stats.ts';
import type { ProbeStats } from './servers.ts';
import { NODE, ROOT, runPinned } from './procs.ts';

export interface TokenRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface LoadResult {
  /** 2xx answers. */
  readonly ok: number;
  /** Non-2xx answers, socket errors and timeouts. */
  readonly failed: number;
  readonly seconds: number;
  /** 2xx answers per second: tokens/s. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p90?: number;
  readonly p999?: number;
  readonly max?: number;
  /** Non-2xx answers by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Paced load: every latency, summarised with a histogram. */
  readonly latency?: LatencySummary;
  /** Paced load: how late the generator itself sent each request (its own pauses). */
  readonly lag?: LatencySummary;
  /** Paced load: gaps over 1 ms between the generator's own turns (it was preempted, or in its GC). */
  readonly pauses?: { readonly count: number; readonly totalMs: number; readonly maxMs: number };
  /** The server's own CPU accounting over the round (bench/proc-stats.ts). */
  readonly cpu?: CpuDelta;
  /** The server's own event-loop delay and GC over the round (bench/server-probe.ts). */
  readonly probe?: ProbeStats;
}

export type Loader = 'wrk' | 'autocannon';

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export function resolveLoader(choice: LoaderChoice): Loader {
  if (choice === 'wrk' && !onPath('wrk')) throw new Error('--loader wrk: wrk is not on PATH');
  if (choice === 'auto') return onPath('wrk') ? 'wrk' : 'autocannon';
  return choice;
}

export function loaderVersion(loader: Loader): string {
  if (loader === 'autocannon') return 'autocannon 9 (bench/autocannon-runner.ts)';
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return (`${out.stdout}${out.stderr}`.match(/wrk \S+/)?.[0] ?? 'wrk') + ' (bench/wrk-token.lua)';
}

function assertLoopback(url: string): void {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to load anything but 127.0.0.1: ${url}`);
}

export interface ClosedLoop {
  readonly connections: number;
  readonly seconds: number;
  /** Core to pin the generator to; < 0: unpinned. */
  readonly core: number;
  /** wrk threads (default 1); autocannon is one thread whatever this says. */
  readonly threads?: number;
}

/** As many requests as `connections` keep-alive connections can carry for `seconds`. */
export async function closedLoop(loader: Loader, req: TokenRequest, opts: ClosedLoop): Promise<LoadResult> {
  assertLoopback(req.url);
  const seconds = Math.max(1, Math.round(opts.seconds)); // wrk takes whole seconds
  const timeoutMs = (seconds + 30) * 1000;
  if (loader === 'wrk') {
    const args = [`-t${opts.threads ?? 1}`, `-c${opts.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(ROOT, 'bench/wrk-token.lua'), req.url];
    const env = { BENCH_WRK_BODY: req.body, BENCH_WRK_HEADERS: Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\n') };
    const out = await runPinned(opts.core, 'wrk', args, timeoutMs, { env });
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number> & { statuses: Record<string, number> };
    const n = (k: string) => r[k] ?? 0;
    const elapsed = n('duration_us') / 1e6;
    const notOk = Object.values(r.statuses).reduce((a, b) => a + b, 0);
    const ok = Math.max(0, n('requests') - notOk);
    const failed = notOk + n('connect') + n('read') + n('write') + n('timeout');
    const ms = (k: string) => n(k) / 1000;
    return { ok, failed, seconds: elapsed, rps: ok / elapsed, p50: ms('p50_us'), p90: ms('p90_us'), p99: ms('p99_us'), p999: ms('p999_us'), max: ms('max_us'), statuses: r.statuses };
  }
  const spec = JSON.stringify({ ...req, connections: opts.connections, seconds });
  const out = await runPinned(opts.core, NODE, [join(ROOT, 'bench/autocannon-runner.ts'), spec], timeoutMs);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<LoadResult, 'rps'>;
  return { ...r, rps: r.ok / r.seconds };
}

/** One closed loop per request, in parallel (e.g. one per node), connections split evenly. */
export async function closedLoopSplit(loader: Loader, reqs: readonly TokenRequest[], opts: ClosedLoop): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(opts.connections / reqs.length));
  const parts = await Promise.all(reqs.map((r) => closedLoop(loader, r, { ...opts, connections: per })));
  return combine(parts);
}

/** Sums counts and rates; p50 is weighted by answers, p99 is the worst part's (conservative). */
export function combine(parts: readonly LoadResult[]): LoadResult {
  const ok = parts.reduce((s, p) => s + p.ok, 0);
  return {
    ok,
    failed: parts.reduce((s, p) => s + p.failed, 0),
    seconds: Math.max(...parts.map((p) => p.seconds)),
    rps: parts.reduce((s, p) => s + p.rps, 0),
    p50: ok ? parts.reduce((s, p) => s + p.p50 * p.ok, 0) / ok : NaN,
    p99: Math.max(...parts.map((p) => p.p99)),
    statuses: parts.reduce<Record<string, number>>((acc, p) => {
      for (const [k, v] of Object.entries(p.statuses)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
}

export interface Paced extends ClosedLoop {
  /** Requests per second. */
  readonly rate: number;
  /** Bodies sent in turn instead of the request's own. */
  readonly bodies?: readonly string[];
  /** Seconds sent at the same rate before the measured ones and not counted (the generator's own start). */
  readonly warmup?: number;
}

/** `rate` requests per second at even intervals (open loop), latency from the scheduled send time. */
export async function pacedLoad(req: TokenRequest, opts: Paced): Promise<LoadResult> {
  assertLoopback(req.url);
  const spec = JSON.stringify({ ...req, connections: opts.connections, rate: opts.rate, seconds: opts.seconds, warmup: opts.warmup ?? 0, bodies: opts.bodies });
  const out = await runPinned(opts.core, NODE, [join(ROOT, 'bench/paced-load.ts'), spec], (opts.seconds + (opts.warmup ?? 0) + 30) * 1000);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<LoadResult, 'rps' | 'p90' | 'p999'>;
  return { ...r, rps: r.ok / r.seconds, p90: r.latency?.p90 ?? NaN, p999: r.latency?.p999 ?? NaN };
}

/**
 * What every section gets: the options, the chosen load generator and the report. Plus the steps
 * every section repeats: options of a keymint server, warming a target up, measuring one round.
 */
import { availableParallelism } from 'node:os';
import { closedLoop, type LoadResult, type Loader, type TokenRequest } from './load.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';
import { cpuDelta, cpuSample } from './proc-stats.ts';
import { readProbe, type KeymintOptions, type Server } from './servers.ts';
import { describe, failureShare, progress, type Series } from './rounds.ts';

export interface Context {
  readonly opts: BenchOptions;
  readonly loader: Loader;
  readonly report: Report;
}

/** A pinned generator has one core: one thread. An unpinned one shares every core: one thread per core. */
const threads = (ctx: Context): number => (ctx.opts.loadCore < 0 ? availableParallelism() : 1);

export async function warmUp(ctx: Context, label: string, req: TokenRequest): Promise<void> {
  if (ctx.opts.warmup <= 0) return;
  progress(`${label}: warm-up ${ctx.opts.warmup} s`);
  await closedLoop(ctx.loader, req, { connections: ctx.opts.connections, seconds: ctx.opts.warmup, core: ctx.opts.loadCore, threads: threads(ctx) });
}

/**
 * One closed-loop round at full load, recorded in `series` and shown as a progress line. With the
 * `server` that answers, the round also carries that server's own CPU accounting and probe figures.
 */
export async function round(ctx: Context, series: Series<LoadResult>, req: TokenRequest, r: number, server?: Server): Promise<LoadResult> {
  const result = await accounted(server, () => closedLoop(ctx.loader, req, { connections: ctx.opts.connections, seconds: ctx.opts.duration, core: ctx.opts.loadCore, threads: threads(ctx) }));
  progress(`${series.label} round ${r}/${ctx.opts.rounds}: ${describe(result)}`);
  ctx.report.round(failureShare(result) > 0.01, result.statuses);
  return series.add(result);
}

/** Options of a `keymint serve` (and its `clients create`) under this run's settings. */
export function keymintAt(ctx: Context, dataDir: string, more: { alg?: string; dialects?: string[]; storeFlags?: string[] } = {}): KeymintOptions {
  return {
    bin: ctx.opts.keymint,
    core: ctx.opts.serverCore,
    dataDir,
    alg: more.alg ?? 'RS256',
    dialects: more.dialects ?? ['oauth2'],
    storeFlags: more.storeFlags ?? [],
    extraFlags: ctx.opts.serverFlags,
  };
}

/** Runs a load against `server` and adds its CPU accounting and probe figures over exactly that load. */
export async function accounted(server: Server | undefined, load: () => Promise<LoadResult>): Promise<LoadResult> {
  if (!server) return load();
  await readProbe(server);
  const before = cpuSample(server.proc.pid);
  const result = await load();
  const after = cpuSample(server.proc.pid);
  const probe = await readProbe(server);
  const cpu = cpuDelta(before, after);
  return { ...result, ...(cpu ? { cpu } : {}), ...(probe ? { probe } : {}) };
}

/**
 * What every section gets: the options, the chosen load generator and the report. Plus the steps
 * every section repeats: options of a keymint server, warming a target up, measuring one round.
 */
import { closedLoop, type LoadResult, type Loader, type TokenRequest } from './load.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';
import type { KeymintOptions } from './servers.ts';
import { describe, failureShare, progress, type Series } from './rounds.ts';

export interface Context {
  readonly opts: BenchOptions;
  readonly loader: Loader;
  readonly report: Report;
}

export async function warmUp(ctx: Context, label: string, req: TokenRequest): Promise<void> {
  if (ctx.opts.warmup <= 0) return;
  progress(`${label}: warm-up ${ctx.opts.warmup} s`);
  await closedLoop(ctx.loader, req, { connections: ctx.opts.connections, seconds: ctx.opts.warmup, core: ctx.opts.loadCore });
}

/** One closed-loop round at full load, recorded in `series` and shown as a progress line. */
export async function round(ctx: Context, series: Series<LoadResult>, req: TokenRequest, r: number): Promise<LoadResult> {
  const result = await closedLoop(ctx.loader, req, { connections: ctx.opts.connections, seconds: ctx.opts.duration, core: ctx.opts.loadCore });
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

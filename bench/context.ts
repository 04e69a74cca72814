/**
 * What every section gets: the options, the chosen load generator, the report, and figures that
 * later sections compare against (the single-node SQLite RS256 rate, …). Plus the two steps every
 * section repeats: warm a target up, and measure one round of it.
 */
import { closedLoop, type LoadResult, type Loader, type TokenRequest } from './load.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';
import { describe, progress, type Series } from './rounds.ts';

export interface Context {
  readonly opts: BenchOptions;
  readonly loader: Loader;
  readonly report: Report;
  /** Picked results by name, e.g. `keymint RS256`, for later sections. */
  readonly figures: Map<string, LoadResult>;
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
  return series.add(result);
}

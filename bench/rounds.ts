/**
 * Repeated measurements and progress lines. Rounds of different targets are interleaved by the
 * sections (A B C, A B C, …) so that noise from a shared machine lands on all of them alike; a
 * series keeps every round and reports the median (or best) one.
 */
import type { LoadResult } from './load.ts';
import type { Pick } from './options.ts';

const started = Date.now();

/** One progress line on stderr, with the time since the start. */
export function progress(message: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`[bench ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`);
}

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const ms = (n: number): string => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a');
export const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');

/** More than 1% non-2xx answers or socket errors: the figure is not a token rate. */
export function failureShare(r: LoadResult): number {
  return r.failed / Math.max(1, r.ok + r.failed);
}

export function describe(r: LoadResult): string {
  const codes = Object.entries(r.statuses).map(([code, n]) => `${code} ×${n}`).join(', ');
  const what = `${int(r.failed)} failed${codes ? `: ${codes}` : ''}`;
  const bad = failureShare(r) > 0.01 ? `  ⚠ ${what} (${(failureShare(r) * 100).toFixed(1)}%): not a token rate` : r.failed ? `  (${what})` : '';
  return `${int(r.rps)} tokens/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${bad}`;
}

/** The rounds of one target. */
export class Series<T> {
  readonly rounds: T[] = [];
  readonly label: string;
  readonly #score: (v: T) => number;
  /** `score`: higher is better (tokens/s, signatures/s); use a negated latency for latency series. */
  constructor(label: string, score: (v: T) => number) {
    this.label = label;
    this.#score = score;
  }
  add(value: T): T {
    this.rounds.push(value);
    return value;
  }
  /** Median round (the lower middle one for an even count) or best round by score. */
  pick(how: Pick): T | undefined {
    if (this.rounds.length === 0) return undefined;
    const sorted = [...this.rounds].sort((a, b) => this.#score(a) - this.#score(b));
    return how === 'best' ? sorted[sorted.length - 1] : sorted[Math.floor((sorted.length - 1) / 2)];
  }
  /** Spread of the rounds (by `value`, default the score), for the report: "min–max". */
  spread(fmt: (n: number) => string, value: (v: T) => number = this.#score): string {
    const s = this.rounds.map(value);
    return s.length > 1 ? `${fmt(Math.min(...s))}–${fmt(Math.max(...s))}` : '';
  }
}

export const loadSeries = (label: string): Series<LoadResult> => new Series<LoadResult>(label, (r) => (failureShare(r) > 0.01 ? -1 : r.rps));

/**
 * Ratio of two targets measured in interleaved rounds: with `median`, the median of the per-round
 * ratios (each pair ran back to back, so shared-machine noise mostly cancels); with `best`, the ratio
 * of the two best figures.
 */
export function pairedRatio(a: readonly number[], b: readonly number[], how: Pick): number {
  if (how === 'best') return Math.max(...a.filter(Number.isFinite)) / Math.max(...b.filter(Number.isFinite));
  const ratios = roundRatios(a, b).filter(Number.isFinite).sort((x, y) => x - y);
  const n = ratios.length;
  if (n === 0) return NaN;
  return n % 2 ? (ratios[(n - 1) / 2] ?? NaN) : ((ratios[n / 2 - 1] ?? NaN) + (ratios[n / 2] ?? NaN)) / 2;
}

export const roundRatios = (a: readonly number[], b: readonly number[]): number[] => a.map((x, i) => x / (b[i] ?? NaN));

/** Tokens/s of each round, NaN for a round with too many failures (left out of ratios). */
export const rates = (series: Series<LoadResult>): number[] => series.rounds.map((r) => (failureShare(r) > 0.01 ? NaN : r.rps));

/** "median of 0.91, 0.95, 1.02" for a target's measured column. */
export function ratioDetail(a: readonly number[], b: readonly number[], how: Pick): string {
  const list = roundRatios(a, b).map((x) => (Number.isFinite(x) ? x.toFixed(2) : 'failed'));
  return list.length > 1 ? `${how === 'best' ? 'best rounds; per round' : 'median of rounds'} ${list.join(', ')}` : '';
}

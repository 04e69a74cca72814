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
  const cpu = r.cpu ? `  ${int(cpuPerToken(r))} CPU-µs/token, waited ${(100 * r.cpu.waitSeconds / r.seconds).toFixed(0)}% of the round for a core` : '';
  const probe = r.probe ? `  loop delay p99 ${ms(r.probe.eventLoopDelay.p99)} max ${ms(r.probe.eventLoopDelay.max)}, GC ${r.probe.gc.minor + r.probe.gc.major}× max ${ms(r.probe.gc.maxMs)}` : '';
  return `${int(r.rps)} tokens/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${cpu}${probe}${bad}`;
}

/** Median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return NaN;
  return n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
}

/** The server's CPU time per 2xx answer over the round, µs (NaN without accounting). */
export const cpuPerToken = (r: LoadResult): number => (r.cpu && r.ok ? (r.cpu.cpuSeconds * 1e6) / r.ok : NaN);

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
  return median(roundRatios(a, b));
}

export const roundRatios = (a: readonly number[], b: readonly number[]): number[] => a.map((x, i) => x / (b[i] ?? NaN));

/** Tokens/s of each round, NaN for a round with too many failures (left out of ratios). */
export const rates = (series: Series<LoadResult>): number[] => series.rounds.map((r) => (failureShare(r) > 0.01 ? NaN : r.rps));

/** "median of 0.91, 0.95, 1.02" for a target's measured column. */
export function ratioDetail(a: readonly number[], b: readonly number[], how: Pick): string {
  const list = roundRatios(a, b).map((x) => (Number.isFinite(x) ? x.toFixed(2) : 'failed'));
  return list.length > 1 ? `${how === 'best' ? 'best rounds; per round' : 'median of rounds'} ${list.join(', ')}` : '';
}

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
  const bad = failureShare(r) > 0.01 ? `  ⚠ ${int(r.failed)} failed (${(failureShare(r) * 100).toFixed(1)}%): not a token rate` : r.failed ? `  (${r.failed} failed)` : '';
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
  /** Spread of the rounds' scores, for the report: "min–max". */
  spread(fmt: (n: number) => string): string {
    const s = this.rounds.map(this.#score);
    return s.length > 1 ? `${fmt(Math.min(...s))}–${fmt(Math.max(...s))}` : '';
  }
}

export const loadSeries = (label: string): Series<LoadResult> => new Series<LoadResult>(label, (r) => (failureShare(r) > 0.01 ? -1 : r.rps));

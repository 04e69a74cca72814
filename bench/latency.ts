/**
 * Latency summaries for the report: percentiles and a histogram with fixed bucket bounds, so rounds
 * and targets can be compared bucket by bucket.
 */

/** Upper bounds of the histogram buckets, ms; the last bucket is everything above. */
export const BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100] as const;

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Count per bucket of BUCKETS_MS, plus one for everything above the last bound. */
  readonly histogram: readonly number[];
}

export function summarize(values: Float64Array): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
  const histogram = new Array<number>(BUCKETS_MS.length + 1).fill(0);
  let b = 0;
  for (const v of sorted) {
    while (b < BUCKETS_MS.length && v > BUCKETS_MS[b]!) b++;
    histogram[b]!++;
  }
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted.length ? sorted[sorted.length - 1]! : NaN, histogram };
}

/** "≤0.5 ms 61% · ≤1 ms 30% · … " for a report cell: the share of answers per bucket, empty buckets left out. */
export function histogramText(h: readonly number[]): string {
  const total = h.reduce((a, b) => a + b, 0);
  if (total === 0) return '';
  const label = (i: number) => (i < BUCKETS_MS.length ? `≤${BUCKETS_MS[i]}` : `>${BUCKETS_MS[BUCKETS_MS.length - 1]}`);
  const pct = (n: number) => {
    const p = (100 * n) / total;
    return p >= 10 ? p.toFixed(0) : p >= 0.1 ? p.toFixed(1) : p.toFixed(2);
  };
  return h.map((n, i) => (n ? `${label(i)}: ${pct(n)}%` : '')).filter(Boolean).join(' · ');
}

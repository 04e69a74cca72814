/**
 * A small Prometheus text-format registry (exposition format 0.0.4): counters, gauges (set or
 * read at scrape time) and histograms. Label values are fixed vocabularies chosen by the code
 * (dialect, grant, result, reason), never request input, so no secret can reach a label.
 */
export type Labels = Readonly<Record<string, string>>;

/**
 * One series' map key: label names in code-unit order (any fixed order makes the key; localeCompare
 * would load ICU's collator at start), each name and value followed by a control character that no
 * name or value in this vocabulary contains. Built on every increment, so no JSON and no entry arrays.
 */
const key = (labels: Labels): string => {
  // Call sites name their labels in order already: build the key as they come, and sort only when not.
  let k = '';
  let previous = '';
  for (const name in labels) {
    if (name < previous) return sortedKey(labels);
    previous = name;
    k += `${name}\u0000${labels[name]}\u0001`;
  }
  return k;
};
const sortedKey = (labels: Labels): string => {
  let k = '';
  for (const name of Object.keys(labels).sort()) k += `${name}\u0000${labels[name]}\u0001`;
  return k;
};
const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const fmt = (labels: Labels, extra: Labels = {}): string => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  readonly #name: string;
  readonly #help: string;
  constructor(name: string, help: string) {
    this.#name = name;
    this.#help = help;
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.#values.get(k);
    if (entry) entry.value += by;
    else this.#values.set(k, { labels, value: by });
  }
  value(labels: Labels = {}): number {
    return this.#values.get(key(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.#name} ${this.#help}`, `# TYPE ${this.#name} counter`];
    for (const { labels, value } of this.#values.values()) lines.push(`${this.#name}${fmt(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => ReadonlyArray<readonly [Labels, number]>;
  constructor(name: string, help: string, read: () => ReadonlyArray<readonly [Labels, number]>) {
    this.#name = name;
    this.#help = help;
    this.#read = read;
  }
  render(): string {
    const lines = [`# HELP ${this.#name} ${this.#help}`, `# TYPE ${this.#name} gauge`];
    for (const [labels, value] of this.#read()) lines.push(`${this.#name}${fmt(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.#name = name;
    this.#help = help;
    this.#buckets = buckets;
  }
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.#series.get(k);
    if (!s) {
      s = { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.#buckets.length; i++) if (value <= this.#buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.#name} ${this.#help}`, `# TYPE ${this.#name} histogram`];
    for (const s of this.#series.values()) {
      this.#buckets.forEach((b, i) => lines.push(`${this.#name}_bucket${fmt(s.labels, { le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.#name}_bucket${fmt(s.labels, { le: '+Inf' })} ${s.count}`);
      lines.push(`${this.#name}_sum${fmt(s.labels)} ${s.sum}`);
      lines.push(`${this.#name}_count${fmt(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
  render(): string {
    return `${this.#metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

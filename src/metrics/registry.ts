/**
 * A small Prometheus text-format registry (exposition format 0.0.4): counters, gauges (set or
 * read at scrape time) and histograms. Label values are fixed vocabularies chosen by the code
 * (dialect, grant, result, reason), never request input, so no secret can reach a label.
 */
export type Labels = Readonly<Record<string, string>>;

/**
 * One series' map key: label names in code-unit order (any fixed order makes the key; localeCompare
 * would load ICU's collator at start), each name and value followed by a control character that no
 * name or value in this vocabulary contains.
 */
const key = (labels: Labels): string => {
  let k = '';
  for (const name of Object.keys(labels).sort()) k += `${name}\u0000${labels[name]}\u0001`;
  return k;
};

/** What a path of a `SeriesIndex` ends in: the series it reaches. */
const SERIES = Symbol('series');

type PathNode = Map<unknown, unknown>;

const step = (node: PathNode, part: unknown): PathNode => {
  let next = node.get(part) as PathNode | undefined;
  if (!next) node.set(part, (next = new Map()));
  return next;
};

/**
 * A metric's series, found from a call's labels without building a string: one level of maps per
 * label name and one per value, in the order the call lists them (values are fixed vocabularies, so
 * the tree stays as small as the series it leads to). Labels listed in another order reach the same
 * series: a path's first use finds it by `key`. Building and hashing that key on every increment cost
 * more than the rest of a token request's metrics (docs/performance.md, "Per-request overhead").
 */
class SeriesIndex<S> {
  readonly #byKey = new Map<string, S>();
  readonly #paths: PathNode = new Map();
  readonly #create: (labels: Labels) => S;
  constructor(create: (labels: Labels) => S) {
    this.#create = create;
  }

  /** The series of `labels`, created at its first use. */
  get(labels: Labels): S {
    let node = this.#paths;
    for (const name in labels) node = step(step(node, name), labels[name]);
    let series = node.get(SERIES) as S | undefined;
    if (series === undefined) {
      const k = key(labels);
      series = this.#byKey.get(k);
      if (series === undefined) this.#byKey.set(k, (series = this.#create(labels)));
      node.set(SERIES, series);
    }
    return series;
  }

  /** The series of `labels` if it was ever used. */
  find(labels: Labels): S | undefined {
    return this.#byKey.get(key(labels));
  }

  /** Every series, in the order of first use. */
  values(): IterableIterator<S> {
    return this.#byKey.values();
  }
}

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
  readonly #values = new SeriesIndex((labels) => ({ labels, value: 0 }));
  readonly #name: string;
  readonly #help: string;
  constructor(name: string, help: string) {
    this.#name = name;
    this.#help = help;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.#values.get(labels).value += by;
  }
  value(labels: Labels = {}): number {
    return this.#values.find(labels)?.value ?? 0;
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
  readonly #series = new SeriesIndex((labels) => ({ labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }));
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.#name = name;
    this.#help = help;
    this.#buckets = buckets;
  }
  observe(labels: Labels, value: number): void {
    const s = this.#series.get(labels);
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

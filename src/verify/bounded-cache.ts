/**
 * A map with a size cap that drops the least recently used entry first, and entries that expire.
 * Keys are digests of tokens, never tokens.
 */
export class BoundedCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  /** The live value for `key` (and marks it recently used), or undefined. */
  get(key: string, now: number): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    this.#entries.delete(key);
    if (hit.until <= now) return undefined;
    this.#entries.set(key, hit); // re-inserted: Map order is the recency order
    return hit.value;
  }

  set(key: string, value: V, until: number): void {
    if (this.#max <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until });
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** The keyring as one array, replaced whole by each change; the version counts the changes. */
import type { KeyChange, KeyRecord, KeyRepo } from '../types.ts';

export class MemoryKeys implements KeyRepo {
  #rows: KeyRecord[] = [];
  #version = 0;

  async list(): Promise<KeyRecord[]> {
    return this.#rows.map((k) => ({ ...k }));
  }
  async mutate(change: (keys: readonly KeyRecord[]) => KeyChange): Promise<KeyRecord[]> {
    const { put, remove } = change(this.#rows.map((k) => ({ ...k })));
    if (put.length === 0 && remove.length === 0) return this.list();
    const byKid = new Map(this.#rows.map((k) => [k.kid, k]));
    for (const kid of remove) byKid.delete(kid);
    for (const k of put) byKid.set(k.kid, { ...k });
    this.#rows = [...byKid.values()];
    this.#version++;
    return this.list();
  }
  async version(): Promise<number> {
    return this.#version;
  }
}

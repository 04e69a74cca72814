/** One-time keys in a map; a claim is a check and a set with no await between. */
import type { ReplayRepo } from '../types.ts';
import { deleteExpired } from './maps.ts';

export class MemoryReplays implements ReplayRepo {
  readonly #until = new Map<string, number>();

  async claim(key: string, expiresAt: number, at: number): Promise<boolean> {
    const held = this.#until.get(key);
    if (held !== undefined && held > at) return false;
    this.#until.set(key, expiresAt);
    return true;
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    return deleteExpired(this.#until, before, limit, (until) => until);
  }
}

/** One-time keys in a map; a claim is a check and a set with no await between. */
import type { ReplayRepo } from '../types.ts';

export class MemoryReplays implements ReplayRepo {
  readonly #until = new Map<string, number>();

  async claim(key: string, expiresAt: number, at: number): Promise<boolean> {
    const held = this.#until.get(key);
    if (held !== undefined && held > at) return false;
    this.#until.set(key, expiresAt);
    return true;
  }
  async purgeExpired(before: number): Promise<number> {
    let n = 0;
    for (const [key, until] of this.#until) {
      if (until < before) {
        this.#until.delete(key);
        n++;
      }
    }
    return n;
  }
}

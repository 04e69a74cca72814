/** Pushed authorization requests in a map by digest; a consume is a check and a set with no await between. */
import { ConflictError, type PushedRequestRecord, type PushedRequestRepo } from '../types.ts';
import { deleteExpired, expiresAt, firstOf } from './maps.ts';

export class MemoryPushedRequests implements PushedRequestRepo {
  readonly #rows = new Map<string, PushedRequestRecord>();

  async insert(r: PushedRequestRecord): Promise<void> {
    if (this.#rows.has(r.digest)) throw new ConflictError('duplicate key');
    this.#rows.set(r.digest, { ...r, params: { ...r.params } });
  }
  async find(digests: readonly string[]): Promise<PushedRequestRecord | undefined> {
    const row = firstOf(this.#rows, digests);
    return row && { ...row, params: { ...row.params } };
  }
  async consume(digest: string, at: number): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.consumedAt !== null || row.expiresAt <= at) return false;
    this.#rows.set(digest, { ...row, consumedAt: at });
    return true;
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    return deleteExpired(this.#rows, before, limit, expiresAt);
  }
}

/**
 * In-process sessions and authorization codes (issue 4). Single-threaded JavaScript makes every
 * method atomic: a consume is a check and a set with no await in between.
 */
import { ConflictError, type CodeRecord, type CodeRepo, type SessionRecord, type SessionRepo } from '../types.ts';
import { deleteExpired } from './expiry.ts';

export class MemorySessions implements SessionRepo {
  readonly #rows = new Map<string, SessionRecord>();

  async insert(s: SessionRecord): Promise<void> {
    if (this.#rows.has(s.id) || [...this.#rows.values()].some((r) => r.digest === s.digest)) throw new ConflictError('session exists');
    this.#rows.set(s.id, structuredClone(s));
  }
  async find(digests: readonly string[]): Promise<SessionRecord | undefined> {
    for (const d of digests) {
      for (const row of this.#rows.values()) if (row.digest === d) return structuredClone(row);
    }
    return undefined;
  }
  async get(id: string): Promise<SessionRecord | undefined> {
    const row = this.#rows.get(id);
    return row && structuredClone(row);
  }
  async end(id: string, at: number): Promise<boolean> {
    const row = this.#rows.get(id);
    if (!row || row.endedAt !== null) return false;
    this.#rows.set(id, { ...row, endedAt: at });
    return true;
  }
}

export class MemoryCodes implements CodeRepo {
  readonly #rows = new Map<string, CodeRecord>();

  async insert(c: CodeRecord): Promise<void> {
    if (this.#rows.has(c.digest)) throw new ConflictError('code exists');
    this.#rows.set(c.digest, { ...c });
  }
  async find(digests: readonly string[]): Promise<CodeRecord | undefined> {
    for (const d of digests) {
      const row = this.#rows.get(d);
      if (row) return { ...row };
    }
    return undefined;
  }
  async consume(digest: string, at: number): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.consumedAt !== null) return false;
    this.#rows.set(digest, { ...row, consumedAt: at });
    return true;
  }
  async purgeExpired(before: number): Promise<number> {
    return deleteExpired(this.#rows, before);
  }
}

/** Logged-in sessions in a map by id; found by digest with a scan (the memory store is for tests and sandboxes). */
import { ConflictError, type SessionRecord, type SessionRepo } from '../types.ts';
import { deleteExpired, expiresAt } from './maps.ts';

export class MemorySessions implements SessionRepo {
  readonly #rows = new Map<string, SessionRecord>();
  /** The clients recorded per session id (Back-Channel Logout). */
  readonly #clients = new Map<string, string[]>();

  async insert(s: SessionRecord): Promise<void> {
    if (this.#rows.has(s.id) || [...this.#rows.values()].some((r) => r.digest === s.digest)) throw new ConflictError('duplicate key');
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
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    const purged = deleteExpired(this.#rows, before, limit, expiresAt);
    for (const id of this.#clients.keys()) if (!this.#rows.has(id)) this.#clients.delete(id);
    return purged;
  }
  async end(id: string, at: number): Promise<boolean> {
    const row = this.#rows.get(id);
    if (!row || row.endedAt !== null) return false;
    this.#rows.set(id, { ...row, endedAt: at });
    return true;
  }
  async addClient(id: string, clientId: string): Promise<void> {
    if (!this.#rows.has(id)) return;
    const clients = this.#clients.get(id) ?? [];
    if (!clients.includes(clientId)) this.#clients.set(id, [...clients, clientId]);
  }
  async clients(id: string): Promise<string[]> {
    return [...(this.#clients.get(id) ?? [])];
  }
}

/**
 * Console users, sessions and one-time links in maps. Every method is one synchronous step, so a
 * link is consumed by exactly one caller and removing a user takes their sessions and links with it.
 */
import {
  ConflictError,
  type ConsoleLinkRecord,
  type ConsoleLinkRepo,
  type ConsoleSessionRecord,
  type ConsoleSessionRepo,
  type ConsoleUserRecord,
  type ConsoleUserRepo,
} from '../types.ts';
import { deleteExpired, expiresAt } from './maps.ts';

export class MemoryConsoleSessions implements ConsoleSessionRepo {
  readonly rows = new Map<string, ConsoleSessionRecord>();

  async insert(s: ConsoleSessionRecord): Promise<void> {
    if (this.rows.has(s.digest)) throw new ConflictError('duplicate key');
    this.rows.set(s.digest, { ...s });
  }
  async find(digest: string): Promise<ConsoleSessionRecord | undefined> {
    const row = this.rows.get(digest);
    return row && { ...row };
  }
  async touch(digest: string, at: number): Promise<void> {
    const row = this.rows.get(digest);
    if (row) this.rows.set(digest, { ...row, seenAt: at });
  }
  async end(digest: string, at: number): Promise<boolean> {
    const row = this.rows.get(digest);
    if (!row || row.endedAt !== null) return false;
    this.rows.set(digest, { ...row, endedAt: at });
    return true;
  }
  async purgeExpired(before: number): Promise<number> {
    return deleteExpired(this.rows, before, Infinity, expiresAt);
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    return deleteExpired(this.rows, before, limit, expiresAt);
  }
}

export class MemoryConsoleLinks implements ConsoleLinkRepo {
  readonly rows = new Map<string, ConsoleLinkRecord>();

  async insert(l: ConsoleLinkRecord): Promise<void> {
    if (this.rows.has(l.digest)) throw new ConflictError('duplicate key');
    this.rows.set(l.digest, { ...l });
  }
  async consume(digest: string, at: number): Promise<ConsoleLinkRecord | undefined> {
    const row = this.rows.get(digest);
    if (!row || row.usedAt !== null || row.expiresAt <= at) return undefined;
    const used = { ...row, usedAt: at };
    this.rows.set(digest, used);
    return { ...used };
  }
  async purgeExpired(before: number): Promise<number> {
    return deleteExpired(this.rows, before, Infinity, expiresAt);
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    return deleteExpired(this.rows, before, limit, expiresAt);
  }
}

export class MemoryConsoleUsers implements ConsoleUserRepo {
  readonly #rows = new Map<string, ConsoleUserRecord>();
  readonly #sessions: MemoryConsoleSessions;
  readonly #links: MemoryConsoleLinks;

  constructor(sessions: MemoryConsoleSessions, links: MemoryConsoleLinks) {
    this.#sessions = sessions;
    this.#links = links;
  }
  async insert(u: ConsoleUserRecord): Promise<void> {
    if (this.#rows.has(u.name)) throw new ConflictError('duplicate key');
    this.#rows.set(u.name, { ...u });
  }
  async get(name: string): Promise<ConsoleUserRecord | undefined> {
    const row = this.#rows.get(name);
    return row && { ...row };
  }
  async list(): Promise<ConsoleUserRecord[]> {
    return [...this.#rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((u) => ({ ...u }));
  }
  async setPassword(name: string, passwordHash: string, at: number): Promise<boolean> {
    const row = this.#rows.get(name);
    if (!row) return false;
    this.#rows.set(name, { ...row, passwordHash, updatedAt: at });
    return true;
  }
  async delete(name: string): Promise<boolean> {
    if (!this.#rows.delete(name)) return false;
    for (const [k, s] of this.#sessions.rows) if (s.user === name) this.#sessions.rows.delete(k);
    for (const [k, l] of this.#links.rows) if (l.user === name) this.#links.rows.delete(k);
    return true;
  }
}

/**
 * In-process store: for tests and for a throwaway sandbox. Single-threaded JavaScript makes every
 * method trivially atomic; nothing survives the process.
 */
import {
  ConflictError,
  type AuditEvent,
  type AuditRepo,
  type ClientRecord,
  type ClientRepo,
  type KeyChange,
  type KeyRecord,
  type KeyRepo,
  type Store,
  type RevocationPage,
  type TokenRecord,
  type TokenRepo,
} from '../types.ts';
import { MemoryCodes, MemorySessions } from './grants.ts';
import { deleteExpired } from './expiry.ts';

class MemoryClients implements ClientRepo {
  readonly #rows = new Map<string, ClientRecord>();

  async insert(client: ClientRecord): Promise<void> {
    if (this.#rows.has(client.id)) throw new ConflictError(`client exists`);
    this.#rows.set(client.id, structuredClone(client));
  }
  async get(id: string): Promise<ClientRecord | undefined> {
    const row = this.#rows.get(id);
    return row && structuredClone(row);
  }
  async list(): Promise<ClientRecord[]> {
    return [...this.#rows.values()].map((c) => structuredClone(c));
  }
  async update(id: string, change: (c: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined> {
    const row = this.#rows.get(id);
    if (!row) return undefined;
    const next = change(structuredClone(row));
    this.#rows.set(id, structuredClone(next));
    return structuredClone(next);
  }
  async delete(id: string): Promise<boolean> {
    return this.#rows.delete(id);
  }
  async touchSecret(clientId: string, secretId: string, at: number): Promise<void> {
    const row = this.#rows.get(clientId);
    if (!row) return;
    this.#rows.set(clientId, {
      ...row,
      secrets: row.secrets.map((s) => (s.id === secretId ? { ...s, lastUsedAt: at } : s)),
    });
  }
}

class MemoryKeys implements KeyRepo {
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

class MemoryTokens implements TokenRepo {
  readonly #rows = new Map<string, TokenRecord>();
  /** Revoked JWT ids in revocation order (the feed behind `revocations`). */
  readonly #feed: Array<{ jti: string; expiresAt: number }> = [];

  #set(row: TokenRecord): void {
    const before = this.#rows.get(row.digest);
    this.#rows.set(row.digest, row);
    if (row.digest.startsWith('jti:') && row.revokedAt !== null && (before === undefined || before.revokedAt === null)) {
      this.#feed.push({ jti: row.digest.slice(4), expiresAt: row.expiresAt });
    }
  }

  async insert(token: TokenRecord): Promise<void> {
    if (this.#rows.has(token.digest)) throw new ConflictError('token exists');
    this.#set({ ...token });
  }
  async rotate(digest: string, at: number, successors: readonly TokenRecord[]): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null) return false;
    if (successors.some((s) => this.#rows.has(s.digest))) throw new ConflictError('token exists');
    this.#set({ ...row, revokedAt: at });
    for (const s of successors) this.#set({ ...s });
    return true;
  }
  async revokeClient(clientId: string, at: number): Promise<number> {
    let n = 0;
    for (const row of [...this.#rows.values()]) {
      if (row.clientId === clientId && row.revokedAt === null) {
        this.#set({ ...row, revokedAt: at });
        n++;
      }
    }
    return n;
  }
  async revocations(cursor: string | undefined, limit: number): Promise<RevocationPage> {
    const start = cursor === undefined ? 0 : Number(cursor);
    const from = Number.isSafeInteger(start) && start >= 0 ? start : 0;
    const page = this.#feed.slice(from, from + limit);
    return { revocations: page.map((r) => ({ ...r })), cursor: String(from + page.length) };
  }
  async find(digests: readonly string[]): Promise<TokenRecord | undefined> {
    for (const d of digests) {
      const row = this.#rows.get(d);
      if (row) return { ...row };
    }
    return undefined;
  }
  async revoke(digest: string, at: number): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null) return false;
    this.#set({ ...row, revokedAt: at });
    return true;
  }
  async revokeFamily(familyId: string, at: number): Promise<number> {
    let n = 0;
    for (const row of [...this.#rows.values()]) {
      if (row.familyId === familyId && row.revokedAt === null) {
        this.#set({ ...row, revokedAt: at });
        n++;
      }
    }
    return n;
  }
  async purgeExpired(before: number): Promise<number> {
    return deleteExpired(this.#rows, before);
  }
}

class MemoryAudit implements AuditRepo {
  readonly #events: AuditEvent[] = [];
  async append(event: AuditEvent): Promise<void> {
    this.#events.push(event);
  }
  async list(limit: number): Promise<AuditEvent[]> {
    return this.#events.slice(-limit).reverse();
  }
}

export function createMemoryStore(): Store {
  return {
    kind: 'memory',
    clients: new MemoryClients(),
    keys: new MemoryKeys(),
    tokens: new MemoryTokens(),
    audit: new MemoryAudit(),
    sessions: new MemorySessions(),
    codes: new MemoryCodes(),
    close: async () => {},
  };
}

/**
 * The embedded default store: one SQLite file through `node:sqlite`, in WAL mode so the CLI and a
 * running server share it. Writes that must be atomic run inside `BEGIN IMMEDIATE`, which takes the
 * database's write lock up front; a lock held past `busy_timeout` surfaces as SQLITE_BUSY, which the
 * protocol layer turns into 503 + Retry-After.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  ConflictError,
  type AuditEvent,
  type ClientRecord,
  type KeyChange,
  type KeyRecord,
  type CodeRepo,
  type RevocationPage,
  type SessionRepo,
  type Store,
  type TokenMeta,
  type TokenRecord,
} from '../types.ts';
import { sqliteCodes, sqliteSessions } from './grants.ts';
import { MIGRATIONS } from './migrations.ts';
import { faultPoint } from '../../util/fault.ts';

export interface SqliteStoreOptions {
  /** Directory holding `keymint.db`; created 0700. `:memory:` for a private in-memory database. */
  readonly dir: string;
  /** Milliseconds a writer waits for the lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options);
  migrate(db);
  return new SqliteStore(db);
}

function openDatabase({ dir, busyTimeoutMs = 5000 }: SqliteStoreOptions): DatabaseSync {
  let file = ':memory:';
  if (dir !== ':memory:') {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    file = join(dir, 'keymint.db');
    // Create the file ourselves so it is 0600; SQLite gives -wal and -shm the same mode.
    closeSync(openSync(file, 'a', 0o600));
  }
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;`);
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)};`);
  return db;
}

/** Applies pending migrations; safe to run from several processes at once. Returns applied versions. */
export function migrate(db: DatabaseSync): number[] {
  const applied: number[] = [];
  immediate(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
    const done = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      applied.push(m.version);
    }
  });
  return applied;
}

export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

interface TokenRow {
  digest: string;
  kind: string;
  client_id: string;
  subject: string;
  scope: string;
  audience: string;
  issued_at: number;
  expires_at: number;
  revoked_at: number | null;
  family_id: string | null;
  jti: string;
  meta: string | null;
}

const toToken = (r: TokenRow): TokenRecord => ({
  digest: r.digest,
  kind: r.kind as TokenRecord['kind'],
  clientId: r.client_id,
  subject: r.subject,
  scope: r.scope,
  audience: JSON.parse(r.audience) as string[],
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  familyId: r.family_id,
  jti: r.jti,
  ...(r.meta === null ? {} : { meta: JSON.parse(r.meta) as TokenMeta }),
});

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #q: Record<string, StatementSync>;
  readonly sessions: SessionRepo;
  readonly codes: CodeRepo;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.sessions = sqliteSessions(db);
    this.codes = sqliteCodes(db, (fn) => immediate(db, fn));
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      clientInsert: p('INSERT INTO clients (id, doc, updated_at) VALUES (?, ?, ?)'),
      clientGet: p('SELECT doc FROM clients WHERE id = ?'),
      clientList: p('SELECT doc FROM clients ORDER BY id'),
      clientPut: p('UPDATE clients SET doc = ?, updated_at = ? WHERE id = ?'),
      clientDelete: p('DELETE FROM clients WHERE id = ?'),
      keyList: p('SELECT doc FROM keys ORDER BY kid'),
      keyPut: p('INSERT INTO keys (kid, doc) VALUES (?, ?) ON CONFLICT (kid) DO UPDATE SET doc = excluded.doc'),
      keyDelete: p('DELETE FROM keys WHERE kid = ?'),
      keyBump: p('UPDATE keyring_version SET version = version + 1 WHERE id = 1'),
      keyVersion: p('SELECT version FROM keyring_version WHERE id = 1'),
      tokenInsert: p(
        `INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti, meta)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      tokenRevokeClient: p('UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL'),
      feedPage: p('SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > ? ORDER BY seq LIMIT ?'),
      tokenFind: p('SELECT * FROM tokens WHERE digest = ?'),
      tokenRevoke: p('UPDATE tokens SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL'),
      tokenRevokeFamily: p('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL'),
      tokenPurge: p('DELETE FROM tokens WHERE expires_at < ?'),
      auditInsert: p('INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)'),
      auditList: p('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT ?'),
      dataVersion: p('PRAGMA data_version'),
    };
  }

  readonly clients = {
    insert: async (c: ClientRecord): Promise<void> => {
      try {
        this.#q.clientInsert!.run(c.id, JSON.stringify(c), c.updatedAt);
      } catch (err) {
        if ((err as { errcode?: number }).errcode === 1555 /* SQLITE_CONSTRAINT_PRIMARYKEY */) {
          throw new ConflictError('client exists');
        }
        throw err;
      }
    },
    get: async (id: string): Promise<ClientRecord | undefined> => {
      const row = this.#q.clientGet!.get(id) as { doc: string } | undefined;
      return row && (JSON.parse(row.doc) as ClientRecord);
    },
    list: async (): Promise<ClientRecord[]> =>
      (this.#q.clientList!.all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as ClientRecord),
    update: async (id: string, change: (c: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined> =>
      immediate(this.#db, () => {
        const row = this.#q.clientGet!.get(id) as { doc: string } | undefined;
        if (!row) return undefined;
        const next = change(JSON.parse(row.doc) as ClientRecord);
        this.#q.clientPut!.run(JSON.stringify(next), next.updatedAt, id);
        return next;
      }),
    delete: async (id: string): Promise<boolean> => Number(this.#q.clientDelete!.run(id).changes) === 1,
    touchSecret: async (clientId: string, secretId: string, at: number): Promise<void> => {
      await this.clients.update(clientId, (c) => ({
        ...c,
        secrets: c.secrets.map((s) => (s.id === secretId ? { ...s, lastUsedAt: at } : s)),
      }));
    },
  };

  readonly keys = {
    list: async (): Promise<KeyRecord[]> =>
      (this.#q.keyList!.all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as KeyRecord),
    mutate: async (change: (keys: readonly KeyRecord[]) => KeyChange): Promise<KeyRecord[]> =>
      immediate(this.#db, () => {
        const current = (this.#q.keyList!.all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as KeyRecord);
        const { put, remove } = change(current);
        for (const kid of remove) this.#q.keyDelete!.run(kid);
        for (const k of put) this.#q.keyPut!.run(k.kid, JSON.stringify(k));
        if (put.length > 0 || remove.length > 0) this.#q.keyBump!.run();
        return (this.#q.keyList!.all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as KeyRecord);
      }),
    version: async (): Promise<number> => (this.#q.keyVersion!.get() as { version: number }).version,
  };

  #insertToken(t: TokenRecord): void {
    try {
      this.#q.tokenInsert!.run(
        t.digest, t.kind, t.clientId, t.subject, t.scope, JSON.stringify(t.audience),
        t.issuedAt, t.expiresAt, t.revokedAt, t.familyId, t.jti, t.meta === undefined ? null : JSON.stringify(t.meta),
      );
    } catch (err) {
      if ((err as { errcode?: number }).errcode === 1555) throw new ConflictError('token exists');
      throw err;
    }
  }

  /** Token records waiting for the next group commit. */
  #pending: Array<{ token: TokenRecord; resolve: () => void; reject: (err: unknown) => void }> = [];

  /**
   * Group commit: inserts requested in the same turn of the event loop share one transaction, so
   * one fsync makes a whole batch durable instead of one per token. Each promise still resolves only
   * after COMMIT returned, and a row that fails (a duplicate digest) fails alone: SQLite rolls back
   * the failing statement, not the transaction.
   */
  #flush = (): void => {
    const batch = this.#pending;
    this.#pending = [];
    const failed = new Map<number, unknown>();
    try {
      immediate(this.#db, () => {
        batch.forEach((p, i) => {
          try {
            this.#insertToken(p.token);
          } catch (err) {
            failed.set(i, err);
          }
        });
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => (failed.has(i) ? p.reject(failed.get(i)) : p.resolve()));
  };

  readonly tokens = {
    insert: (t: TokenRecord): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (this.#pending.push({ token: t, resolve, reject }) === 1) setImmediate(this.#flush);
      }),
    rotate: async (digest: string, at: number, successors: readonly TokenRecord[]): Promise<boolean> =>
      immediate(this.#db, () => {
        if (Number(this.#q.tokenRevoke!.run(at, digest).changes) !== 1) return false;
        faultPoint('rotate-after-consume');
        for (const t of successors) this.#insertToken(t);
        faultPoint('rotate-before-commit');
        return true;
      }),
    revokeClient: async (clientId: string, at: number): Promise<number> =>
      Number(this.#q.tokenRevokeClient!.run(at, clientId).changes),
    revocations: async (cursor: string | undefined, limit: number): Promise<RevocationPage> => {
      const after = cursor !== undefined && /^\d{1,15}$/.test(cursor) ? Number(cursor) : 0;
      const rows = this.#q.feedPage!.all(after, limit) as { seq: number; jti: string; expires_at: number }[];
      return {
        revocations: rows.map((r) => ({ jti: r.jti, expiresAt: r.expires_at })),
        cursor: String(rows.at(-1)?.seq ?? after),
      };
    },
    find: async (digests: readonly string[]): Promise<TokenRecord | undefined> => {
      for (const d of digests) {
        const row = this.#q.tokenFind!.get(d) as TokenRow | undefined;
        if (row) return toToken(row);
      }
      return undefined;
    },
    revoke: async (digest: string, at: number): Promise<boolean> =>
      Number(this.#q.tokenRevoke!.run(at, digest).changes) === 1,
    revokeFamily: async (familyId: string, at: number): Promise<number> =>
      Number(this.#q.tokenRevokeFamily!.run(at, familyId).changes),
    purgeExpired: async (before: number): Promise<number> => Number(this.#q.tokenPurge!.run(before).changes),
  };

  readonly audit = {
    append: async (e: AuditEvent): Promise<void> => {
      this.#q.auditInsert!.run(e.at, e.actor, e.action, e.target, JSON.stringify(e.detail));
    },
    list: async (limit: number): Promise<AuditEvent[]> =>
      (this.#q.auditList!.all(limit) as { at: number; actor: string; action: string; target: string; detail: string }[]).map(
        (r) => ({ at: r.at, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) }),
      ),
  };

  readonly changeMarker = (): number => (this.#q.dataVersion!.get() as { data_version: number }).data_version;

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

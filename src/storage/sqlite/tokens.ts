/**
 * Stateful tokens by digest. Inserts are group-committed; every state change is one conditional
 * UPDATE, and `rotate` consumes and inserts the successors inside one `BEGIN IMMEDIATE`. Every write
 * into a family checks its revocation mark inside the transaction that writes, and `BEGIN IMMEDIATE`
 * serialises it with `revokeFamily` across connections and processes (RACE-03).
 */
import { feedPosition, revocationPage, TOKEN_COLUMNS, tokenValues, toSuccessor, toToken, type RevocationRow, type SuccessorRow, type TokenRow } from '../sql/rows.ts';
import { REVOKED_FAMILY_RETENTION_MS, RevokedFamilyError, type TokenRecord, type TokenRepo } from '../types.ts';
import { firstOf, insertSql, type Db } from './db.ts';

interface Pending {
  readonly token: TokenRecord;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Inserting tokens, and the revocation mark every insert into a family checks: for this repository
 * and for code redemption (codes.ts). Run inside `db.immediate`, which makes the check and the
 * insert one step.
 */
export function tokenWrites(db: Db) {
  const insert = db.prepare(insertSql('tokens', TOKEN_COLUMNS));
  const familyMark = db.prepare<{ family_id: string }>('SELECT family_id FROM revoked_families WHERE family_id = ?');
  return {
    familyRevoked: (familyId: string | null): boolean => familyId !== null && familyMark.get(familyId) !== undefined,
    insert: (t: TokenRecord): void => void insert.run(...tokenValues(t)),
  };
}

export function sqliteTokens(db: Db): TokenRepo {
  const writes = tokenWrites(db);
  const find = db.prepare<TokenRow>('SELECT * FROM tokens WHERE digest = ?');
  const revoke = db.prepare('UPDATE tokens SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL');
  const extend = db.prepare('UPDATE tokens SET expires_at = max(expires_at, ?) WHERE digest = ? AND revoked_at IS NULL AND expires_at > ?');
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL');
  const revokeClient = db.prepare('UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL');
  const markFamily = db.prepare(
    'INSERT INTO revoked_families (family_id, revoked_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)',
  );

  const keepSuccessor = db.prepare('INSERT INTO refresh_successors (digest, successor, sealed, expires_at) VALUES (?, ?, ?, ?)');
  const findSuccessor = db.prepare<SuccessorRow>('SELECT successor, sealed, expires_at FROM refresh_successors WHERE digest = ? AND expires_at > ?');
  const forgetSuccessor = db.prepare('DELETE FROM refresh_successors WHERE digest = ?');
  const feed = db.prepare<RevocationRow>('SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > ? ORDER BY seq LIMIT ?');

  /** Token records waiting for the next group commit. */
  let pending: Pending[] = [];

  /**
   * Group commit: inserts requested in the same turn of the event loop share one transaction, so
   * one commit makes a whole batch durable instead of one per token. Each promise still resolves only
   * once that commit is durable (db.ts), and a row that fails (a duplicate digest) fails alone: SQLite rolls back
   * the failing statement, not the transaction.
   */
  const flush = (): void => {
    const batch = pending;
    pending = [];
    const failed = new Map<Pending, unknown>();
    db.immediate(() => {
      for (const p of batch) {
        try {
          if (writes.familyRevoked(p.token.familyId)) throw new RevokedFamilyError(p.token.familyId!);
          writes.insert(p.token);
        } catch (err) {
          failed.set(p, err);
        }
      }
    }).then(
      () => {
        for (const p of batch) {
          if (failed.has(p)) p.reject(failed.get(p));
          else p.resolve();
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  };

  return {
    insert(token) {
      return new Promise<void>((resolve, reject) => {
        if (pending.push({ token, resolve, reject }) === 1) setImmediate(flush);
      });
    },
    async find(digests) {
      const row = firstOf(digests, find);
      return row && toToken(row);
    },
    async revoke(digest, at) {
      return db.immediate(() => revoke.run(at, digest) === 1);
    },
    async revokeFamily(familyId, at) {
      return db.immediate(() => {
        markFamily.run(familyId, at, at + REVOKED_FAMILY_RETENTION_MS);
        return revokeFamily.run(at, familyId);
      });
    },
    async rotate(digest, at, successors, sealed) {
      return db.immediate(() => {
        if (successors.some((t) => writes.familyRevoked(t.familyId)) || revoke.run(at, digest) !== 1) return false;
        for (const t of successors) writes.insert(t);
        if (sealed) keepSuccessor.run(digest, sealed.digest, sealed.sealed, sealed.expiresAt);
        return true;
      });
    },
    async extend(digest, at, expiresAt, records) {
      return db.immediate(() => {
        if (records.some((t) => writes.familyRevoked(t.familyId)) || extend.run(expiresAt, digest, at) !== 1) return false;
        for (const t of records) writes.insert(t);
        return true;
      });
    },
    async successor(digest, at) {
      const row = findSuccessor.get(digest, at);
      return row && toSuccessor(row);
    },
    async forgetSuccessor(digest) {
      await db.immediate(() => forgetSuccessor.run(digest));
    },
    async revokeClient(clientId, at) {
      return db.immediate(() => revokeClient.run(at, clientId));
    },
    async revocations(cursor, limit) {
      const after = feedPosition(cursor);
      return revocationPage(feed.all(after, limit), after);
    },
  };
}

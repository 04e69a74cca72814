/**
 * Stateful tokens by digest. Every state change is one conditional statement (`UPDATE … WHERE …
 * RETURNING`). A write into a family first takes a transaction-scoped advisory lock on the family id
 * and then checks its revocation mark, so it is serialised with `revokeFamily` (which takes the same
 * lock before marking and revoking): under READ COMMITTED each statement after the lock sees every
 * write that held it before (RACE-03). The lock is always taken before any row lock, so the two
 * never wait on each other in opposite orders.
 */
import { feedPosition, revocationPage, TOKEN_COLUMNS, tokenValues, toSuccessor, toToken, type RevocationRow, type SuccessorRow, type TokenRow } from '../sql/rows.ts';
import { REVOKED_FAMILY_RETENTION_MS, RevokedFamilyError, type TokenRecord, type TokenRepo } from '../types.ts';
import { counted, firstByDigest, insertSql, type Db, type Query } from './db.ts';

export const INSERT_TOKEN = insertSql('tokens', TOKEN_COLUMNS);
const REVOKE = 'UPDATE tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL RETURNING digest';

/** Takes the family's lock for the rest of the transaction; resolves whether the family is revoked. */
export async function lockFamily(q: Query, familyId: string): Promise<boolean> {
  await q('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [familyId]);
  return (await q('SELECT 1 FROM revoked_families WHERE family_id = $1', [familyId])).length > 0;
}

/** The one family tokens issued together belong to (a rotation's successors, a code's tokens). */
export const familyOf = (successors: readonly TokenRecord[]): string | null => successors.find((t) => t.familyId !== null)?.familyId ?? null;

export function postgresTokens(db: Db): TokenRepo {
  return {
    async insert(t) {
      const familyId = t.familyId;
      if (familyId === null) {
        await db.query(INSERT_TOKEN, tokenValues(t));
        return;
      }
      await db.tx(async (q) => {
        if (await lockFamily(q, familyId)) throw new RevokedFamilyError(familyId);
        await q(INSERT_TOKEN, tokenValues(t));
      });
    },
    async find(digests) {
      const row = await firstByDigest<TokenRow>(db.query, 'tokens', digests);
      return row && toToken(row);
    },
    async revoke(digest, at) {
      return (await db.query(REVOKE, [digest, at])).length === 1;
    },
    revokeFamily: (familyId, at) =>
      db.tx(async (q) => {
        await lockFamily(q, familyId);
        await q(
          `INSERT INTO revoked_families (family_id, revoked_at, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (family_id) DO UPDATE SET expires_at = GREATEST(revoked_families.expires_at, EXCLUDED.expires_at)`,
          [familyId, at, at + REVOKED_FAMILY_RETENTION_MS],
        );
        return counted(q, 'UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, at]);
      }),
    revokeClient: (clientId, at) => counted(db.query, 'UPDATE tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL', [clientId, at]),
    // Consume and successors in one transaction; the conditional UPDATE … RETURNING says who won.
    async rotate(digest, at, successors, sealed) {
      const familyId = familyOf(successors);
      return db.tx(async (q) => {
        if (familyId !== null && (await lockFamily(q, familyId))) return false;
        if ((await q(REVOKE, [digest, at])).length !== 1) return false;
        for (const t of successors) await q(INSERT_TOKEN, tokenValues(t));
        if (sealed) await q('INSERT INTO refresh_successors (digest, successor, sealed, expires_at) VALUES ($1, $2, $3, $4)', [digest, sealed.digest, sealed.sealed, sealed.expiresAt]);
        return true;
      });
    },
    async extend(digest, at, expiresAt, records) {
      const familyId = familyOf(records);
      return db.tx(async (q) => {
        if (familyId !== null && (await lockFamily(q, familyId))) return false;
        // The row lock orders concurrent extensions; each re-checks the row it then sees.
        const kept = await q('UPDATE tokens SET expires_at = GREATEST(expires_at, $3) WHERE digest = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING digest', [digest, at, expiresAt]);
        if (kept.length !== 1) return false;
        for (const t of records) await q(INSERT_TOKEN, tokenValues(t));
        return true;
      });
    },
    async successor(digest, at) {
      const [row] = await db.query<SuccessorRow>('SELECT successor, sealed, expires_at FROM refresh_successors WHERE digest = $1 AND expires_at > $2', [digest, at]);
      return row && toSuccessor(row);
    },
    async forgetSuccessor(digest) {
      await db.query('DELETE FROM refresh_successors WHERE digest = $1', [digest]);
    },
    async revocations(cursor, limit) {
      const after = feedPosition(cursor);
      const rows = await db.query<RevocationRow>('SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit]);
      return revocationPage(rows, after);
    },
  };
}

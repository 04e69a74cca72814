/** Stateful tokens by digest. Every state change is one conditional statement (`UPDATE … WHERE … RETURNING`). */
import { feedPosition, revocationPage, TOKEN_COLUMNS, tokenValues, toToken, type RevocationRow, type TokenRow } from '../sql/rows.ts';
import type { TokenRepo } from '../types.ts';
import { counted, firstByDigest, insertSql, type Db } from './db.ts';

const INSERT = insertSql('tokens', TOKEN_COLUMNS);
const REVOKE = 'UPDATE tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL RETURNING digest';

export function postgresTokens(db: Db): TokenRepo {
  return {
    async insert(t) {
      await db.query(INSERT, tokenValues(t));
    },
    async find(digests) {
      const row = await firstByDigest<TokenRow>(db.query, 'tokens', digests);
      return row && toToken(row);
    },
    async revoke(digest, at) {
      return (await db.query(REVOKE, [digest, at])).length === 1;
    },
    revokeFamily: (familyId, at) => counted(db.query, 'UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, at]),
    revokeClient: (clientId, at) => counted(db.query, 'UPDATE tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL', [clientId, at]),
    purgeExpired: (before) => counted(db.query, 'DELETE FROM tokens WHERE expires_at < $1', [before]),
    // Consume and successors in one transaction; the conditional UPDATE … RETURNING says who won.
    async rotate(digest, at, successors) {
      return db.tx(async (q) => {
        if ((await q(REVOKE, [digest, at])).length !== 1) return false;
        for (const t of successors) await q(INSERT, tokenValues(t));
        return true;
      });
    },
    async revocations(cursor, limit) {
      const after = feedPosition(cursor);
      const rows = await db.query<RevocationRow>('SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit]);
      return revocationPage(rows, after);
    },
  };
}

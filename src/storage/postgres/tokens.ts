/** Stateful tokens by digest. Every state change is one conditional statement (`UPDATE … WHERE … RETURNING`). */
import type { RevocationPage, TokenMeta, TokenRecord, TokenRepo } from '../types.ts';
import type { Db } from './db.ts';

interface Row {
  digest: string;
  kind: string;
  client_id: string;
  subject: string;
  scope: string;
  audience: string[];
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  family_id: string | null;
  jti: string;
  meta: TokenMeta | null;
}

const toToken = (r: Row): TokenRecord => ({
  digest: r.digest,
  kind: r.kind as TokenRecord['kind'],
  clientId: r.client_id,
  subject: r.subject,
  scope: r.scope,
  audience: r.audience,
  issuedAt: Number(r.issued_at),
  expiresAt: Number(r.expires_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  familyId: r.family_id,
  jti: r.jti,
  ...(r.meta === null || r.meta === undefined ? {} : { meta: r.meta }),
});

const INSERT = `INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti, meta)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12::jsonb)`;
const insertParams = (t: TokenRecord) => [
  t.digest, t.kind, t.clientId, t.subject, t.scope, JSON.stringify(t.audience), t.issuedAt, t.expiresAt, t.revokedAt, t.familyId, t.jti,
  t.meta === undefined ? null : JSON.stringify(t.meta),
];

export function postgresTokens(db: Db): TokenRepo {
  return {
    async insert(t) {
      await db.query(INSERT, insertParams(t));
    },
    // Issue 4: consume + successors in one transaction; the conditional UPDATE … RETURNING says who won.
    async rotate(digest, at, successors) {
      return db.tx(async (q) => {
        const won = await q('UPDATE tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL RETURNING digest', [digest, at]);
        if (won.length !== 1) return false;
        for (const t of successors) await q(INSERT, insertParams(t));
        return true;
      });
    },
    async revokeClient(clientId, at) {
      const rows = await db.query<{ n: string }>(
        'WITH r AS (UPDATE tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL RETURNING 1) SELECT count(*) AS n FROM r',
        [clientId, at],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async revocations(cursor, limit): Promise<RevocationPage> {
      const after = cursor !== undefined && /^\d{1,15}$/.test(cursor) ? Number(cursor) : 0;
      const rows = await db.query<{ seq: string; jti: string; expires_at: string }>(
        'SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, limit],
      );
      return { revocations: rows.map((r) => ({ jti: r.jti, expiresAt: Number(r.expires_at) })), cursor: String(rows.at(-1)?.seq ?? after) };
    },
    async find(digests) {
      if (digests.length === 0) return undefined;
      const rows = await db.query<Row>('SELECT * FROM tokens WHERE digest = ANY($1::text[])', [digests]);
      // Candidate order decides (current pepper first), as in the other backends.
      for (const d of digests) {
        const row = rows.find((r) => r.digest === d);
        if (row) return toToken(row);
      }
      return undefined;
    },
    async revoke(digest, at) {
      return (await db.query('UPDATE tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL RETURNING digest', [digest, at])).length === 1;
    },
    async revokeFamily(familyId, at) {
      const rows = await db.query<{ n: string }>(
        'WITH r AS (UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL RETURNING 1) SELECT count(*) AS n FROM r',
        [familyId, at],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async purgeExpired(before) {
      const rows = await db.query<{ n: string }>('WITH d AS (DELETE FROM tokens WHERE expires_at < $1 RETURNING 1) SELECT count(*) AS n FROM d', [before]);
      return Number(rows[0]?.n ?? 0);
    },
  };
}

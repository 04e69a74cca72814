/**
 * PostgreSQL sessions and authorization codes (issue 4). A code is consumed by one conditional
 * statement, `UPDATE … WHERE consumed_at IS NULL RETURNING`: exactly one caller gets a row back.
 */
import type { CodeRecord, CodeRepo, SessionRecord, SessionRepo, SubjectType } from '../types.ts';
import type { Db } from './db.ts';

interface SessionRow {
  id: string;
  digest: string;
  subject: string;
  subject_type: string;
  organizations: string[];
  created_at: string;
  expires_at: string;
  ended_at: string | null;
}

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  digest: r.digest,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  organizations: r.organizations,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
});

/** First row matching the candidates in candidate order (current pepper first). */
const first = <R extends { digest: string }>(rows: R[], digests: readonly string[]): R | undefined => {
  for (const d of digests) {
    const row = rows.find((r) => r.digest === d);
    if (row) return row;
  }
  return undefined;
};

export function postgresSessions(db: Db): SessionRepo {
  return {
    async insert(s) {
      await db.query(
        `INSERT INTO sessions (id, digest, subject, subject_type, organizations, created_at, expires_at, ended_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
        [s.id, s.digest, s.subject, s.subjectType, JSON.stringify(s.organizations), s.createdAt, s.expiresAt, s.endedAt],
      );
    },
    async find(digests) {
      if (digests.length === 0) return undefined;
      const row = first(await db.query<SessionRow>('SELECT * FROM sessions WHERE digest = ANY($1::text[])', [digests]), digests);
      return row && toSession(row);
    },
    async get(id) {
      const [row] = await db.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
      return row && toSession(row);
    },
    async end(id, at) {
      return (await db.query('UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING id', [id, at])).length === 1;
    },
  };
}

interface CodeRow {
  digest: string;
  client_id: string;
  redirect_uri: string | null;
  scope: string;
  code_challenge: string | null;
  code_challenge_method: string | null;
  nonce: string | null;
  subject: string;
  subject_type: string;
  auth_time: string;
  issued_at: string;
  expires_at: string;
  consumed_at: string | null;
  family_id: string;
}

const toCode = (r: CodeRow): CodeRecord => ({
  digest: r.digest,
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  scope: r.scope,
  codeChallenge: r.code_challenge,
  codeChallengeMethod: r.code_challenge_method,
  nonce: r.nonce,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  authTime: Number(r.auth_time),
  issuedAt: Number(r.issued_at),
  expiresAt: Number(r.expires_at),
  consumedAt: r.consumed_at === null ? null : Number(r.consumed_at),
  familyId: r.family_id,
});

export function postgresCodes(db: Db): CodeRepo {
  return {
    async insert(c) {
      await db.query(
        `INSERT INTO codes (digest, client_id, redirect_uri, scope, code_challenge, code_challenge_method, nonce, subject, subject_type,
           auth_time, issued_at, expires_at, consumed_at, family_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [c.digest, c.clientId, c.redirectUri, c.scope, c.codeChallenge, c.codeChallengeMethod, c.nonce, c.subject, c.subjectType,
          c.authTime, c.issuedAt, c.expiresAt, c.consumedAt, c.familyId],
      );
    },
    async find(digests) {
      if (digests.length === 0) return undefined;
      const row = first(await db.query<CodeRow>('SELECT * FROM codes WHERE digest = ANY($1::text[])', [digests]), digests);
      return row && toCode(row);
    },
    async consume(digest, at) {
      return (await db.query('UPDATE codes SET consumed_at = $2 WHERE digest = $1 AND consumed_at IS NULL RETURNING digest', [digest, at])).length === 1;
    },
    async purgeExpired(before) {
      const rows = await db.query<{ n: string }>('WITH d AS (DELETE FROM codes WHERE expires_at < $1 RETURNING 1) SELECT count(*) AS n FROM d', [before]);
      return Number(rows[0]?.n ?? 0);
    },
  };
}

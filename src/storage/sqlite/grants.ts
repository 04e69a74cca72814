/**
 * SQLite sessions and authorization codes (issue 4). A code is consumed by one conditional UPDATE
 * inside BEGIN IMMEDIATE; `changes() === 1` says who won (SECURITY C-06).
 */
import type { DatabaseSync } from 'node:sqlite';
import { ConflictError, type CodeRecord, type CodeRepo, type SessionRecord, type SessionRepo, type SubjectType } from '../types.ts';

type Immediate = <T>(fn: () => T) => T;

const isConstraint = (err: unknown): boolean => {
  const code = (err as { errcode?: number }).errcode;
  return code === 1555 || code === 2067; // PRIMARYKEY, UNIQUE
};

interface SessionRow {
  id: string;
  digest: string;
  subject: string;
  subject_type: string;
  organizations: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
}

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  digest: r.digest,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  organizations: JSON.parse(r.organizations) as string[],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
});

export function sqliteSessions(db: DatabaseSync): SessionRepo {
  const insert = db.prepare(
    'INSERT INTO sessions (id, digest, subject, subject_type, organizations, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const byDigest = db.prepare('SELECT * FROM sessions WHERE digest = ?');
  const byId = db.prepare('SELECT * FROM sessions WHERE id = ?');
  const end = db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  return {
    async insert(s) {
      try {
        insert.run(s.id, s.digest, s.subject, s.subjectType, JSON.stringify(s.organizations), s.createdAt, s.expiresAt, s.endedAt);
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError('session exists');
        throw err;
      }
    },
    async find(digests) {
      for (const d of digests) {
        const row = byDigest.get(d) as SessionRow | undefined;
        if (row) return toSession(row);
      }
      return undefined;
    },
    async get(id) {
      const row = byId.get(id) as SessionRow | undefined;
      return row && toSession(row);
    },
    async end(id, at) {
      return Number(end.run(at, id).changes) === 1;
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
  auth_time: number;
  issued_at: number;
  expires_at: number;
  consumed_at: number | null;
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
  authTime: r.auth_time,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
  familyId: r.family_id,
});

export function sqliteCodes(db: DatabaseSync, immediate: Immediate): CodeRepo {
  const insert = db.prepare(
    `INSERT INTO codes (digest, client_id, redirect_uri, scope, code_challenge, code_challenge_method, nonce, subject, subject_type,
       auth_time, issued_at, expires_at, consumed_at, family_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const find = db.prepare('SELECT * FROM codes WHERE digest = ?');
  const consume = db.prepare('UPDATE codes SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL');
  const purge = db.prepare('DELETE FROM codes WHERE expires_at < ?');
  return {
    async insert(c) {
      try {
        insert.run(c.digest, c.clientId, c.redirectUri, c.scope, c.codeChallenge, c.codeChallengeMethod, c.nonce, c.subject, c.subjectType,
          c.authTime, c.issuedAt, c.expiresAt, c.consumedAt, c.familyId);
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError('code exists');
        throw err;
      }
    },
    async find(digests) {
      for (const d of digests) {
        const row = find.get(d) as CodeRow | undefined;
        if (row) return toCode(row);
      }
      return undefined;
    },
    async consume(digest, at) {
      return immediate(() => Number(consume.run(at, digest).changes) === 1);
    },
    async purgeExpired(before) {
      return Number(purge.run(before).changes);
    },
  };
}

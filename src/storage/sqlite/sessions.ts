/** Logged-in sessions, found by the digest of their token. */
import { SESSION_COLUMNS, sessionValues, toSession, type SessionRow } from '../sql/rows.ts';
import type { SessionRepo } from '../types.ts';
import { firstOf, insertSql, type Db } from './db.ts';

export function sqliteSessions(db: Db): SessionRepo {
  const insert = db.prepare(insertSql('sessions', SESSION_COLUMNS));
  const byDigest = db.prepare<SessionRow>('SELECT * FROM sessions WHERE digest = ?');
  const byId = db.prepare<SessionRow>('SELECT * FROM sessions WHERE id = ?');
  const end = db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  return {
    async insert(s) {
      await db.immediate(() => insert.run(...sessionValues(s)));
    },
    async find(digests) {
      const row = firstOf(digests, byDigest);
      return row && toSession(row);
    },
    async get(id) {
      const row = byId.get(id);
      return row && toSession(row);
    },
    async end(id, at) {
      return db.immediate(() => end.run(at, id) === 1);
    },
  };
}

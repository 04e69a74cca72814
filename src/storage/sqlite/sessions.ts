/** Logged-in sessions, found by the digest of their token. */
import { SESSION_COLUMNS, sessionValues, toSession, type SessionRow } from '../sql/rows.ts';
import type { SessionRepo } from '../types.ts';
import { firstOf, insertSql, type Db } from './db.ts';

export function sqliteSessions(db: Db): SessionRepo {
  const insert = db.prepare(insertSql('sessions', SESSION_COLUMNS));
  const byDigest = db.prepare<SessionRow>('SELECT * FROM sessions WHERE digest = ?');
  const byId = db.prepare<SessionRow>('SELECT * FROM sessions WHERE id = ?');
  const end = db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  // Appended unless present, in one statement under the write lock: racing calls record a client once.
  const addClient = db.prepare("UPDATE sessions SET client_ids = json_insert(client_ids, '$[#]', ?) WHERE id = ? AND NOT EXISTS (SELECT 1 FROM json_each(sessions.client_ids) WHERE value = ?)");
  const clients = db.prepare<{ client_ids: string }>('SELECT client_ids FROM sessions WHERE id = ?');
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
    async addClient(id, clientId) {
      await db.immediate(() => addClient.run(clientId, id, clientId));
    },
    async clients(id) {
      const row = clients.get(id);
      return row ? (JSON.parse(row.client_ids) as string[]) : [];
    },
  };
}

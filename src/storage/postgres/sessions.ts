/** Logged-in sessions, found by the digest of their token. */
import { SESSION_COLUMNS, sessionValues, toSession, type SessionRow } from '../sql/rows.ts';
import type { SessionRepo } from '../types.ts';
import { firstByDigest, insertSql, type Db } from './db.ts';

const INSERT = insertSql('sessions', SESSION_COLUMNS);

export function postgresSessions(db: Db): SessionRepo {
  return {
    async insert(s) {
      await db.query(INSERT, sessionValues(s));
    },
    async find(digests) {
      const row = await firstByDigest<SessionRow>(db.query, 'sessions', digests);
      return row && toSession(row);
    },
    async get(id) {
      const [row] = await db.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
      return row && toSession(row);
    },
    async end(id, at) {
      return (await db.query('UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING id', [id, at])).length === 1;
    },
    // A racing call waits for the row lock and sees the other's append (READ COMMITTED re-checks the
    // condition on the row's new version): a client is recorded once.
    async addClient(id, clientId) {
      await db.query('UPDATE sessions SET client_ids = array_append(client_ids, $2) WHERE id = $1 AND NOT ($2 = ANY (client_ids))', [id, clientId]);
    },
    async clients(id) {
      const [row] = await db.query<{ client_ids: string[] }>('SELECT client_ids FROM sessions WHERE id = $1', [id]);
      return row ? [...row.client_ids] : [];
    },
  };
}

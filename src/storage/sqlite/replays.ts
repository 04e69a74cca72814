/**
 * One-time keys. A claim is one statement: insert, or take over a row that has expired; one changed
 * row says this caller won. SQLite serialises writers, so concurrent claims (other processes on
 * the file included) see each other.
 */
import type { ReplayRepo } from '../types.ts';
import type { Db } from './db.ts';

export function sqliteReplays(db: Db): ReplayRepo {
  const claim = db.prepare(
    'INSERT INTO replays (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replays.expires_at <= ?',
  );
  const purge = db.prepare('DELETE FROM replays WHERE expires_at < ?');
  return {
    async claim(key, expiresAt, at) {
      return claim.run(key, expiresAt, at) === 1;
    },
    async purgeExpired(before) {
      return purge.run(before);
    },
  };
}

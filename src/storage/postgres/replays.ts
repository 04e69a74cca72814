/**
 * One-time keys. A claim is one statement: `INSERT … ON CONFLICT DO UPDATE … WHERE expired
 * RETURNING`, which PostgreSQL runs under the row's lock: of N concurrent claims on any nodes
 * exactly one gets a row back.
 */
import type { ReplayRepo } from '../types.ts';
import type { Db } from './db.ts';

const CLAIM =
  'INSERT INTO replays (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replays.expires_at <= $3 RETURNING key';

export function postgresReplays(db: Db): ReplayRepo {
  return {
    async claim(key, expiresAt, at) {
      return (await db.query(CLAIM, [key, expiresAt, at])).length === 1;
    },
  };
}

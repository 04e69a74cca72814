/**
 * The batched purge statement of each table, for both SQL backends: the keys of at most `limit`
 * rows found through the table's `expires_at` index, then those rows deleted by key, so a batch
 * touches no more rows than it deletes and holds its locks briefly.
 */
import type { PurgeTable } from '../types.ts';

/** Each table's primary key. */
const KEYS: Readonly<Record<PurgeTable, string>> = {
  tokens: 'digest',
  codes: 'digest',
  device_codes: 'digest',
  sessions: 'id',
  revocation_feed: 'seq',
  replays: 'key',
  revoked_families: 'family_id',
  refresh_successors: 'digest',
  console_sessions: 'digest',
  console_links: 'digest',
  pushed_requests: 'digest',
};

/** `DELETE` of at most `limit` rows expired before `before`; the placeholders are the backend's own (`?` or `$1`, `$2`). */
export function purgeSql(table: PurgeTable, before: string, limit: string): string {
  const key = KEYS[table];
  return `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at < ${before} LIMIT ${limit})`;
}

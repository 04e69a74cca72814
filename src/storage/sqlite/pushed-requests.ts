/**
 * Pushed authorization requests (RFC 9126). A request is used by one conditional UPDATE inside
 * `BEGIN IMMEDIATE`; one changed row says this caller won, whichever process on the file asks.
 */
import { PUSHED_REQUEST_COLUMNS, pushedRequestValues, toPushedRequest, type PushedRequestRow } from '../sql/rows.ts';
import type { PushedRequestRepo } from '../types.ts';
import { firstOf, insertSql, type Db } from './db.ts';

export function sqlitePushedRequests(db: Db): PushedRequestRepo {
  const insert = db.prepare(insertSql('pushed_requests', PUSHED_REQUEST_COLUMNS));
  const find = db.prepare<PushedRequestRow>('SELECT * FROM pushed_requests WHERE digest = ?');
  const consume = db.prepare('UPDATE pushed_requests SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL AND expires_at > ?');
  return {
    async insert(r) {
      await db.immediate(() => insert.run(...pushedRequestValues(r)));
    },
    async find(digests) {
      const row = firstOf(digests, find);
      return row && toPushedRequest(row);
    },
    async consume(digest, at) {
      return db.immediate(() => consume.run(at, digest, at) === 1);
    },
  };
}

/**
 * Pushed authorization requests (RFC 9126). A request is used by one conditional statement,
 * `UPDATE … WHERE consumed_at IS NULL AND expires_at > at RETURNING`: exactly one caller, on any
 * node, gets a row back.
 */
import { PUSHED_REQUEST_COLUMNS, pushedRequestValues, toPushedRequest, type PushedRequestRow } from '../sql/rows.ts';
import type { PushedRequestRepo } from '../types.ts';
import { firstByDigest, insertSql, type Db } from './db.ts';

const INSERT = insertSql('pushed_requests', PUSHED_REQUEST_COLUMNS);
const CONSUME = 'UPDATE pushed_requests SET consumed_at = $2 WHERE digest = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING digest';

export function postgresPushedRequests(db: Db): PushedRequestRepo {
  return {
    async insert(r) {
      await db.query(INSERT, pushedRequestValues(r));
    },
    async find(digests) {
      const row = await firstByDigest<PushedRequestRow>(db.query, 'pushed_requests', digests);
      return row && toPushedRequest(row);
    },
    async consume(digest, at) {
      return (await db.query(CONSUME, [digest, at])).length === 1;
    },
  };
}

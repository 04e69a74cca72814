/**
 * Authorization codes. A code is consumed by one conditional statement,
 * `UPDATE … WHERE consumed_at IS NULL RETURNING`: exactly one caller gets a row back (SECURITY C-06).
 */
import { CODE_COLUMNS, codeValues, toCode, type CodeRow } from '../sql/rows.ts';
import type { CodeRepo } from '../types.ts';
import { counted, firstByDigest, insertSql, type Db } from './db.ts';

const INSERT = insertSql('codes', CODE_COLUMNS);

export function postgresCodes(db: Db): CodeRepo {
  return {
    async insert(c) {
      await db.query(INSERT, codeValues(c));
    },
    async find(digests) {
      const row = await firstByDigest<CodeRow>(db.query, 'codes', digests);
      return row && toCode(row);
    },
    async consume(digest, at) {
      return (await db.query('UPDATE codes SET consumed_at = $2 WHERE digest = $1 AND consumed_at IS NULL RETURNING digest', [digest, at])).length === 1;
    },
    purgeExpired: (before) => counted(db.query, 'DELETE FROM codes WHERE expires_at < $1', [before]),
  };
}

/**
 * Authorization codes. A code is consumed by one conditional statement,
 * `UPDATE … WHERE consumed_at IS NULL RETURNING`: exactly one caller gets a row back (SECURITY C-06).
 * A redemption takes the family's lock first (tokens.ts) and writes its tokens in the same transaction.
 */
import { CODE_COLUMNS, codeValues, tokenValues, toCode, type CodeRow } from '../sql/rows.ts';
import type { CodeRepo } from '../types.ts';
import { firstByDigest, insertSql, type Db } from './db.ts';
import { familyOf, INSERT_TOKEN, lockFamily } from './tokens.ts';

const INSERT = insertSql('codes', CODE_COLUMNS);
const CONSUME = 'UPDATE codes SET consumed_at = $2 WHERE digest = $1 AND consumed_at IS NULL RETURNING digest';

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
      return (await db.query(CONSUME, [digest, at])).length === 1;
    },
    async redeem(digest, at, tokens) {
      const familyId = familyOf(tokens);
      return db.tx(async (q) => {
        if (familyId !== null && (await lockFamily(q, familyId))) return false;
        if ((await q(CONSUME, [digest, at])).length !== 1) return false;
        for (const t of tokens) await q(INSERT_TOKEN, tokenValues(t));
        return true;
      });
    },
  };
}

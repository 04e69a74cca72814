/**
 * Authorization codes. A code is consumed by one conditional UPDATE inside `BEGIN IMMEDIATE`;
 * one changed row says this caller won (SECURITY C-06). A redemption checks the consent and writes
 * its tokens in the same transaction, so a withdrawal (consents.ts, one `BEGIN IMMEDIATE` too) lands
 * wholly before or after it (CON-06).
 */
import { CODE_COLUMNS, codeValues, toCode, type CodeRow } from '../sql/rows.ts';
import { ConsentMissingError, covers, type CodeRepo, type ConsentCheck, type TokenRecord } from '../types.ts';
import { firstOf, insertSql, type Db } from './db.ts';
import { tokenWrites } from './tokens.ts';

export function sqliteCodes(db: Db): CodeRepo {
  const insert = db.prepare(insertSql('codes', CODE_COLUMNS));
  const find = db.prepare<CodeRow>('SELECT * FROM codes WHERE digest = ?');
  const consume = db.prepare('UPDATE codes SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL');
  const redeem = redemptionWrite(db);
  return {
    async insert(c) {
      await db.immediate(() => insert.run(...codeValues(c)));
    },
    async find(digests) {
      const row = firstOf(digests, find);
      return row && toCode(row);
    },
    async consume(digest, at) {
      return db.immediate(() => consume.run(at, digest) === 1);
    },
    async redeem(digest, at, issued, check) {
      return db.immediate(() => redeem(() => consume.run(at, digest) === 1, issued, check));
    },
  };
}

/**
 * A redemption's write, run inside the caller's `BEGIN IMMEDIATE`, for codes and device authorization
 * requests alike: the consent covers the scopes (CON-06), no family of the tokens is revoked,
 * `consume` (the conditional UPDATE) wins, then the tokens. False when the family was revoked or
 * another redemption won.
 */
export function redemptionWrite(db: Db): (consume: () => boolean, issued: readonly TokenRecord[], check: ConsentCheck | undefined) => boolean {
  const tokens = tokenWrites(db);
  const consent = db.prepare<{ scope: string }>('SELECT scope FROM consents WHERE client_id = ? AND subject_type = ? AND subject = ?');
  return (consume, issued, check) => {
    if (check) {
      const row = consent.get(check.clientId, check.subjectType, check.subject);
      if (!row || !covers(row.scope, check.scopes)) throw new ConsentMissingError(check.clientId);
    }
    if (issued.some((t) => tokens.familyRevoked(t.familyId)) || !consume()) return false;
    for (const t of issued) tokens.insert(t);
    return true;
  };
}

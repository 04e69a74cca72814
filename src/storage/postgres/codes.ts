/**
 * Authorization codes. A code is consumed by one conditional statement,
 * `UPDATE … WHERE consumed_at IS NULL RETURNING`: exactly one caller gets a row back (SECURITY C-06).
 * A redemption takes the family's lock (tokens.ts) and writes its tokens in the same transaction.
 * For a client that is not trusted it first reads the consent `FOR KEY SHARE` (CON-06): a withdrawal
 * deletes that row first thing (consents.ts), so the two are serialised on it. A withdrawal that
 * deleted it first makes the redemption find no row once it commits; a redemption that locked it
 * first makes the withdrawal wait for its commit, and the withdrawal's later statements (READ
 * COMMITTED) then see the redemption's tokens and revoke them. The row lock comes before the family
 * lock in both, so they never wait on each other in opposite orders.
 */
import { CODE_COLUMNS, codeValues, tokenValues, toCode, type CodeRow } from '../sql/rows.ts';
import { ConsentMissingError, covers, type CodeRepo, type ConsentCheck, type TokenRecord } from '../types.ts';
import { firstByDigest, insertSql, type Db, type Query } from './db.ts';
import { familyOf, INSERT_TOKEN, lockFamily } from './tokens.ts';

const INSERT = insertSql('codes', CODE_COLUMNS);
const CONSENT = 'SELECT scope FROM consents WHERE client_id = $1 AND subject_type = $2 AND subject = $3 FOR KEY SHARE';
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
    async redeem(digest, at, tokens, check) {
      return db.tx((q) => redeemIn(q, async () => (await q(CONSUME, [digest, at])).length === 1, tokens, check));
    },
  };
}

/**
 * A redemption's write inside its transaction, for codes and device authorization requests alike:
 * the consent row first (CON-06, the order above), then the family's lock, then `consume` (the one
 * conditional statement that decides who wins), then the tokens. False when the family was revoked or
 * another redemption won.
 */
export async function redeemIn(q: Query, consume: () => Promise<boolean>, tokens: readonly TokenRecord[], check: ConsentCheck | undefined): Promise<boolean> {
  if (check) {
    const [row] = await q<{ scope: string }>(CONSENT, [check.clientId, check.subjectType, check.subject]);
    if (!row || !covers(row.scope, check.scopes)) throw new ConsentMissingError(check.clientId);
  }
  const familyId = familyOf(tokens);
  if (familyId !== null && (await lockFamily(q, familyId))) return false;
  if (!(await consume())) return false;
  for (const t of tokens) await q(INSERT_TOKEN, tokenValues(t));
  return true;
}

/**
 * Remembered consent. A grant inserts the row, or, when it exists, locks it (`FOR UPDATE`) and adds
 * the scopes, in one transaction: concurrent grants on any nodes each keep the other's scopes. A
 * withdrawal deletes the consent first, which a redemption racing it holds (codes.ts, CON-06), then
 * takes the advisory lock of each of the subject's families (in family id order) before marking and
 * revoking it, as `revokeFamily` does (tokens.ts): a rotation or redemption racing it on
 * any node lands before it, and is revoked, or finds the mark and fails (RACE-03).
 */
import { CONSENT_COLUMNS, consentValues, toConnectedApp, toConsent, type ConsentRow } from '../sql/rows.ts';
import { REVOKED_FAMILY_RETENTION_MS, scopeUnion, type ConsentRecord, type ConsentRepo } from '../types.ts';
import { counted, insertSql, type Db } from './db.ts';
import { lockFamily } from './tokens.ts';

const KEY = 'client_id = $1 AND subject_type = $2 AND subject = $3';
const TOKEN_OF = "subject = $1 AND client_id = $2 AND meta->>'subjectType' = $3";
const LIST = `SELECT c.*, EXISTS (SELECT 1 FROM tokens t WHERE t.subject = c.subject AND t.client_id = c.client_id AND t.meta->>'subjectType' = c.subject_type
    AND t.kind = 'refresh_token' AND t.revoked_at IS NULL AND t.expires_at > $3) AS live_grants
  FROM consents c WHERE c.subject_type = $1 AND c.subject = $2 ORDER BY c.client_id`;
const FAMILIES = `SELECT family_id FROM tokens WHERE ${TOKEN_OF} AND family_id IS NOT NULL AND expires_at > $4
  UNION SELECT family_id FROM codes WHERE subject = $1 AND client_id = $2 AND subject_type = $3 AND consumed_at IS NULL AND expires_at > $4
  UNION SELECT family_id FROM device_codes WHERE subject = $1 AND client_id = $2 AND subject_type = $3 AND status = 'approved' AND expires_at > $4
  ORDER BY family_id`;
const PENDING_OF_CLIENT = `SELECT family_id FROM codes WHERE client_id = $1 AND consumed_at IS NULL AND expires_at > $2
  UNION SELECT family_id FROM device_codes WHERE client_id = $1 AND status = 'approved' AND expires_at > $2
  ORDER BY family_id`;
const MARK = `INSERT INTO revoked_families (family_id, revoked_at, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (family_id) DO UPDATE SET expires_at = GREATEST(revoked_families.expires_at, EXCLUDED.expires_at)`;
const INSERT = `${insertSql('consents', CONSENT_COLUMNS)} ON CONFLICT (client_id, subject_type, subject) DO NOTHING RETURNING client_id`;

export function postgresConsents(db: Db): ConsentRepo {
  return {
    async get(clientId, subjectType, subject) {
      const [row] = await db.query<ConsentRow>(`SELECT * FROM consents WHERE ${KEY}`, [clientId, subjectType, subject]);
      return row && toConsent(row);
    },
    async grant(clientId, subjectType, subject, scopes, at) {
      return db.tx(async (q) => {
        const fresh: ConsentRecord = { clientId, subject, subjectType, scope: scopeUnion('', scopes), grantedAt: at };
        if ((await q(INSERT, consentValues(fresh))).length === 1) return fresh;
        const [row] = await q<ConsentRow>(`SELECT * FROM consents WHERE ${KEY} FOR UPDATE`, [clientId, subjectType, subject]);
        const record: ConsentRecord = { ...fresh, scope: scopeUnion(row?.scope ?? '', scopes) };
        await q(`UPDATE consents SET scope = $4, granted_at = $5 WHERE ${KEY}`, [clientId, subjectType, subject, record.scope, at]);
        return record;
      });
    },
    async revoke(clientId, subjectType, subject) {
      return (await counted(db.query, `DELETE FROM consents WHERE ${KEY}`, [clientId, subjectType, subject])) === 1;
    },
    revokeClient: (clientId, at) =>
      db.tx(async (q) => {
        const consents = await counted(q, 'DELETE FROM consents WHERE client_id = $1', [clientId]);
        // Locked and marked as a withdrawal's families are: a redemption racing it lands before (its
        // tokens are revoked below) or finds the mark.
        for (const { family_id: familyId } of await q<{ family_id: string }>(PENDING_OF_CLIENT, [clientId, at])) {
          await lockFamily(q, familyId);
          await q(MARK, [familyId, at, at + REVOKED_FAMILY_RETENTION_MS]);
        }
        await q('UPDATE tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL', [clientId, at]);
        return consents;
      }),
    async list(subjectType, subject, at) {
      return (await db.query<ConsentRow & { live_grants: boolean }>(LIST, [subjectType, subject, at])).map(toConnectedApp);
    },
    withdraw: (clientId, subjectType, subject, at) =>
      db.tx(async (q) => {
        // First: a redemption holding the row (codes.ts, CON-06) is waited for, and the statements
        // below then see its tokens; one that comes after finds no consent.
        const consent = (await counted(q, `DELETE FROM consents WHERE ${KEY}`, [clientId, subjectType, subject])) === 1;
        let tokens = 0;
        // In one order on every node, so two withdrawals of overlapping families never wait on each other.
        for (const { family_id: familyId } of await q<{ family_id: string }>(FAMILIES, [subject, clientId, subjectType, at])) {
          await lockFamily(q, familyId);
          await q(MARK, [familyId, at, at + REVOKED_FAMILY_RETENTION_MS]);
          tokens += await counted(q, 'UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, at]);
        }
        tokens += await counted(q, `UPDATE tokens SET revoked_at = $4 WHERE ${TOKEN_OF} AND revoked_at IS NULL`, [subject, clientId, subjectType, at]);
        return { consent, tokens };
      }),
  };
}

/**
 * Remembered consent. A grant inserts the row, or, when it exists, locks it (`FOR UPDATE`) and adds
 * the scopes, in one transaction: concurrent grants on any nodes each keep the other's scopes.
 */
import { CONSENT_COLUMNS, consentValues, toConsent, type ConsentRow } from '../sql/rows.ts';
import { scopeUnion, type ConsentRecord, type ConsentRepo } from '../types.ts';
import { counted, insertSql, type Db } from './db.ts';

const KEY = 'client_id = $1 AND subject_type = $2 AND subject = $3';
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
    async revokeClient(clientId) {
      return counted(db.query, 'DELETE FROM consents WHERE client_id = $1', [clientId]);
    },
  };
}

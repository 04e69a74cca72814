/** Remembered consent. A grant reads and writes its row inside one `BEGIN IMMEDIATE`. */
import { CONSENT_COLUMNS, consentValues, toConsent, type ConsentRow } from '../sql/rows.ts';
import { scopeUnion, type ConsentRecord, type ConsentRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteConsents(db: Db): ConsentRepo {
  const get = db.prepare<ConsentRow>('SELECT * FROM consents WHERE client_id = ? AND subject_type = ? AND subject = ?');
  const upsert = db.prepare(`${insertSql('consents', CONSENT_COLUMNS)} ON CONFLICT (client_id, subject_type, subject) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at`);
  const revoke = db.prepare('DELETE FROM consents WHERE client_id = ? AND subject_type = ? AND subject = ?');
  const revokeClient = db.prepare('DELETE FROM consents WHERE client_id = ?');
  return {
    async get(clientId, subjectType, subject) {
      const row = get.get(clientId, subjectType, subject);
      return row && toConsent(row);
    },
    async grant(clientId, subjectType, subject, scopes, at) {
      return db.immediate(() => {
        const scope = scopeUnion(get.get(clientId, subjectType, subject)?.scope ?? '', scopes);
        const record: ConsentRecord = { clientId, subject, subjectType, scope, grantedAt: at };
        upsert.run(...consentValues(record));
        return record;
      });
    },
    async revoke(clientId, subjectType, subject) {
      return db.immediate(() => revoke.run(clientId, subjectType, subject) === 1);
    },
    async revokeClient(clientId) {
      return db.immediate(() => revokeClient.run(clientId));
    },
  };
}

/**
 * Remembered consent. A grant reads and writes its row inside one `BEGIN IMMEDIATE`; so does a
 * withdrawal, with the marks and revocations of the subject's grants: serialised with every rotation
 * and redemption (tokens.ts, codes.ts) on any connection.
 */
import { REVOKED_FAMILY_RETENTION_MS } from '../types.ts';
import { CONSENT_COLUMNS, consentValues, toConnectedApp, toConsent, type ConsentRow } from '../sql/rows.ts';
import { scopeUnion, type ConsentRecord, type ConsentRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteConsents(db: Db): ConsentRepo {
  const get = db.prepare<ConsentRow>('SELECT * FROM consents WHERE client_id = ? AND subject_type = ? AND subject = ?');
  const upsert = db.prepare(`${insertSql('consents', CONSENT_COLUMNS)} ON CONFLICT (client_id, subject_type, subject) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at`);
  const revoke = db.prepare('DELETE FROM consents WHERE client_id = ? AND subject_type = ? AND subject = ?');
  const revokeClient = db.prepare('DELETE FROM consents WHERE client_id = ?');
  const TOKEN_OF = "subject = ? AND client_id = ? AND json_extract(meta, '$.subjectType') = ?";
  const list = db.prepare<ConsentRow & { live_grants: number }>(
    `SELECT c.*, EXISTS (SELECT 1 FROM tokens t WHERE t.subject = c.subject AND t.client_id = c.client_id AND json_extract(t.meta, '$.subjectType') = c.subject_type
       AND t.kind = 'refresh_token' AND t.revoked_at IS NULL AND t.expires_at > ?) AS live_grants
     FROM consents c WHERE c.subject_type = ? AND c.subject = ? ORDER BY c.client_id`,
  );
  const families = db.prepare<{ family_id: string }>(
    `SELECT family_id FROM tokens WHERE ${TOKEN_OF} AND family_id IS NOT NULL AND expires_at > ?
     UNION SELECT family_id FROM codes WHERE subject = ? AND client_id = ? AND subject_type = ? AND consumed_at IS NULL AND expires_at > ?
     UNION SELECT family_id FROM device_codes WHERE subject = ? AND client_id = ? AND subject_type = ? AND status = 'approved' AND expires_at > ?`,
  );
  const markFamily = db.prepare(
    'INSERT INTO revoked_families (family_id, revoked_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)',
  );
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL');
  const pendingOfClient = db.prepare<{ family_id: string }>(
    `SELECT family_id FROM codes WHERE client_id = ? AND consumed_at IS NULL AND expires_at > ?
     UNION SELECT family_id FROM device_codes WHERE client_id = ? AND status = 'approved' AND expires_at > ?`,
  );
  const revokeClientTokens = db.prepare('UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL');
  const revokeSubject = db.prepare(`UPDATE tokens SET revoked_at = ? WHERE ${TOKEN_OF} AND revoked_at IS NULL`);
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
    async revokeClient(clientId, at) {
      return db.immediate(() => {
        for (const { family_id: familyId } of pendingOfClient.all(clientId, at, clientId, at)) markFamily.run(familyId, at, at + REVOKED_FAMILY_RETENTION_MS);
        revokeClientTokens.run(at, clientId);
        return revokeClient.run(clientId);
      });
    },
    async list(subjectType, subject, at) {
      return list.all(at, subjectType, subject).map(toConnectedApp);
    },
    async withdraw(clientId, subjectType, subject, at) {
      return db.immediate(() => {
        const consent = revoke.run(clientId, subjectType, subject) === 1;
        let tokens = 0;
        for (const { family_id: familyId } of families.all(subject, clientId, subjectType, at, subject, clientId, subjectType, at, subject, clientId, subjectType, at)) {
          markFamily.run(familyId, at, at + REVOKED_FAMILY_RETENTION_MS);
          tokens += revokeFamily.run(at, familyId);
        }
        tokens += revokeSubject.run(at, subject, clientId, subjectType);
        return { consent, tokens };
      });
    },
  };
}

/** The audit trail: append-only rows, newest first by sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, type AuditRow } from '../sql/rows.ts';
import type { AuditRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

const INSERT = insertSql('audit', AUDIT_COLUMNS);

export function postgresAudit(db: Db): AuditRepo {
  return {
    async append(e) {
      await db.query(INSERT, auditValues(e));
    },
    async list(limit) {
      return (await db.query<AuditRow>('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT $1', [limit])).map(toAudit);
    },
  };
}

/** The audit trail: append-only rows, newest first by sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, type AuditRow } from '../sql/rows.ts';
import type { AuditRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteAudit(db: Db): AuditRepo {
  const append = db.prepare(insertSql('audit', AUDIT_COLUMNS));
  const list = db.prepare<AuditRow>('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT ?');
  return {
    async append(e) {
      append.run(...auditValues(e));
    },
    async list(limit) {
      return list.all(limit).map(toAudit);
    },
  };
}

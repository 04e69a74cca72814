/** The audit trail: append-only rows, newest first by sequence; queried by keyset on the sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, toAuditEntry, type AuditRow, type AuditSeqRow } from '../sql/rows.ts';
import { auditPage, auditPosition, type AuditRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

const INSERT = insertSql('audit', AUDIT_COLUMNS);
const FILTERS = ['target', 'actor', 'action'] as const;

export function postgresAudit(db: Db): AuditRepo {
  return {
    async append(e) {
      await db.query(INSERT, auditValues(e));
    },
    async list(limit) {
      return (await db.query<AuditRow>('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT $1', [limit])).map(toAudit);
    },
    async query(filter, limit, before) {
      const used = FILTERS.filter((f) => filter[f] !== undefined);
      const where = ['seq < $1', ...used.map((c, i) => `${c} = $${i + 2}`)].join(' AND ');
      const params = [auditPosition(before) ?? Number.MAX_SAFE_INTEGER, ...used.map((f) => filter[f]!), limit + 1];
      const rows = await db.query<AuditSeqRow>(`SELECT seq, at, actor, action, target, detail FROM audit WHERE ${where} ORDER BY seq DESC LIMIT $${used.length + 2}`, params);
      return auditPage(rows.map(toAuditEntry), limit);
    },
  };
}

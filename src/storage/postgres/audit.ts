/** The audit trail: append-only rows, newest first by sequence; queried by keyset on the sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, toAuditEntry, type AuditRow, type AuditSeqRow } from '../sql/rows.ts';
import { auditPage, auditPosition, type AuditRepo } from '../types.ts';
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
    async query(filter, limit, before) {
      const params: unknown[] = [auditPosition(before) ?? Number.MAX_SAFE_INTEGER];
      const where = ['seq < $1'];
      const bind = (v: unknown) => `$${params.push(v)}`;
      if (filter.target !== undefined) where.push(`target = ${bind(filter.target)}`);
      if (filter.actor !== undefined) where.push(`actor = ${bind(filter.actor)}`);
      if (filter.action !== undefined) where.push(filter.action.endsWith('.') ? `starts_with(action, ${bind(filter.action)})` : `action = ${bind(filter.action)}`);
      const rows = await db.query<AuditSeqRow>(`SELECT seq, at, actor, action, target, detail FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${bind(limit + 1)}`, params);
      return auditPage(rows.map(toAuditEntry), limit);
    },
  };
}

/** The audit trail: append-only rows, newest first by sequence; queried by keyset on the sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, toAuditEntry, type AuditRow, type AuditSeqRow } from '../sql/rows.ts';
import { auditPage, auditPosition, type AuditFilter, type AuditRepo } from '../types.ts';
import { insertSql, type Db, type Statement } from './db.ts';

const FILTERS = ['target', 'actor', 'action'] as const;

export function sqliteAudit(db: Db): AuditRepo {
  const append = db.prepare(insertSql('audit', AUDIT_COLUMNS));
  const list = db.prepare<AuditRow>('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT ?');
  // One statement per combination of filters, so each can use its index.
  const queries = new Map<string, Statement<AuditSeqRow>>();
  const queryFor = (used: readonly string[]) => {
    const key = used.join(',');
    let q = queries.get(key);
    if (!q) {
      const where = ['seq < ?', ...used.map((c) => `${c} = ?`)].join(' AND ');
      q = db.prepare<AuditSeqRow>(`SELECT seq, at, actor, action, target, detail FROM audit WHERE ${where} ORDER BY seq DESC LIMIT ?`);
      queries.set(key, q);
    }
    return q;
  };
  return {
    async append(e) {
      append.run(...auditValues(e));
    },
    async list(limit) {
      return list.all(limit).map(toAudit);
    },
    async query(filter: AuditFilter, limit, before) {
      const used = FILTERS.filter((f) => filter[f] !== undefined);
      const rows = queryFor(used).all(auditPosition(before) ?? Number.MAX_SAFE_INTEGER, ...used.map((f) => filter[f]!), limit + 1);
      return auditPage(rows.map(toAuditEntry), limit);
    },
  };
}

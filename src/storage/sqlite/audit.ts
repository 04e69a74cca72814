/** The audit trail: append-only rows, newest first by sequence; queried by keyset on the sequence. */
import { AUDIT_COLUMNS, auditValues, toAudit, toAuditEntry, type AuditRow, type AuditSeqRow } from '../sql/rows.ts';
import { auditPage, auditPosition, type AuditFilter, type AuditRepo } from '../types.ts';
import { insertSql, type Db, type Statement } from './db.ts';

/** The conditions of a filter, each with its values: `action` ending with `.` is a prefix. */
function conditions(f: AuditFilter): Array<{ sql: string; values: Array<string | number> }> {
  const out: Array<{ sql: string; values: Array<string | number> }> = [];
  if (f.target !== undefined) out.push({ sql: 'target = ?', values: [f.target] });
  if (f.actor !== undefined) out.push({ sql: 'actor = ?', values: [f.actor] });
  if (f.action !== undefined) {
    out.push(f.action.endsWith('.') ? { sql: 'substr(action, 1, ?) = ?', values: [f.action.length, f.action] } : { sql: 'action = ?', values: [f.action] });
  }
  return out;
}

export function sqliteAudit(db: Db): AuditRepo {
  const append = db.prepare(insertSql('audit', AUDIT_COLUMNS));
  const list = db.prepare<AuditRow>('SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT ?');
  // One statement per combination of filters, so each can use its index.
  const queries = new Map<string, Statement<AuditSeqRow>>();
  const queryFor = (used: readonly string[]) => {
    const key = used.join(' AND ');
    let q = queries.get(key);
    if (!q) {
      const where = ['seq < ?', ...used].join(' AND ');
      q = db.prepare<AuditSeqRow>(`SELECT seq, at, actor, action, target, detail FROM audit WHERE ${where} ORDER BY seq DESC LIMIT ?`);
      queries.set(key, q);
    }
    return q;
  };
  return {
    async append(e) {
      await db.immediate(() => append.run(...auditValues(e)));
    },
    async list(limit) {
      return list.all(limit).map(toAudit);
    },
    async query(filter: AuditFilter, limit, before) {
      const used = conditions(filter);
      const rows = queryFor(used.map((c) => c.sql)).all(auditPosition(before) ?? Number.MAX_SAFE_INTEGER, ...used.flatMap((c) => c.values), limit + 1);
      return auditPage(rows.map(toAuditEntry), limit);
    },
  };
}

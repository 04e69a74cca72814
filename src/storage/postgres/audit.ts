/** The audit trail: append-only rows, newest first by sequence. */
import type { AuditEvent, AuditRepo } from '../types.ts';
import type { Db } from './db.ts';

export function postgresAudit(db: Db): AuditRepo {
  return {
    async append(e) {
      await db.query('INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5::jsonb)', [e.at, e.actor, e.action, e.target, JSON.stringify(e.detail)]);
    },
    async list(limit) {
      const rows = await db.query<{ at: string; actor: string; action: string; target: string; detail: AuditEvent['detail'] }>(
        'SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT $1',
        [limit],
      );
      return rows.map((r) => ({ at: Number(r.at), actor: r.actor, action: r.action, target: r.target, detail: r.detail }));
    },
  };
}

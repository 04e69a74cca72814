/** The audit trail as an array, appended to; listed newest first. An event's sequence number is its index + 1. */
import { auditMatches, auditPage, auditPosition, type AuditEvent, type AuditFilter, type AuditPage, type AuditRepo } from '../types.ts';

export class MemoryAudit implements AuditRepo {
  readonly #events: AuditEvent[] = [];

  async append(event: AuditEvent): Promise<void> {
    this.#events.push(event);
  }
  async list(limit: number): Promise<AuditEvent[]> {
    return this.#events.slice(-limit).reverse();
  }
  async query(filter: AuditFilter, limit: number, before?: string): Promise<AuditPage> {
    // One more than asked, to know whether a next page exists (as the SQL backends do).
    const found: Array<{ seq: number; event: AuditEvent }> = [];
    for (let seq = Math.min(auditPosition(before) ?? Infinity, this.#events.length + 1) - 1; seq >= 1 && found.length <= limit; seq--) {
      const event = this.#events[seq - 1]!;
      if (auditMatches(event, filter)) found.push({ seq, event: structuredClone(event) });
    }
    return auditPage(found, limit);
  }
}


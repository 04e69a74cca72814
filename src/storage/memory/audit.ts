/** The audit trail as an array, appended to; listed newest first. */
import type { AuditEvent, AuditRepo } from '../types.ts';

export class MemoryAudit implements AuditRepo {
  readonly #events: AuditEvent[] = [];

  async append(event: AuditEvent): Promise<void> {
    this.#events.push(event);
  }
  async list(limit: number): Promise<AuditEvent[]> {
    return this.#events.slice(-limit).reverse();
  }
}

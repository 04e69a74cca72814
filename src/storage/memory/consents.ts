/** Remembered consent in a map by (client, subject type, subject). */
import { scopeUnion, type ConsentRecord, type ConsentRepo, type SubjectType } from '../types.ts';

const keyOf = (clientId: string, subjectType: SubjectType, subject: string): string => JSON.stringify([clientId, subjectType, subject]);

export class MemoryConsents implements ConsentRepo {
  readonly #rows = new Map<string, ConsentRecord>();

  async get(clientId: string, subjectType: SubjectType, subject: string): Promise<ConsentRecord | undefined> {
    const row = this.#rows.get(keyOf(clientId, subjectType, subject));
    return row && { ...row };
  }
  async grant(clientId: string, subjectType: SubjectType, subject: string, scopes: readonly string[], at: number): Promise<ConsentRecord> {
    const key = keyOf(clientId, subjectType, subject);
    const row: ConsentRecord = { clientId, subject, subjectType, scope: scopeUnion(this.#rows.get(key)?.scope ?? '', scopes), grantedAt: at };
    this.#rows.set(key, row);
    return { ...row };
  }
  async revoke(clientId: string, subjectType: SubjectType, subject: string): Promise<boolean> {
    return this.#rows.delete(keyOf(clientId, subjectType, subject));
  }
  async revokeClient(clientId: string): Promise<number> {
    let n = 0;
    for (const [key, row] of this.#rows) if (row.clientId === clientId && this.#rows.delete(key)) n++;
    return n;
  }
}

/** Remembered consent in a map by (client, subject type, subject). */
import { covers, scopeUnion, type ConnectedApp, type ConsentCheck, type ConsentRecord, type ConsentRepo, type SubjectType, type Withdrawal } from '../types.ts';
import type { MemoryTokens } from './tokens.ts';

/** Whose unredeemed grants: one subject's (a withdrawal), or every subject's when absent (the client's end). */
export interface PendingOf {
  readonly subjectType: SubjectType;
  readonly subject: string;
}
/** The families of unredeemed grants to a client (codes, approved device requests) that a withdrawal marks. */
export type PendingFamilies = (clientId: string, at: number, of?: PendingOf) => string[];

const keyOf = (clientId: string, subjectType: SubjectType, subject: string): string => JSON.stringify([clientId, subjectType, subject]);

export class MemoryConsents implements ConsentRepo {
  readonly #rows = new Map<string, ConsentRecord>();
  readonly #tokens: MemoryTokens;
  readonly #pending: PendingFamilies;

  /** The tokens, codes and approved device requests a withdrawal revokes, in the same synchronous step as the consent. */
  constructor(tokens: MemoryTokens, pending: PendingFamilies) {
    this.#tokens = tokens;
    this.#pending = pending;
  }

  async get(clientId: string, subjectType: SubjectType, subject: string): Promise<ConsentRecord | undefined> {
    const row = this.#rows.get(keyOf(clientId, subjectType, subject));
    return row && { ...row };
  }
  /** Synchronously: a consent of the subject to the client covers the scopes (a redemption's check). */
  covers(check: ConsentCheck): boolean {
    const row = this.#rows.get(keyOf(check.clientId, check.subjectType, check.subject));
    return row !== undefined && covers(row.scope, check.scopes);
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
  async revokeClient(clientId: string, at: number): Promise<number> {
    let n = 0;
    for (const [key, row] of this.#rows) if (row.clientId === clientId && this.#rows.delete(key)) n++;
    this.#tokens.endClient(clientId, this.#pending(clientId, at), at);
    return n;
  }
  async list(subjectType: SubjectType, subject: string, at: number): Promise<ConnectedApp[]> {
    return [...this.#rows.values()]
      .filter((row) => row.subjectType === subjectType && row.subject === subject)
      .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
      .map((row) => ({ ...row, liveGrants: this.#tokens.liveRefresh(row.clientId, subjectType, subject, at) }));
  }
  async withdraw(clientId: string, subjectType: SubjectType, subject: string, at: number): Promise<Withdrawal> {
    const consent = this.#rows.delete(keyOf(clientId, subjectType, subject));
    const tokens = this.#tokens.withdraw(clientId, subjectType, subject, this.#pending(clientId, at, { subjectType, subject }), at);
    return { consent, tokens };
  }
}

/**
 * Authorization codes in a map by digest. A consume is a check and a set with no await between; a
 * redemption also checks the consent and writes its tokens into the tokens repository in the same
 * synchronous step, so a withdrawal (itself one synchronous step) lands wholly before or after it.
 */
import { ConflictError, ConsentMissingError, type CodeRecord, type CodeRepo, type ConsentCheck, type TokenRecord } from '../types.ts';
import { deleteExpired, expiresAt, firstOf } from './maps.ts';
import type { MemoryTokens } from './tokens.ts';
import type { PendingOf } from './consents.ts';

export class MemoryCodes implements CodeRepo {
  readonly #rows = new Map<string, CodeRecord>();
  readonly #tokens: MemoryTokens;
  readonly #consented: (check: ConsentCheck) => boolean;

  /** `consented` answers synchronously whether the consents repository holds a covering consent. */
  constructor(tokens: MemoryTokens, consented: (check: ConsentCheck) => boolean) {
    this.#tokens = tokens;
    this.#consented = consented;
  }

  async insert(c: CodeRecord): Promise<void> {
    if (this.#rows.has(c.digest)) throw new ConflictError('duplicate key');
    this.#rows.set(c.digest, { ...c });
  }
  async find(digests: readonly string[]): Promise<CodeRecord | undefined> {
    const row = firstOf(this.#rows, digests);
    return row && { ...row };
  }
  async consume(digest: string, at: number): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.consumedAt !== null) return false;
    this.#rows.set(digest, { ...row, consumedAt: at });
    return true;
  }
  async redeem(digest: string, at: number, tokens: readonly TokenRecord[], consent?: ConsentCheck): Promise<boolean> {
    if (consent && !this.#consented(consent)) throw new ConsentMissingError(consent.clientId);
    const row = this.#rows.get(digest);
    if (!row || row.consumedAt !== null) return false;
    return this.#tokens.insertAll(tokens, () => this.#rows.set(digest, { ...row, consumedAt: at }));
  }
  /** The families of the subject's unredeemed, unexpired codes for the client (a consent's withdrawal marks them). */
  families(clientId: string, at: number, of?: PendingOf): string[] {
    return [...this.#rows.values()]
      .filter((c) => c.clientId === clientId && (of === undefined || (c.subjectType === of.subjectType && c.subject === of.subject)) && c.consumedAt === null && c.expiresAt > at)
      .map((c) => c.familyId);
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    return deleteExpired(this.#rows, before, limit, expiresAt);
  }
}

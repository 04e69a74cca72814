/**
 * Device authorization requests in a map by device-code digest, with an index by user-code digest.
 * Every method checks and writes with no await in between; a redemption checks the consent and
 * writes its tokens into the tokens repository in the same synchronous step (as codes.ts).
 */
import { ConflictError, ConsentMissingError, SLOW_DOWN_SECONDS, type ConsentCheck, type DeviceCodeRecord, type DeviceCodeRepo, type TokenRecord } from '../types.ts';
import { deleteExpired, expiresAt, firstOf } from './maps.ts';
import type { MemoryTokens } from './tokens.ts';
import type { PendingOf } from './consents.ts';

export class MemoryDeviceCodes implements DeviceCodeRepo {
  readonly #rows = new Map<string, DeviceCodeRecord>();
  /** User-code digest → device-code digest. */
  readonly #byUser = new Map<string, string>();
  readonly #tokens: MemoryTokens;
  readonly #consented: (check: ConsentCheck) => boolean;

  constructor(tokens: MemoryTokens, consented: (check: ConsentCheck) => boolean) {
    this.#tokens = tokens;
    this.#consented = consented;
  }

  async insert(r: DeviceCodeRecord): Promise<void> {
    if (this.#rows.has(r.digest) || this.#byUser.has(r.userCode)) throw new ConflictError('duplicate key');
    this.#rows.set(r.digest, { ...r });
    this.#byUser.set(r.userCode, r.digest);
  }
  async find(digests: readonly string[]): Promise<DeviceCodeRecord | undefined> {
    const row = firstOf(this.#rows, digests);
    return row && { ...row };
  }
  async findByUserCode(digests: readonly string[]): Promise<DeviceCodeRecord | undefined> {
    const digest = firstOf(this.#byUser, digests);
    const row = digest === undefined ? undefined : this.#rows.get(digest);
    return row && { ...row };
  }
  async decide(digest: string, at: number, approval: Parameters<DeviceCodeRepo['decide']>[2]): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.status !== 'pending' || row.expiresAt <= at) return false;
    this.#rows.set(digest, approval
      ? { ...row, status: 'approved', subject: approval.subject, subjectType: approval.subjectType, authTime: approval.authTime, sessionId: approval.sessionId, decidedAt: at }
      : { ...row, status: 'denied', decidedAt: at });
    return true;
  }
  async poll(digest: string, at: number) {
    const row = this.#rows.get(digest);
    if (!row) return undefined;
    const tooFast = row.polledAt !== null && at - row.polledAt < row.interval * 1000;
    const record: DeviceCodeRecord = { ...row, polledAt: at, interval: tooFast ? row.interval + SLOW_DOWN_SECONDS : row.interval };
    this.#rows.set(digest, record);
    return { record: { ...record }, tooFast };
  }
  async redeem(digest: string, at: number, tokens: readonly TokenRecord[], consent?: ConsentCheck): Promise<boolean> {
    if (consent && !this.#consented(consent)) throw new ConsentMissingError(consent.clientId);
    const row = this.#rows.get(digest);
    if (!row || row.status !== 'approved') return false;
    return this.#tokens.insertAll(tokens, () => this.#rows.set(digest, { ...row, status: 'redeemed', decidedAt: row.decidedAt ?? at }));
  }
  /** The families of the subject's approved, unredeemed, unexpired requests of the client (a consent's withdrawal marks them). */
  families(clientId: string, at: number, of?: PendingOf): string[] {
    return [...this.#rows.values()]
      .filter((r) => r.clientId === clientId && (of === undefined || (r.subjectType === of.subjectType && r.subject === of.subject)) && r.status === 'approved' && r.expiresAt > at)
      .map((r) => r.familyId);
  }
  /** Purge (GROW-01): see `PurgeRepo`. */
  purge(before: number, limit: number): number {
    const n = deleteExpired(this.#rows, before, limit, expiresAt);
    if (n > 0) for (const [user, digest] of this.#byUser) if (!this.#rows.has(digest)) this.#byUser.delete(user);
    return n;
  }
}

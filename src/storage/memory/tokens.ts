/** Stateful tokens in a map by digest, with the feed of revoked JWT ids kept beside it. */
import { ConflictError, REVOKED_FAMILY_RETENTION_MS, RevokedFamilyError, type RevocationPage, type SealedSuccessor, type TokenRecord, type TokenRepo } from '../types.ts';
import { deleteExpired, expiresAt, firstOf } from './maps.ts';

const ofSubject = (row: TokenRecord, clientId: string, subjectType: string, subject: string): boolean =>
  row.clientId === clientId && row.subject === subject && row.meta?.subjectType === subjectType;

export class MemoryTokens implements TokenRepo {
  readonly #rows = new Map<string, TokenRecord>();
  /** Revoked JWT ids by sequence number, in revocation order (the feed behind `revocations`). */
  readonly #feed = new Map<number, { jti: string; expiresAt: number }>();
  #seq = 0;
  /** Sealed successors of rotated refresh tokens, by the consumed token's digest (RACE-04). */
  readonly #successors = new Map<string, SealedSuccessor>();
  /** Revoked families, by id: until when the mark is kept (RACE-03). */
  readonly #revokedFamilies = new Map<string, number>();

  /** Stores a row; a `jti:` record that becomes revoked here joins the feed, as the SQL triggers do. */
  #set(row: TokenRecord): void {
    const before = this.#rows.get(row.digest);
    this.#rows.set(row.digest, row);
    if (row.digest.startsWith('jti:') && row.revokedAt !== null && (before === undefined || before.revokedAt === null)) {
      this.#feed.set(++this.#seq, { jti: row.digest.slice(4), expiresAt: row.expiresAt });
    }
  }

  #revokeWhere(matches: (row: TokenRecord) => boolean, at: number): number {
    let n = 0;
    for (const row of [...this.#rows.values()]) {
      if (matches(row) && row.revokedAt === null) {
        this.#set({ ...row, revokedAt: at });
        n++;
      }
    }
    return n;
  }

  #familyRevoked(familyId: string | null): boolean {
    return familyId !== null && this.#revokedFamilies.has(familyId);
  }

  async insert(token: TokenRecord): Promise<void> {
    if (this.#rows.has(token.digest)) throw new ConflictError('duplicate key');
    if (this.#familyRevoked(token.familyId)) throw new RevokedFamilyError(token.familyId!);
    this.#set({ ...token });
  }
  async find(digests: readonly string[]): Promise<TokenRecord | undefined> {
    const row = firstOf(this.#rows, digests);
    return row && { ...row };
  }
  async revoke(digest: string, at: number): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null) return false;
    this.#set({ ...row, revokedAt: at });
    return true;
  }
  async revokeFamily(familyId: string, at: number): Promise<number> {
    this.#markFamily(familyId, at);
    return this.#revokeWhere((row) => row.familyId === familyId, at);
  }
  #markFamily(familyId: string, at: number): void {
    this.#revokedFamilies.set(familyId, Math.max(this.#revokedFamilies.get(familyId) ?? 0, at + REVOKED_FAMILY_RETENTION_MS));
  }
  /** Whether a refresh token of the subject for the client is live at `at` (a connected app's grants). */
  liveRefresh(clientId: string, subjectType: string, subject: string, at: number): boolean {
    for (const row of this.#rows.values()) {
      if (row.kind === 'refresh_token' && row.revokedAt === null && row.expiresAt > at && ofSubject(row, clientId, subjectType, subject)) return true;
    }
    return false;
  }
  /**
   * Synchronously (a consent's withdrawal): marks revoked `families` and those of the subject's
   * unexpired tokens for the client, and revokes their tokens and every token of the subject for the client.
   */
  withdraw(clientId: string, subjectType: string, subject: string, families: readonly string[], at: number): number {
    const marked = new Set(families);
    for (const row of this.#rows.values()) if (row.familyId !== null && row.expiresAt > at && ofSubject(row, clientId, subjectType, subject)) marked.add(row.familyId);
    for (const familyId of marked) this.#markFamily(familyId, at);
    return this.#revokeWhere((row) => (row.familyId !== null && marked.has(row.familyId)) || ofSubject(row, clientId, subjectType, subject), at);
  }
  /** Synchronously (the client's end): marks `families` revoked and revokes every token of the client. */
  endClient(clientId: string, families: readonly string[], at: number): number {
    for (const familyId of families) this.#markFamily(familyId, at);
    return this.#revokeWhere((row) => row.clientId === clientId, at);
  }
  async revokeClient(clientId: string, at: number): Promise<number> {
    return this.#revokeWhere((row) => row.clientId === clientId, at);
  }
  /** Purge (GROW-01) of the tokens, the feed or the family marks: see `PurgeRepo`. */
  purge(table: 'tokens' | 'revocation_feed' | 'revoked_families' | 'refresh_successors', before: number, limit: number): number {
    if (table === 'tokens') return deleteExpired(this.#rows, before, limit, expiresAt);
    if (table === 'refresh_successors') return deleteExpired(this.#successors, before, limit, expiresAt);
    if (table === 'revocation_feed') return deleteExpired(this.#feed, before, limit, expiresAt);
    return deleteExpired(this.#revokedFamilies, before, limit, (until) => until);
  }
  async rotate(digest: string, at: number, successors: readonly TokenRecord[], sealed?: SealedSuccessor): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null) return false;
    return this.insertAll(successors, () => {
      this.#set({ ...row, revokedAt: at });
      if (sealed) this.#successors.set(digest, { ...sealed });
    });
  }
  async extend(digest: string, at: number, expiresAt: number, records: readonly TokenRecord[]): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null || row.expiresAt <= at) return false;
    return this.insertAll(records, () => this.#set({ ...row, expiresAt: Math.max(row.expiresAt, expiresAt) }));
  }
  async successor(digest: string, at: number): Promise<SealedSuccessor | undefined> {
    const s = this.#successors.get(digest);
    return s && s.expiresAt > at ? { ...s } : undefined;
  }
  async forgetSuccessor(digest: string): Promise<void> {
    this.#successors.delete(digest);
  }

  /**
   * Synchronously, so with no write in between: false when a record's family is revoked; else
   * `before()` and every record (a duplicate digest throws `ConflictError` first, writing nothing).
   * Rotation here and redemption in the codes repository are built on it.
   */
  insertAll(records: readonly TokenRecord[], before: () => void): boolean {
    if (records.some((r) => this.#familyRevoked(r.familyId))) return false;
    if (records.some((r) => this.#rows.has(r.digest))) throw new ConflictError('duplicate key');
    before();
    for (const r of records) this.#set({ ...r });
    return true;
  }
  async revocations(cursor: string | undefined, limit: number): Promise<RevocationPage> {
    const start = cursor === undefined ? 0 : Number(cursor);
    let last = Number.isSafeInteger(start) && start >= 0 ? start : 0;
    const page: Array<{ jti: string; expiresAt: number }> = [];
    for (const [seq, r] of this.#feed) {
      if (page.length >= limit) break;
      if (seq <= last) continue;
      page.push({ ...r });
      last = seq;
    }
    return { revocations: page, cursor: String(last) };
  }
}

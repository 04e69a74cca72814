/** Stateful tokens in a map by digest, with the feed of revoked JWT ids kept beside it. */
import { ConflictError, REVOKED_FAMILY_RETENTION_MS, RevokedFamilyError, type RevocationPage, type TokenRecord, type TokenRepo } from '../types.ts';
import { deleteExpired, firstOf } from './maps.ts';

export class MemoryTokens implements TokenRepo {
  readonly #rows = new Map<string, TokenRecord>();
  /** Revoked JWT ids in revocation order (the feed behind `revocations`). */
  readonly #feed: Array<{ jti: string; expiresAt: number }> = [];
  /** Revoked families, by id: until when the mark is kept (RACE-03). */
  readonly #revokedFamilies = new Map<string, number>();

  /** Stores a row; a `jti:` record that becomes revoked here joins the feed, as the SQL triggers do. */
  #set(row: TokenRecord): void {
    const before = this.#rows.get(row.digest);
    this.#rows.set(row.digest, row);
    if (row.digest.startsWith('jti:') && row.revokedAt !== null && (before === undefined || before.revokedAt === null)) {
      this.#feed.push({ jti: row.digest.slice(4), expiresAt: row.expiresAt });
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
    this.#revokedFamilies.set(familyId, Math.max(this.#revokedFamilies.get(familyId) ?? 0, at + REVOKED_FAMILY_RETENTION_MS));
    return this.#revokeWhere((row) => row.familyId === familyId, at);
  }
  async revokeClient(clientId: string, at: number): Promise<number> {
    return this.#revokeWhere((row) => row.clientId === clientId, at);
  }
  async purgeExpired(before: number): Promise<number> {
    return deleteExpired(this.#rows, before);
  }
  async rotate(digest: string, at: number, successors: readonly TokenRecord[]): Promise<boolean> {
    const row = this.#rows.get(digest);
    if (!row || row.revokedAt !== null) return false;
    return this.insertAll(successors, () => this.#set({ ...row, revokedAt: at }));
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
    const from = Number.isSafeInteger(start) && start >= 0 ? start : 0;
    const page = this.#feed.slice(from, from + limit);
    return { revocations: page.map((r) => ({ ...r })), cursor: String(from + page.length) };
  }
}

/**
 * Pushed authorization requests (RFC 9126), stored by the digest of their `request_uri` only.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */

/** An authorization request a client pushed (RFC 9126 §2), waiting to be used once at the authorization endpoint. */
export interface PushedRequestRecord {
  /** Peppered HMAC digest of the `request_uri` (never the URI itself: it stands for the request). */
  readonly digest: string;
  /** The client that pushed it, authenticated as at the token endpoint; only it may use it. */
  readonly clientId: string;
  /** The authorization request's parameters, each once, as validated at the push (no client_id). */
  readonly params: Readonly<Record<string, string>>;
  readonly issuedAt: number;
  /** The end of its lifetime (`expires_in`): the authorization endpoint takes it until then. */
  readonly arriveBy: number;
  /**
   * Until when the user's decision on the consent page shown for it can still use it (after
   * `arriveBy`); rows are purged after this.
   */
  readonly expiresAt: number;
  /** When it was used (a code issued, or the user's decision taken); null while unused. */
  readonly consumedAt: number | null;
}

export interface PushedRequestRepo {
  /** Durable when resolved (so any node can read it at once); rejects with `ConflictError` on a duplicate digest. */
  insert(request: PushedRequestRecord): Promise<void>;
  /** The first request matching any candidate digest (used and expired ones included). */
  find(digests: readonly string[]): Promise<PushedRequestRecord | undefined>;
  /**
   * ONE atomic conditional write: sets consumedAt to `at` iff it is null and the request's
   * `expiresAt` is after `at`. Resolves true for exactly one caller however many race, on any
   * node; false when already used, expired or unknown.
   */
  consume(digest: string, at: number): Promise<boolean>;
}

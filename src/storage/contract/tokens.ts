/**
 * Stateful tokens (opaque access tokens, refresh tokens, revoked JWT ids) and their families.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
import type { ClaimValue } from './clients.ts';

export type TokenKind = 'access_token' | 'refresh_token';

/** A stateful token (opaque access token, refresh token) or a revoked JWT id. */
export interface TokenRecord {
  /** `pepperKid:hex` digest of the token (opaque) or `jti:<id>` for a JWT. */
  readonly digest: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  readonly audience: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** Grant family (refresh rotation, code redemption) for revoke-by-family; null if none. */
  readonly familyId: string | null;
  readonly jti: string;
  /** Absent on tokens of public clients acting for no user. */
  readonly meta?: TokenMeta;
}

/** What user-delegated tokens carry beyond the client-credentials record. */
export interface TokenMeta {
  /** `user` | `organization` for user-delegated tokens; absent for client tokens. */
  readonly subjectType?: string;
  /** Epoch seconds the user authenticated (OIDC `auth_time`). */
  readonly authTime?: number;
  /** The id of the session the user authenticated in (the ID token's `sid`), kept for refreshes. */
  readonly sid?: string;
  /** Epoch ms: absolute end of a refresh-token family (RT-07); rotation never extends it. */
  readonly familyExpiresAt?: number;
  /** Scope originally granted to the family (RT-03: a rotated refresh token keeps it). */
  readonly grantedScope?: string;
  /**
   * Id of the client secret (`sec_…`) presented when the token was minted; absent for public clients.
   * A token's admin authority ends with that secret (ADM-01).
   */
  readonly credentialId?: string;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6: `cnf.jkt`). */
  readonly jkt?: string;
  /** SHA-256 thumbprint of the TLS client certificate the token is bound to (RFC 8705 §3.1: `cnf.x5t#S256`). */
  readonly x5t?: string;
  /** The delegation chain of an exchanged token (RFC 8693 §4.1 `act`). */
  readonly act?: TokenActor;
  /** The client's static claims when an opaque access token was minted (introspection shows them). */
  readonly claims?: Readonly<Record<string, ClaimValue>>;
}

/** An RFC 8693 §4.1 actor: who acts (`sub`, and `iss` when another issuer named it), and the actors before it. */
export interface TokenActor {
  readonly sub: string;
  readonly iss?: string;
  readonly act?: TokenActor;
}

/**
 * Writes into a grant family and its revocation are serialised per family (SQLite: `BEGIN
 * IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock on the family id), and a revoked family
 * keeps a mark that every later write into it checks. So whatever order racing requests land in, a
 * token of the family is written either before the revocation, which then revokes it, or not at all
 * (SECURITY RACE-03).
 */
export interface TokenRepo {
  /**
   * Durable when the promise resolves (a 200 is only sent after it). Rejects with `ConflictError` on
   * a duplicate digest, and with `RevokedFamilyError` (nothing written) when the token's family is
   * revoked.
   */
  insert(token: TokenRecord): Promise<void>;
  /** The first record matching any of the candidate digests (one per live pepper, SECURITY D-01). */
  find(digests: readonly string[]): Promise<TokenRecord | undefined>;
  /** Marks revoked if not already; resolves true if this call revoked it. */
  revoke(digest: string, at: number): Promise<boolean>;
  /**
   * Marks the family revoked (the mark is kept `REVOKED_FAMILY_RETENTION_MS`) and revokes every
   * token of it, in one transaction; resolves how many tokens were newly revoked.
   */
  revokeFamily(familyId: string, at: number): Promise<number>;
  /**
   * Refresh rotation, ONE atomic write: marks `digest` revoked iff it is not already revoked AND
   * inserts `successors`, or does neither (a process killed half-way leaves the one or the other).
   * Resolves true when this call won (SECURITY RT-05); false when the token was already consumed or
   * revoked, or the successors' family is revoked (nothing written). SQL backends: `UPDATE … WHERE revoked_at IS NULL` changing one row,
   * and the inserts, in one transaction. `sealed` (the refresh grace window, RACE-04) is stored in that
   * same write, keyed by `digest`: a request that loses the rotation finds it as soon as it loses.
   */
  rotate(digest: string, at: number, successors: readonly TokenRecord[], sealed?: SealedSuccessor): Promise<boolean>;
  /**
   * A refresh without rotation (a client with `refresh_token_rotation: false`, RT-11), ONE atomic
   * write: iff `digest` is live at `at` (not revoked, `expiresAt > at`) and the family of `records`
   * is not revoked, moves its idle deadline to `expiresAt` (never back) and inserts `records` (the
   * new access token's); else writes nothing. Resolves whether it did. Concurrent calls for one token
   * all succeed. SQL backends: `UPDATE … WHERE revoked_at IS NULL AND expires_at > at` changing one
   * row, and the inserts, in one transaction.
   */
  extend(digest: string, at: number, expiresAt: number, records: readonly TokenRecord[]): Promise<boolean>;
  /**
   * The sealed successor a winning `rotate` of `digest` stored, while its window is open at `at`
   * (`expiresAt > at`); undefined otherwise (RACE-04).
   */
  successor(digest: string, at: number): Promise<SealedSuccessor | undefined>;
  /** Removes the sealed successor of `digest` (its window has ended). */
  forgetSuccessor(digest: string): Promise<void>;
  /** Revokes every live token of the client (security events, RT-08); resolves how many. */
  revokeClient(clientId: string, at: number): Promise<number>;
  /**
   * Revoked JWT ids (`jti:<id>` records whose revokedAt is set), in the order they were revoked,
   * strictly after `cursor` (undefined = from the start), at most `limit`. The returned cursor is
   * opaque and stable: pass it back to continue; it equals the input when nothing is new.
   */
  revocations(cursor: string | undefined, limit: number): Promise<RevocationPage>;
}

/**
 * A consumed refresh token's successor, kept for the refresh grace window only (RACE-04): the token
 * itself sealed with AES-256-GCM under a key derived from the KEK, never in clear.
 */
export interface SealedSuccessor {
  /** Digest of the successor refresh token (not a secret). */
  readonly digest: string;
  /** The successor token, sealed; the seal binds the consumed token's digest, `digest` and `expiresAt`. */
  readonly sealed: string;
  /** Epoch ms the window closes. */
  readonly expiresAt: number;
}

export interface RevocationPage {
  readonly revocations: ReadonlyArray<{ readonly jti: string; /** epoch ms */ readonly expiresAt: number }>;
  readonly cursor: string;
}

/** `jti:<id>` is how a JWT access token is recorded in the tokens table (family membership, revocation). */
export const jtiDigest = (jti: string): string => `jti:${jti}`;

/**
 * Authorization codes (RFC 6749 §4.1.2), stored by digest only.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
import type { SubjectType } from './sessions.ts';
import type { TokenRecord } from './tokens.ts';

/** An authorization code (RFC 6749 §4.1.2), stored by digest only. */
export interface CodeRecord {
  readonly digest: string;
  readonly clientId: string;
  /** The redirect_uri of the authorization request (C-04); null if none was sent. */
  readonly redirectUri: string | null;
  readonly scope: string;
  /** RFC 7636 S256 challenge; null when none (never, for codes this server issues). */
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: string | null;
  readonly nonce: string | null;
  readonly subject: string;
  readonly subjectType: SubjectType;
  /** Epoch seconds of the user's authentication. */
  readonly authTime: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
  /** Family of every token issued from this code (C-02: reuse revokes the family). */
  readonly familyId: string;
  /** The resource the authorization request named (RFC 8707); null when it named none. */
  readonly resource: string | null;
  /**
   * RFC 9449 §10: the SHA-256 JWK thumbprint of the DPoP key the code is bound to (the request's
   * `dpop_jkt`, or the key of the DPoP proof sent with its push); the token request must carry a
   * proof by that key. Null when the code is bound to no key.
   */
  readonly dpopJkt: string | null;
  /**
   * The id of the session the code was issued in (OIDC Front-/Back-Channel and RP-Initiated Logout
   * `sid`): its ID tokens carry it. Null for codes stored before it was kept.
   */
  readonly sessionId: string | null;
}

export interface CodeRepo {
  /** Durable when resolved; rejects with `ConflictError` on a duplicate digest. */
  insert(code: CodeRecord): Promise<void>;
  /** The first code matching any candidate digest (consumed and expired ones included). */
  find(digests: readonly string[]): Promise<CodeRecord | undefined>;
  /**
   * ONE atomic conditional write: sets consumedAt iff it is null. Resolves true for exactly one
   * caller however many race (SECURITY C-06); false when already consumed or unknown.
   */
  consume(digest: string, at: number): Promise<boolean>;
  /**
   * Redemption, ONE atomic write: sets consumedAt iff it is null AND inserts `tokens` (those issued
   * from the code, of its family), or does neither. Resolves true for exactly one caller however
   * many race (C-06); false when the code is already consumed or unknown, or its family is revoked.
   * Since the winner's tokens are written in the transaction that consumes the code, a loser that
   * finds it consumed can revoke them all (C-02, RACE-01).
   * With `consent` (a client that is not trusted), the same step first finds the subject's consent to
   * the client covering those scopes, and without it rejects with `ConsentMissingError`, writing
   * nothing (CON-06); a withdrawal (`ConsentRepo.withdraw`, `revoke`) is serialised with it: it
   * lands before and the redemption fails, or after and revokes the redemption's tokens.
   */
  redeem(digest: string, at: number, tokens: readonly TokenRecord[], consent?: ConsentCheck): Promise<boolean>;
}

/** The consent a redemption must find (CON-06): (client, subject type, subject) approved for `scopes`. */
export interface ConsentCheck {
  readonly clientId: string;
  readonly subjectType: SubjectType;
  readonly subject: string;
  readonly scopes: readonly string[];
}

/** `approved` (a consent's space-separated scope) covers every one of `scopes`. */
export const covers = (approved: string, scopes: readonly string[]): boolean => {
  const have = approved.split(' ');
  return scopes.every((s) => have.includes(s));
};

/** A redemption found no consent covering the code's scopes: withdrawn since the code was issued (CON-06). */
export class ConsentMissingError extends Error {
  constructor(clientId: string) {
    super(`no consent to ${clientId} covers the code`);
    this.name = 'ConsentMissingError';
  }
}

/**
 * Remembered consent: what a user approved a client for on the consent page, until withdrawn.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
import type { SubjectType } from './sessions.ts';

/**
 * A user's (or organization's) approval of one client, keyed by (client, subject type, subject):
 * never shared across subjects or clients. It has no expiry of its own: it ends when it is withdrawn
 * (the client revokes the user's refresh token) or the client is disabled or deleted.
 */
export interface ConsentRecord {
  readonly clientId: string;
  readonly subject: string;
  readonly subjectType: SubjectType;
  /** Every scope approved so far, space-separated, in the order first approved. */
  readonly scope: string;
  /** Epoch ms of the latest approval. */
  readonly grantedAt: number;
}

export interface ConsentRepo {
  get(clientId: string, subjectType: SubjectType, subject: string): Promise<ConsentRecord | undefined>;
  /**
   * ONE atomic write: adds `scopes` to the consent of (client, subject type, subject), creating it if
   * there is none, and sets `grantedAt`; resolves the record as stored. Of concurrent grants none
   * loses another's scopes.
   */
  grant(clientId: string, subjectType: SubjectType, subject: string, scopes: readonly string[], at: number): Promise<ConsentRecord>;
  /** Removes the consent; resolves true when there was one. */
  revoke(clientId: string, subjectType: SubjectType, subject: string): Promise<boolean>;
  /**
   * Every user's grants to the client end (it is disabled or deleted), in ONE transaction: removes
   * every consent given to it, marks the families of its unredeemed codes and of its approved device
   * requests not yet polled for (they issue nothing, even once the client is enabled again or
   * registered anew under its id), and revokes its live tokens. Resolves how many consents it removed.
   */
  revokeClient(clientId: string, at: number): Promise<number>;
  /**
   * Every consent the subject has given (its connected apps), by client id, each with whether a
   * refresh token of the subject for that client is live at `at`.
   */
  list(subjectType: SubjectType, subject: string, at: number): Promise<ConnectedApp[]>;
  /**
   * The subject withdraws the client (admin API), in ONE transaction: removes the consent, marks
   * revoked every grant family of the subject for the client (those of its unexpired tokens and of
   * its unredeemed codes, as `TokenRepo.revokeFamily` marks one), and revokes every live token of
   * the subject for the client. A rotation or redemption racing it is serialised with it as with
   * `revokeFamily` (RACE-03): it lands before and is revoked, or fails.
   */
  withdraw(clientId: string, subjectType: SubjectType, subject: string, at: number): Promise<Withdrawal>;
}

/** A consent as the subject's connected-apps list shows it. */
export interface ConnectedApp extends ConsentRecord {
  /** A refresh token of the subject for the client is live (neither revoked nor expired). */
  readonly liveGrants: boolean;
}

/** What one `withdraw` ended: whether there was a consent, and how many tokens it revoked. */
export interface Withdrawal {
  readonly consent: boolean;
  readonly tokens: number;
}

/** `existing` (space-separated) followed by the scopes of `added` it lacks, in their order. */
export function scopeUnion(existing: string, added: readonly string[]): string {
  const scopes = existing === '' ? [] : existing.split(' ');
  for (const s of added) if (!scopes.includes(s)) scopes.push(s);
  return scopes.join(' ');
}

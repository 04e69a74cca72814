/**
 * Device authorization requests (RFC 8628 §3.1–3.5): the device code and the user code, each stored
 * by digest only, the request's state (pending, approved or denied by the user, redeemed) and its
 * polling pace. Part of the storage contract that src/storage/types.ts gathers; every backend
 * implements it.
 */
import type { SubjectType } from './sessions.ts';
import type { TokenRecord } from './tokens.ts';
import type { ConsentCheck } from './codes.ts';

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface DeviceCodeRecord {
  /** Digest of the device code (the client's secret handle on the request). */
  readonly digest: string;
  /** Digest of the normalised user code (upper case, no dash): unique among stored requests. */
  readonly userCode: string;
  readonly clientId: string;
  readonly scope: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Seconds the client must wait between polls (RFC 8628 §3.2); grows by 5 at each `slow_down`. */
  readonly interval: number;
  /** Epoch ms of the last poll; null before the first. */
  readonly polledAt: number | null;
  readonly status: DeviceCodeStatus;
  /** Set when the user approves: whom the tokens are for. */
  readonly subject: string | null;
  readonly subjectType: SubjectType | null;
  /** Epoch seconds of the approving user's authentication. */
  readonly authTime: number | null;
  /** Epoch ms of the user's decision (approve or deny); null while pending. */
  readonly decidedAt: number | null;
  /** The session the user approved in: its ID tokens' `sid` (Back-Channel Logout); null while pending or denied. */
  readonly sessionId: string | null;
  /** Family of every token issued from this request. */
  readonly familyId: string;
}

/** What the user's approval records. */
export interface DeviceApproval {
  readonly subject: string;
  readonly subjectType: SubjectType;
  readonly authTime: number;
  readonly sessionId: string;
}

/** A poll's outcome: the request as it now stands, and whether the poll came before its interval was up. */
export interface DevicePoll {
  readonly record: DeviceCodeRecord;
  readonly tooFast: boolean;
}

export interface DeviceCodeRepo {
  /** Durable when resolved; rejects with `ConflictError` on a duplicate digest or user code. */
  insert(record: DeviceCodeRecord): Promise<void>;
  /** The request of the first candidate device-code digest (any status, expired included). */
  find(digests: readonly string[]): Promise<DeviceCodeRecord | undefined>;
  /** The request of the first candidate user-code digest (any status, expired included). */
  findByUserCode(digests: readonly string[]): Promise<DeviceCodeRecord | undefined>;
  /**
   * ONE atomic conditional write: the user's decision (an approval, or `undefined` for a denial),
   * made iff the request is pending and unexpired at `at`. Resolves true for exactly one caller.
   */
  decide(digest: string, at: number, approval: DeviceApproval | undefined): Promise<boolean>;
  /**
   * ONE atomic read-modify-write of a poll at `at` (RFC 8628 §3.5): a poll sooner than `interval`
   * seconds after the previous one is `tooFast` and adds 5 s to the interval; every poll becomes the
   * previous one. Undefined when the request is unknown.
   */
  poll(digest: string, at: number): Promise<DevicePoll | undefined>;
  /**
   * Redemption, ONE atomic write: marks an approved request redeemed AND inserts `tokens`, or does
   * neither. Resolves true for exactly one caller however many race; false when the request is not
   * approved (already redeemed, unknown) or its family is revoked. With `consent`, the same step
   * first finds the subject's consent to the client covering those scopes, and without it rejects
   * with `ConsentMissingError`, writing nothing (as `CodeRepo.redeem`, CON-06).
   */
  redeem(digest: string, at: number, tokens: readonly TokenRecord[], consent?: ConsentCheck): Promise<boolean>;
}

/** RFC 8628 §3.5: the interval grows by this many seconds at each `slow_down`. */
export const SLOW_DOWN_SECONDS = 5;

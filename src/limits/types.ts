/** What a limiter backend (memory, Redis) stores: token buckets and failure lockouts. */
import type { Maybe } from '../util/maybe.ts';

export interface BucketRule {
  /** Most tokens the bucket holds (the burst). */
  readonly capacity: number;
  /** Tokens added per millisecond. */
  readonly refillPerMs: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** Whole tokens left after this take. */
  readonly remaining: number;
  /** When refused: ms until one token is there again. */
  readonly retryAfterMs: number;
  /** Ms until the bucket is full again. */
  readonly resetMs: number;
}

export interface LockoutRule {
  /** Failures allowed before the first lockout. */
  readonly threshold: number;
  /** First lockout, ms; doubles with every further failure. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Failures older than this (since the last one) are forgotten, ms. */
  readonly windowMs: number;
}

/**
 * Keys are opaque strings made by the caller (hashed; never a secret). `now` is epoch ms. A backend
 * in this process's memory answers at once, a shared one (Redis, a cluster's primary) with a promise.
 */
export interface LimiterBackend {
  /** Takes one token from the bucket at `key`, atomically. */
  take(key: string, rule: BucketRule, now: number): Maybe<TakeResult>;
  /** Ms the key stays locked (0 = not locked). */
  lockedFor(key: string, now: number): Maybe<number>;
  /** Records a failure, atomically; answers the lockout it starts, ms (0 = none yet). */
  fail(key: string, rule: LockoutRule, now: number): Maybe<number>;
}

export const perMinute = (n: number): BucketRule => ({ capacity: n, refillPerMs: n / 60_000 });

/** The next lockout after `failures` failures (0 below the threshold). */
export function lockoutMs(failures: number, rule: LockoutRule): number {
  if (failures < rule.threshold) return 0;
  return Math.min(rule.maxMs, rule.baseMs * 2 ** Math.min(30, failures - rule.threshold));
}

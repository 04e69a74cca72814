/**
 * The token endpoint's limits (RFC 6749 §2.3.1 brute-force protection, SECURITY A-08):
 * - a token bucket per source address, taken before anything else is done for the request;
 * - a token bucket per authenticated client (the deployment's limit, or the client's own), taken
 *   only after its secret was proven, so nobody can spend another client's budget;
 * - failed authentications counted per (client id, address): past a threshold that pair is locked
 *   for a growing interval. The same client calling from another address is not affected.
 * "Address" is `addressKey`'s: an IPv6 source counts by its /64 (SECURITY NET-02).
 * Every refusal is `OAuthError('rate_limited')` with Retry-After and the limit state. The checks a
 * request makes answer at once (or throw) when the backend is local, with a promise when it is shared.
 */
import { hash } from 'node:crypto';
import { andThen, type Maybe } from '../util/maybe.ts';
import { OAuthError } from '../wire/errors.ts';
import type { ClientRecord } from '../storage/types.ts';
import { addressKey } from './address-key.ts';
import { perMinute, type LimiterBackend, type LockoutRule, type TakeResult } from './types.ts';

export interface LimitSettings {
  /** Requests per minute per client; 0 = off. */
  readonly rateLimitClient: number;
  /** Requests per minute per address; 0 = off. */
  readonly rateLimitIp: number;
  readonly lockoutThreshold: number;
  readonly lockoutBaseMs: number;
  readonly lockoutMaxMs: number;
}

export type LimitScope = 'ip' | 'client' | 'lockout';

export class RequestLimiter {
  readonly #backend: LimiterBackend;
  readonly #settings: LimitSettings;
  readonly #lockout: LockoutRule;
  readonly #now: () => number;
  readonly #onLimited: (scope: LimitScope) => void;

  constructor(backend: LimiterBackend, settings: LimitSettings, options: { now?: () => number; onLimited?: (scope: LimitScope) => void } = {}) {
    this.#backend = backend;
    this.#settings = settings;
    this.#lockout = { threshold: settings.lockoutThreshold, baseMs: settings.lockoutBaseMs, maxMs: settings.lockoutMaxMs, windowMs: settings.lockoutMaxMs };
    this.#now = options.now ?? Date.now;
    this.#onLimited = options.onLimited ?? (() => {});
  }

  /** Before the request is decoded: the per-address bucket. */
  admitAddress(ip: string): Maybe<void> {
    const limit = this.#settings.rateLimitIp;
    if (limit === 0) return;
    const now = this.#now();
    return andThen(this.#backend.take(`ip:${addressKey(ip)}`, perMinute(limit), now), (r) => this.#check('ip', limit, r, now));
  }

  /** Before the secret is checked: refuses a (client id, address) pair that is locked out. */
  checkLockout(clientId: string, ip: string): Maybe<void> {
    const now = this.#now();
    return andThen(this.#backend.lockedFor(lockKey(clientId, ip), now), (ms) => {
      if (ms > 0) this.#refuse('lockout', ms, { limit: this.#settings.lockoutThreshold, remaining: 0, resetAt: Math.ceil((now + ms) / 1000) });
    });
  }

  /** After a failed secret check for `clientId` from `ip`. */
  async recordFailure(clientId: string, ip: string): Promise<void> {
    await this.#backend.fail(lockKey(clientId, ip), this.#lockout, this.#now());
  }

  /**
   * A lockout of any named subject under its own rule (the console's sign-in: per user name, per
   * address), in the same backend as the client lockouts, so every node and worker shares it.
   * Resolves how long `subject` stays locked, ms (0 = not locked).
   */
  async subjectLockedFor(subject: string): Promise<number> {
    return this.#backend.lockedFor(subjectKey(subject), this.#now());
  }

  /** Records a failure of `subject`; resolves the lockout it starts, ms (0 = none yet). */
  async subjectFailed(subject: string, rule: LockoutRule): Promise<number> {
    return this.#backend.fail(subjectKey(subject), rule, this.#now());
  }

  /** After the client proved its secret: its own bucket. */
  admitClient(client: ClientRecord): Maybe<void> {
    const limit = client.rateLimit ?? this.#settings.rateLimitClient;
    if (!limit) return;
    const now = this.#now();
    return andThen(this.#backend.take(`cl:${client.id}`, perMinute(limit), now), (r) => this.#check('client', limit, r, now));
  }

  /** Open dynamic registration (RFC 7591 §5): at most `perHour` registrations per source address. */
  async admitRegistration(ip: string, perHour: number): Promise<void> {
    const now = this.#now();
    this.#check('ip', perHour, await this.#backend.take(`rg:${addressKey(ip)}`, { capacity: perHour, refillPerMs: perHour / 3_600_000 }, now), now);
  }

  #check(scope: LimitScope, limit: number, r: TakeResult, now: number): void {
    if (r.allowed) return;
    this.#refuse(scope, r.retryAfterMs, { limit, remaining: 0, resetAt: Math.ceil((now + r.resetMs) / 1000) });
  }

  #refuse(scope: LimitScope, retryAfterMs: number, rateLimit: { limit: number; remaining: number; resetAt: number }): never {
    this.#onLimited(scope);
    throw new OAuthError('rate_limited', 'Too many requests.', {
      reason: 'rate_limited',
      retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      rateLimit,
    });
  }
}

/** The client id is unauthenticated input here: hashed, so any length or byte makes a fixed-size key. */
const lockKey = (clientId: string, ip: string): string => `lk:${clientIdHash(clientId)}:${addressKey(ip)}`;

/**
 * Hashes of recent client ids: the same few ids come again and again. Bounded (emptied when full,
 * and only ids of a sensible length are kept), so no input grows it. One-shot `hash`: no Hash
 * object (a third of the cost of createHash().update().digest(), the same digest).
 */
const idHashes = new Map<string, string>();
const clientIdHash = (clientId: string): string => {
  let h = idHashes.get(clientId);
  if (h === undefined) {
    h = hash('sha256', clientId, 'base64url').slice(0, 22);
    if (clientId.length <= 256) {
      if (idHashes.size >= 4096) idHashes.clear();
      idHashes.set(clientId, h);
    }
  }
  return h;
};

/** Subjects are caller input (a typed user name): hashed to a fixed-size key. */
const subjectKey = (subject: string): string => `lx:${hash('sha256', subject, 'base64url').slice(0, 22)}`;

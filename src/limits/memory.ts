/**
 * Node-local limiter state: the backend of a single node, and the fallback when Redis is down.
 * Bounded: past `maxKeys` entries the oldest are dropped, so spraying addresses cannot grow memory.
 */
import { lockoutMs, type BucketRule, type LimiterBackend, type LockoutRule, type TakeResult } from './types.ts';

interface Bucket {
  tokens: number;
  at: number;
}
interface Lock {
  failures: number;
  last: number;
  until: number;
}

export class MemoryLimiter implements LimiterBackend {
  readonly #buckets = new Map<string, Bucket>();
  readonly #locks = new Map<string, Lock>();
  readonly #maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys;
  }

  take(key: string, rule: BucketRule, now: number): TakeResult {
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: rule.capacity, at: now };
      this.#remember(this.#buckets, key, b);
    }
    if (now > b.at) {
      b.tokens = Math.min(rule.capacity, b.tokens + (now - b.at) * rule.refillPerMs);
      b.at = now;
    }
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return {
      allowed,
      remaining: Math.floor(b.tokens),
      retryAfterMs: allowed ? 0 : Math.ceil((1 - b.tokens) / rule.refillPerMs),
      resetMs: Math.ceil((rule.capacity - b.tokens) / rule.refillPerMs),
    };
  }

  lockedFor(key: string, now: number): number {
    const lock = this.#locks.get(key);
    return lock ? Math.max(0, lock.until - now) : 0;
  }

  fail(key: string, rule: LockoutRule, now: number): number {
    let lock = this.#locks.get(key);
    if (!lock || now - lock.last > rule.windowMs) {
      lock = { failures: 0, last: now, until: 0 };
      this.#remember(this.#locks, key, lock);
    }
    lock.failures++;
    lock.last = now;
    const ms = lockoutMs(lock.failures, rule);
    if (ms > 0) lock.until = now + ms;
    return ms;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.#maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(key, value);
  }
}

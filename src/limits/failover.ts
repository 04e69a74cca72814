/**
 * Redis first, the local limiter when Redis fails or times out. While Redis is down this node
 * enforces (limit ÷ node count) on its own (SECURITY: never unlimited), and skips Redis entirely for
 * `probeMs` before trying it again, so at most one request per probe interval waits for the command
 * timeout. `degraded()` feeds the `keymint_limiter_fallback` gauge.
 */
import type { Maybe } from '../util/maybe.ts';
import type { BucketRule, LimiterBackend, LockoutRule, TakeResult } from './types.ts';

export interface FailoverOptions {
  readonly nodeCount: number;
  readonly probeMs?: number;
  readonly onChange?: (degraded: boolean, cause?: unknown) => void;
}

export class FailoverLimiter implements LimiterBackend {
  readonly #primary: LimiterBackend;
  readonly #local: LimiterBackend;
  readonly #options: FailoverOptions;
  #downUntil = 0;
  #degraded = false;

  constructor(primary: LimiterBackend, local: LimiterBackend, options: FailoverOptions) {
    this.#primary = primary;
    this.#local = local;
    this.#options = options;
  }

  degraded(): boolean {
    return this.#degraded;
  }

  take(key: string, rule: BucketRule, now: number): Promise<TakeResult> {
    const n = this.#options.nodeCount;
    const share = { capacity: Math.max(1, Math.floor(rule.capacity / n)), refillPerMs: rule.refillPerMs / n };
    return this.#run((b) => b.take(key, b === this.#local ? share : rule, now), now);
  }

  lockedFor(key: string, now: number): Promise<number> {
    return this.#run((b) => b.lockedFor(key, now), now);
  }

  fail(key: string, rule: LockoutRule, now: number): Promise<number> {
    return this.#run((b) => b.fail(key, rule, now), now);
  }

  async #run<T>(op: (backend: LimiterBackend) => Maybe<T>, now: number): Promise<T> {
    if (now < this.#downUntil) return op(this.#local);
    try {
      const result = await op(this.#primary);
      if (this.#degraded) this.#set(false);
      return result;
    } catch (err) {
      this.#downUntil = now + (this.#options.probeMs ?? 1000);
      if (!this.#degraded) this.#set(true, err);
      return op(this.#local);
    }
  }

  #set(degraded: boolean, cause?: unknown): void {
    this.#degraded = degraded;
    this.#options.onChange?.(degraded, cause);
  }
}

/**
 * Shared limiter state in Redis: each operation is one Lua script, so a take or a failure is atomic
 * across every node. Times come from the calling node (nodes keep NTP time; a few ms of skew only
 * shifts a refill).
 */
import type { Redis } from 'ioredis';
import type { BucketRule, LimiterBackend, LockoutRule, TakeResult } from './types.ts';

const TAKE = `
local cap = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 't', 'ts')
local t = tonumber(h[1]); local ts = tonumber(h[2])
if t == nil then t = cap; ts = now end
if now > ts then t = math.min(cap, t + (now - ts) * rate); ts = now end
local allowed = 0; local retry = 0
if t >= 1 then t = t - 1; allowed = 1 else retry = math.ceil((1 - t) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(t), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate) + 1000)
return {allowed, math.floor(t), retry, math.ceil((cap - t) / rate)}
`;

const FAIL = `
local threshold = tonumber(ARGV[1]); local base = tonumber(ARGV[2]); local max = tonumber(ARGV[3])
local window = tonumber(ARGV[4]); local now = tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'n', 'last', 'until')
local n = tonumber(h[1]) or 0; local last = tonumber(h[2]) or 0; local untl = tonumber(h[3]) or 0
if now - last > window then n = 0 end
n = n + 1
local lock = 0
if n >= threshold then lock = math.min(max, base * 2 ^ math.min(30, n - threshold)); untl = now + lock end
redis.call('HSET', KEYS[1], 'n', n, 'last', now, 'until', untl)
redis.call('PEXPIRE', KEYS[1], math.max(window, lock) + 1000)
return lock
`;

interface Scripts {
  kmTake(key: string, cap: number, rate: number, now: number): Promise<[number, number, number, number]>;
  kmFail(key: string, threshold: number, base: number, max: number, window: number, now: number): Promise<number>;
}

export class RedisLimiter implements LimiterBackend {
  readonly #redis: Redis & Scripts;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    redis.defineCommand('kmTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('kmFail', { numberOfKeys: 1, lua: FAIL });
    this.#redis = redis as Redis & Scripts;
    this.#prefix = `${prefix}rl:`;
  }

  async take(key: string, rule: BucketRule, now: number): Promise<TakeResult> {
    const [allowed, remaining, retryAfterMs, resetMs] = await this.#redis.kmTake(this.#prefix + key, rule.capacity, rule.refillPerMs, now);
    return { allowed: allowed === 1, remaining, retryAfterMs, resetMs };
  }

  async lockedFor(key: string, now: number): Promise<number> {
    const until = Number((await this.#redis.hget(`${this.#prefix}${key}`, 'until')) ?? 0);
    return Math.max(0, until - now);
  }

  async fail(key: string, rule: LockoutRule, now: number): Promise<number> {
    return Number(await this.#redis.kmFail(this.#prefix + key, rule.threshold, rule.baseMs, rule.maxMs, rule.windowMs, now));
  }
}

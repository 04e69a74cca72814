/**
 * Builds the deployment's limiter: node-local without Redis; with Redis, shared counters that fall
 * back to a local limiter at (limit ÷ node count) while Redis fails (never to unlimited).
 */
import type { Config } from '../config/types.ts';
import type { Metrics } from '../metrics/index.ts';
import type { Logger } from '../util/log.ts';
import type { RedisHandle } from '../util/redis.ts';
import { FailoverLimiter } from './failover.ts';
import { RequestLimiter } from './limiter.ts';
import { MemoryLimiter } from './memory.ts';
import { RedisLimiter } from './redis.ts';
import type { LimiterBackend } from './types.ts';

export type LimiterConfig = Pick<Config, 'redisPrefix' | 'nodeCount' | 'rateLimitClient' | 'rateLimitIp' | 'lockoutThreshold' | 'lockoutBaseMs' | 'lockoutMaxMs'>;

/**
 * `shared`: state shared with the other processes of this node when Redis is absent or failing (a
 * cluster worker's: the primary's); default this process's memory.
 */
export function createLimiter(config: LimiterConfig, redis: RedisHandle | undefined, metrics: Metrics, log: Logger, now?: () => number, shared?: LimiterBackend): RequestLimiter {
  const local = shared ?? new MemoryLimiter();
  let backend: LimiterBackend = local;
  if (redis) {
    const failover = new FailoverLimiter(new RedisLimiter(redis.client, config.redisPrefix), local, {
      nodeCount: config.nodeCount,
      onChange: (degraded, cause) =>
        degraded
          ? log.warn('rate limiter falls back to local limits', { nodeCount: config.nodeCount, err: cause })
          : log.info('rate limiter uses Redis again'),
    });
    backend = failover;
    metrics.gauge('keymint_limiter_fallback', 'Whether this node limits locally at (limit ÷ node count) because Redis failed (1) or shares counters in Redis (0).', () => [[{}, failover.degraded() ? 1 : 0]]);
  } else {
    metrics.gauge('keymint_limiter_fallback', 'Whether this node limits locally because Redis failed (1); 0 without Redis.', () => [[{}, 0]]);
  }
  return new RequestLimiter(backend, config, {
    onLimited: (scope) => metrics.rateLimited.inc({ limit: scope }),
    ...(now ? { now } : {}),
  });
}

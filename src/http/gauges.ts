/** Gauges read at scrape time: store pool, Redis and feed health, in-flight work, event-loop delay. */
import type { Feed } from '../feed/types.ts';
import type { LoadShedder } from '../limits/shedding.ts';
import type { PoolStats } from '../storage/postgres/db.ts';
import type { Store } from '../storage/types.ts';
import type { RedisHandle } from '../util/redis.ts';
import type { Metrics } from '../metrics/index.ts';

export interface GaugeSources {
  readonly store: Store;
  readonly feed: Feed;
  readonly redis: RedisHandle | undefined;
  readonly shedder: LoadShedder;
}

export function registerGauges(metrics: Metrics, { store, feed, redis, shedder }: GaugeSources): void {
  const pool = (store as Partial<{ poolStats(): PoolStats }>).poolStats?.bind(store);
  if (pool) {
    metrics.gauge('keymint_db_pool_connections', 'PostgreSQL pool connections by state.', () => {
      const s = pool();
      return [[{ state: 'total' }, s.total], [{ state: 'idle' }, s.idle], [{ state: 'waiting' }, s.waiting]];
    });
    metrics.gauge('keymint_db_up', 'Whether the last PostgreSQL call succeeded (1) or failed at connection level (0).', () => [[{}, pool().healthy ? 1 : 0]]);
  }
  if (redis) {
    metrics.gauge('keymint_redis_up', 'Whether the Redis command connection is ready (1) or not (0).', () => [[{}, redis.healthy() ? 1 : 0]]);
    metrics.gauge('keymint_feed_up', 'Whether the Redis feed subscription is connected (1) or not (0).', () => [[{}, feed.healthy() ? 1 : 0]]);
  }
  metrics.gauge('keymint_http_in_flight', 'Requests being handled now (health and metrics requests are not counted).', () => [[{}, shedder.inFlight]]);
  metrics.gauge('keymint_event_loop_delay_seconds', 'Last measured event-loop delay.', () => [[{}, shedder.eventLoopDelayMs / 1000]]);
}

/**
 * One-time use of proofs and assertions (`jti`) across every node through Redis: `SET key 1 NX
 * PXAT expiresAtMs` is one atomic insert-unless-present, kept until the proof could no longer pass
 * anyway, so of N concurrent claims on any nodes exactly one wins and Redis expires the rest.
 *
 * When Redis cannot answer, the claim fails with `UnavailableError` (a 503 with `Retry-After`): a
 * node-local fallback would let the same proof through once per node, which is what the guard is for.
 */
import type { RedisHandle } from '../util/redis.ts';
import { UnavailableError } from '../wire/errors.ts';

export function redisReplayGuard(redis: Pick<RedisHandle, 'client'>, prefix: string) {
  const keyPrefix = `${prefix}once:`;
  return {
    async claim(key: string, expiresAtMs: number): Promise<boolean> {
      try {
        return (await redis.client.set(keyPrefix + key, '1', 'PXAT', Math.ceil(expiresAtMs), 'NX')) === 'OK';
      } catch (cause) {
        throw new UnavailableError('the replay guard (Redis) did not answer', { cause, what: 'redis' });
      }
    },
  };
}

/**
 * The feed over Redis pub/sub: one channel (`<prefix>feed`), JSON messages. A second connection
 * subscribes; when it (re)connects, subscribers get `resync`, since pub/sub keeps nothing for a
 * node that was away.
 */
import type { RedisHandle } from '../util/redis.ts';
import type { Feed, FeedEvent } from './types.ts';

const TYPES = new Set(['keys', 'client', 'revocation', 'resync', 'traffic']);

export function redisFeed(redis: RedisHandle, prefix: string, onError: (err: unknown) => void = () => {}): Feed {
  const channel = `${prefix}feed`;
  const handlers: Array<(event: FeedEvent) => void> = [];
  const sub = redis.duplicate();
  const deliver = (event: FeedEvent) => {
    for (const h of handlers) {
      try {
        h(event);
      } catch (err) {
        onError(err);
      }
    }
  };
  let connectedOnce = false;
  sub.on('ready', () => {
    // ioredis resubscribes by itself on reconnect; what was published meanwhile is lost.
    if (connectedOnce) deliver({ type: 'resync' });
    connectedOnce = true;
  });
  sub.subscribe(channel).catch(onError);
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const event = JSON.parse(message) as FeedEvent;
      if (event && typeof event === 'object' && TYPES.has(event.type)) deliver(event);
    } catch (err) {
      onError(err);
    }
  });
  return {
    async publish(event) {
      try {
        await redis.client.publish(channel, JSON.stringify(event));
      } catch (err) {
        // The other nodes' cache TTL and keyring polling bound what they miss; this node applies it now.
        onError(err);
        deliver(event);
      }
    },
    subscribe: (h) => void handlers.push(h),
    healthy: () => sub.status === 'ready' && redis.healthy(),
    close: async () => {
      sub.disconnect();
    },
  };
}

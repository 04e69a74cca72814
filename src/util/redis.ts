/**
 * Redis connections for the limiter and the feed. `ioredis` is imported here only, on first use,
 * so a deployment without Redis never loads it. Commands never queue while disconnected and time
 * out after `timeoutMs`: a caller learns within that bound that Redis cannot answer, and falls back.
 */
import type { Redis, RedisOptions } from 'ioredis';

export interface RedisHandle {
  readonly client: Redis;
  /** True while the connection is up and the last command did not time out. */
  healthy(): boolean;
  /** A second connection (pub/sub needs its own), with the same options. */
  duplicate(): Redis;
  close(): Promise<void>;
}

export async function openRedis(url: string, timeoutMs: number): Promise<RedisHandle> {
  let mod: { Redis: typeof import('ioredis').Redis };
  try {
    mod = await import('ioredis');
  } catch (err) {
    throw new Error('--redis-url needs the `ioredis` package: npm install ioredis', { cause: err });
  }
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(500, timeoutMs * 5),
    // Keep trying in the background; requests meanwhile use the local fallback.
    retryStrategy: (times) => Math.min(50 * times, 1000),
  };
  const opened: Redis[] = [];
  const open = (extra: RedisOptions = {}): Redis => {
    const r = new mod.Redis(url, { ...options, ...extra });
    r.on('error', () => {}); // health is read from `status`; errors surface on commands
    r.connect().catch(() => {});
    opened.push(r);
    return r;
  };
  const client = open();
  // Give the first connection a moment, so a short-lived CLI can publish; a server starts anyway.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.connectTimeout);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    client,
    healthy: () => client.status === 'ready',
    // The subscriber waits on messages, not replies: no command timeout, and it may queue SUBSCRIBE.
    duplicate: () => open({ commandTimeout: undefined as unknown as number, enableOfflineQueue: true }),
    close: async () => {
      for (const r of opened) r.disconnect();
    },
  };
}

/**
 * The persistent core of Keymint, wired: store (clients cached and announced on the feed), feed,
 * keyring, credentials and metrics. The CLI opens this alone; `createKeymint` (service.ts) adds HTTP.
 */
import type { Config } from './config/index.ts';
import { cachedClients, followCommits } from './credentials/client-cache.ts';
import { ClientService } from './credentials/clients.ts';
import { SessionService } from './credentials/sessions.ts';
import { DIALECTS, mountsOf } from './dialects/index.ts';
import { publishingClients, publishingKeys } from './feed/publishing-store.ts';
import { redisFeed } from './feed/redis.ts';
import { localFeed, type Feed } from './feed/types.ts';
import { GRANT_TYPES } from './grants/index.ts';
import type { Interceptor, Outcome } from './http/pipeline.ts';
import type { LimiterBackend } from './limits/types.ts';
import { Metrics } from './metrics/index.ts';
import { countingStore } from './metrics/store-calls.ts';
import type { RevokedEvent } from './protocol/revocation.ts';
import { withRepos } from './storage/layered.ts';
import { openStore } from './storage/open.ts';
import type { Store } from './storage/types.ts';
import { deriveKey, loadKek, openKeyring } from './tokens/kek.ts';
import type { Keyring, KeyringOptions, SigningAlg } from './tokens/keyring.ts';
import { createLogger, type Logger } from './util/log.ts';
import { openRedis, type RedisHandle } from './util/redis.ts';

export interface KeymintCore {
  readonly config: Config;
  /** The store as the service uses it: clients cached, changes announced on the feed. */
  readonly store: Store;
  /** Cross-node events (Redis pub/sub with --redis-url, else this process only). */
  readonly feed: Feed;
  readonly redis: RedisHandle | undefined;
  readonly metrics: Metrics;
  readonly keyring: Keyring;
  readonly clients: ClientService;
  readonly sessions: SessionService;
  readonly log: Logger;
  /** A key for one purpose, derived from the KEK (the same on every node sharing it). */
  derivedKey(purpose: Parameters<typeof deriveKey>[1]): Buffer;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called after each durable revocation (RFC 7009 endpoint), e.g. to publish it elsewhere. */
  readonly onRevoked?: (event: RevokedEvent) => void | Promise<void>;
  /** Use this store instead of the configured one. */
  readonly store?: Store;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Pipeline interceptors (the sandbox's faults and clock); none in production. */
  readonly interceptors?: readonly Interceptor[];
  /** Told about every request a dialect endpoint answered. */
  readonly observers?: ReadonlyArray<(outcome: Outcome) => void>;
  /** The feed to use when there is no Redis (a cluster worker's: relayed by the primary); default this process only. */
  readonly feed?: Feed;
  /** The registry to count in (a cluster worker's, which the primary reads); default a new one. */
  readonly metrics?: Metrics;
  /** Rate-limit and lockout state when there is no Redis (a cluster worker's: the primary's); default this process's memory. */
  readonly limiter?: LimiterBackend;
  /** What `GET /metrics` answers instead of this process's registry (a cluster worker's: every worker's, summed). */
  readonly scrape?: () => Promise<string>;
  /** Keyring choices of the sandbox: fixed signing keys, no `next` keys. */
  readonly keys?: Pick<KeyringOptions, 'signingKeys' | 'next' | 'firstPairs'>;
  /** false: no rate limits and no lockout at the dialect endpoints (the sandbox, unless its file turns them on). */
  readonly limits?: boolean;
  /** Sandbox mode: client secrets chosen by the caller may be short (they are test fixtures). */
  readonly sandbox?: boolean;
}

/** Opens the store and keyring (creating keys and the KEK on first start). */
export async function openKeymint(config: Config, options: OpenOptions = {}): Promise<KeymintCore> {
  const log = options.log ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const mounts = mountsOf(config);
  const metrics = options.metrics ?? new Metrics();
  const base = countingStore(options.store ?? (await openStore(config)), metrics.storeRoundTrips);
  const closers: Array<() => Promise<void>> = [() => base.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const redis = config.redisUrl ? await openRedis(config.redisUrl, config.redisTimeoutMs) : undefined;
    if (redis) closers.push(() => redis.close());
    const feed = redis ? redisFeed(redis, config.redisPrefix, (err) => log.warn('feed error', { err })) : (options.feed ?? localFeed());
    closers.push(() => feed.close());
    const cache = cachedClients(publishingClients(base.clients, feed), config.clientCacheMs, now);
    const store = withRepos(base, { clients: followCommits(cache, base.changeMarker, now), keys: publishingKeys(base.keys, feed) });
    const fixedAlgs = mounts.flatMap(({ dialect: d }) => (d.accessToken.format === 'jwt' && d.accessToken.alg ? [d.accessToken.alg] : []));
    const algs = [...new Set<SigningAlg>([config.alg, 'RS256', ...fixedAlgs])];
    // Whether keys are sealed already decides whether a missing KEK file may be generated.
    const kek = loadKek(config, config.kek === undefined && (await base.keys.list()).length > 0);
    const keyring = await openKeyring(store.keys, { kek, algs, maxTokenTtl: config.maxTokenTtl, log, now, ...options.keys });
    const settings = { ...config, knownDialects: [...DIALECTS.keys()], knownGrants: GRANT_TYPES, sandbox: options.sandbox === true };
    const clients = new ClientService({ store, keyring, settings, now });
    const sessions = new SessionService({ store, keyring, settings, now });
    feed.subscribe((event) => {
      metrics.feedMessages.inc({ type: event.type });
      if (event.type === 'client') cache.invalidate(event.id);
      if (event.type === 'resync') cache.invalidate();
      if (event.type === 'keys' || event.type === 'resync') keyring.refresh().catch((err: unknown) => log.warn('keyring refresh failed', { err }));
    });
    const derivedKey = (purpose: Parameters<typeof deriveKey>[1]) => deriveKey(kek, purpose);
    return { config, store, feed, redis, keyring, clients, sessions, log, metrics, derivedKey, close };
  } catch (err) {
    await close();
    throw err;
  }
}

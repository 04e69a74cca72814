/**
 * Wires config, store, keyring, credentials, grants, dialects and HTTP into one service.
 * `openKeymint` opens the persistent parts (also used by the CLI); `createKeymint` adds the server.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADMIN_PREFIX, adminHandler } from './admin/routes.ts';
import { ConfigError, type Config } from './config/index.ts';
import { ClientService } from './credentials/clients.ts';
import { parseClientId } from './credentials/ids.ts';
import { DIALECTS } from './dialects/index.ts';
import { openApiDocument } from './dialects/openapi.ts';
import type { Dialect } from './dialects/types.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import { web } from './grants/web.ts';
import { refreshToken } from './grants/refresh-token.ts';
import { opaqueFormatsOf } from './protocol/token-lookup.ts';
import { lifecycleRoutes, type LifecycleDeps } from './http/lifecycle.ts';
import { authorizeRoutes, type AuthorizeDeps } from './http/authorize.ts';
import { authorizationCode } from './grants/authorization-code.ts';
import type { RevokedEvent } from './protocol/revocation.ts';
import { localJwtVerifier } from './tokens/local-verify.ts';
import { SessionService } from './credentials/sessions.ts';
import type { GrantHandler } from './protocol/grant.ts';
import { discoveryRoutes } from './http/discovery.ts';
import { Router } from './http/router.ts';
import { createHttpServer } from './http/server.ts';
import { LoadShedder } from './limits/shedding.ts';
import { tokenRoute, type TokenEndpointOptions } from './http/token-endpoint.ts';
import { clientIpResolver } from './limits/client-ip.ts';
import { createLimiter } from './limits/index.ts';
import { registerGauges } from './metrics/gauges.ts';
import { Metrics } from './metrics/index.ts';
import { countingStore } from './metrics/store-calls.ts';
import { json } from './wire/http.ts';
import type { ExchangeDeps } from './protocol/exchange.ts';
import { cachedClients, type CachedClients } from './credentials/client-cache.ts';
import { publishingClients, publishingKeys } from './feed/publishing-store.ts';
import { redisFeed } from './feed/redis.ts';
import { localFeed, type Feed } from './feed/types.ts';
import { layered } from './storage/layered.ts';
import { openStore } from './storage/open.ts';
import { openRedis, type RedisHandle } from './util/redis.ts';
import type { Store } from './storage/types.ts';
import { Keyring, type SigningAlg } from './tokens/keyring.ts';
import { createLogger, type Logger } from './util/log.ts';

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
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called after each durable revocation (RFC 7009 endpoint), e.g. to publish it to other nodes. */
  readonly onRevoked?: (event: RevokedEvent) => void | Promise<void>;
  /** Use this store instead of opening the SQLite store in the data directory. */
  readonly store?: Store;
  readonly log?: Logger;
  readonly now?: () => number;
}

/** Opens the store and keyring (creating keys and the KEK on first start). */
export async function openKeymint(config: Config, options: OpenOptions = {}): Promise<KeymintCore> {
  const log = options.log ?? createLogger(config.logLevel);
  const dialects = mountedDialects(config);
  const metrics = new Metrics();
  const opened = options.store ?? (await openStore(config));
  const base = countingStore(opened, metrics.storeRoundTrips);
  let redis: RedisHandle | undefined;
  let feed: Feed | undefined;
  try {
    redis = config.redisUrl ? await openRedis(config.redisUrl, config.redisTimeoutMs) : undefined;
    feed = redis ? redisFeed(redis, config.redisPrefix, (err) => log.warn('feed error', { err })) : localFeed();
    const cache = exactWhenPossible(cachedClients(publishingClients(base.clients, feed), config.clientCacheMs, options.now), base);
    const store = layered(base, { clients: cache, keys: publishingKeys(base.keys, feed) });
    const kek = loadKek(config);
    const algs: SigningAlg[] = [...new Set<SigningAlg>([config.alg, 'RS256', ...dialects.flatMap(({ dialect }) => (dialect.accessToken.format === 'jwt' && dialect.accessToken.alg ? [dialect.accessToken.alg] : []))])];
    const keyring = await Keyring.open(store.keys, { kek, algs, maxTokenTtl: config.maxTokenTtl, log, ...(options.now ? { now: options.now } : {}) }).catch((err: unknown) => {
      // AES-GCM refuses to open key material sealed under another KEK: say what to fix.
      if (err instanceof Error && /unable to authenticate data/.test(err.message)) {
        throw new ConfigError('kek', 'the keys in the store were sealed with another key-encryption key; every node and the CLI need the same KEYMINT_KEK');
      }
      throw err;
    });
    const clients = new ClientService({
      store,
      keyring,
      settings: { idPrefix: config.idPrefix, environment: config.environment, maxTokenTtl: config.maxTokenTtl, knownDialects: [...DIALECTS.keys()] },
      ...(options.now ? { now: options.now } : {}),
    });
    const sessions = new SessionService({ store, keyring, settings: { sessionTtl: config.sessionTtl }, ...(options.now ? { now: options.now } : {}) });
    const liveFeed = feed;
    liveFeed.subscribe((event) => {
      if (event.type === 'client') cache.invalidate(event.id);
      if (event.type === 'resync') cache.invalidate();
      if (event.type === 'keys' || event.type === 'resync') {
        keyring.refresh().catch((err: unknown) => log.warn('keyring refresh failed', { err }));
      }
    });
    const close = async () => {
      await liveFeed.close();
      await redis?.close();
      await base.close();
    };
    return { config, store, feed: liveFeed, redis, keyring, clients, sessions, log, metrics, close };
  } catch (err) {
    await feed?.close();
    await redis?.close();
    await base.close();
    throw err;
  }
}

/** How stale the client cache may be with respect to changes committed by another process (SQLite). */
export const CHANGE_CHECK_MS = 20;

/**
 * When the store can tell cheaply that another connection committed (SQLite), drop the whole client
 * cache before answering from it, checking at most every CHANGE_CHECK_MS: a change made by the CLI
 * or another process takes effect within 20 ms, while a busy node pays for the check on one request
 * in many rather than on each.
 */
function exactWhenPossible(cache: CachedClients, base: Store, now: () => number = Date.now): CachedClients {
  const marker = base.changeMarker;
  if (!marker) return cache;
  let seen = marker();
  let checkedAt = now();
  const check = () => {
    const t = now();
    if (t - checkedAt < CHANGE_CHECK_MS && t >= checkedAt) return;
    checkedAt = t;
    const current = marker();
    if (current !== seen) {
      seen = current;
      cache.invalidate();
    }
  };
  return Object.assign(Object.create(cache) as CachedClients, {
    get: (id: string) => {
      check();
      return cache.get(id);
    },
  });
}

export interface Keymint extends KeymintCore {
  readonly router: Router;
  readonly server: Server;
  /** Starts listening; resolves to the bound port. */
  listen(): Promise<number>;
}

const GRANTS: ReadonlyArray<GrantHandler<ExchangeDeps>> = [clientCredentials, authorizationCode, refreshToken, web];

export async function createKeymint(config: Config, options: OpenOptions = {}): Promise<Keymint> {
  const core = await openKeymint(config, options);
  const { store, keyring, clients, sessions, log } = core;
  const now = options.now ?? Date.now;
  const deps: ExchangeDeps = {
    grants: new Map(GRANTS.map((g) => [g.type, g])),
    verifier: {
      verifySecret: (id, secret) => clients.verifySecret(id, secret),
      find: (id) => store.clients.get(id),
      environmentOf: (id) => parseClientId(config, id)?.environment,
    },
    sessions,
    opaqueFormats: opaqueFormatsOf(DIALECTS.values()),
    keyring,
    store,
    settings: {
      issuer: config.issuer,
      alg: config.alg,
      accessTokenTtl: config.tokenTtl,
      refreshTokenTtl: config.refreshTokenTtl,
      refreshTokenIdleTtl: config.refreshTokenIdleTtl,
      environment: config.environment,
      defaultAudience: config.audience,
    },
    now,
  };
  const { metrics } = core;
  const limiter = createLimiter(config, core.redis, metrics, log, options.now);
  const endpoint: TokenEndpointOptions = { limiter, clientIp: clientIpResolver(config.trustedProxies), metrics };
  const scaled: ExchangeDeps = { ...deps, admit: (client) => limiter.admitClient(client) };
  // Each durable revocation goes out on the cross-node feed (Redis with --redis-url), then to the
  // embedder's hook; neither may fail the request (the revocation is already stored).
  const onRevoked = async (event: RevokedEvent) => {
    try {
      await core.feed.publish({ type: 'revocation', ...(event.jti ? { jti: event.jti } : {}), ...(event.digest ? { digest: event.digest } : {}), expiresAt: event.expiresAt });
      await options.onRevoked?.(event);
    } catch (err) {
      log.warn('onRevoked hook failed', { err, client: event.clientId });
    }
  };
  const lifecycle: LifecycleDeps = { ...deps, verifyJwt: localJwtVerifier(keyring, config.issuer), onRevoked };
  const authorizeDeps: AuthorizeDeps = {
    store,
    keyring,
    sessions,
    settings: { issuer: config.issuer, loginUrl: config.loginUrl, sessionCookie: config.sessionCookie },
    now,
  };
  const router = new Router();
  const mounts = mountedDialects(config);
  try {
    for (const { dialect, path } of mounts) {
      router.add(tokenRoute(dialect, path, scaled, log, endpoint));
      for (const r of lifecycleRoutes(dialect, path, lifecycle, log, endpoint)) router.add(r);
      if (dialect.endpoints?.includes('authorize')) {
        for (const r of authorizeRoutes(dialect.name, `${path.slice(0, path.lastIndexOf('/'))}/authorize`, authorizeDeps, log)) router.add(r);
      }
      const doc = JSON.stringify(openApiDocument(dialect, path, config.issuer));
      router.add({ method: 'GET', path: `${path}/openapi.json`, owner: dialect.name, handler: () => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: doc }) });
    }
    const standard = mounts.find((m) => m.dialect.name === 'oauth2');
    const grantTypes = GRANTS.map((g) => g.type).filter((g) => standard?.dialect.grants.includes(g));
    for (const r of discoveryRoutes({ issuer: config.issuer, tokenPath: standard?.path, grantTypes, alg: config.alg, endpoints: standard?.dialect.endpoints ?? [] }, keyring)) router.add(r);
  } catch (err) {
    await core.close();
    throw new ConfigError('dialects', (err as Error).message);
  }
  router.add({
    method: 'GET',
    path: '/readyz',
    owner: 'core',
    handler: async () => {
      try {
        await store.keys.version();
        return json(200, { status: 'ready' }, { 'Cache-Control': 'no-store' });
      } catch {
        return json(503, { status: 'unavailable' }, { 'Cache-Control': 'no-store', 'Retry-After': '1' });
      }
    },
  });
  router.addPrefix(ADMIN_PREFIX, adminHandler({ clients, sessions, keyring, store, issuer: config.issuer, log }));

  const shedder = new LoadShedder({ maxInFlight: config.maxInFlight, maxEventLoopDelayMs: config.maxEventLoopDelayMs, exempt: new Set(['/healthz', '/readyz', '/metrics']) });
  core.feed.subscribe((event) => metrics.feedMessages.inc({ type: event.type }));
  registerGauges(metrics, { store, feed: core.feed, redis: core.redis, shedder });
  router.add({ method: 'GET', path: '/metrics', owner: 'core', handler: () => ({ status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' }, body: metrics.render() }) });
  const server = createHttpServer(
    router,
    { bodyLimit: config.bodyLimit, requestTimeoutMs: 10_000, headersTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000, shedder, onShed: (cause) => metrics.unavailable.inc({ cause: `shed_${cause}` }) },
    log,
  );
  const refresher = setInterval(() => {
    keyring.refresh().catch((err: unknown) => log.warn('keyring refresh failed', { err }));
  }, config.keyringRefreshMs);
  refresher.unref();

  return {
    ...core,
    router,
    server,
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: async () => {
      clearInterval(refresher);
      shedder.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await core.close();
    },
  };
}

interface Mount {
  readonly dialect: Dialect;
  readonly path: string;
}

function mountedDialects(config: Config): Mount[] {
  return config.dialects.map(({ name, path }) => {
    const dialect = DIALECTS.get(name);
    if (!dialect) throw new ConfigError('dialects', `unknown dialect ${JSON.stringify(name)}; known: ${[...DIALECTS.keys()].join(', ')}`);
    return { dialect, path: path ?? dialect.defaultPath };
  });
}

/** The KEK from the environment, or `<data>/kek` (created 0600 on first start). */
function loadKek(config: Config): Buffer {
  if (config.kek !== undefined) return Buffer.from(config.kek, 'base64');
  if (config.dataDir === ':memory:') return randomBytes(32);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const file = join(config.dataDir, 'kek');
  if (!existsSync(file)) {
    // Write a private temp file, then link it into place: a concurrent first start (server and CLI)
    // either wins the link or reads the winner's complete file, never a half-written one.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, randomBytes(32).toString('base64'), { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  }
  const kek = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (kek.length !== 32) throw new ConfigError('kek', `${file} does not hold base64 of 32 bytes`);
  return kek;
}

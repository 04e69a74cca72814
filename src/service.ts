/**
 * The composition root: wires the core (core.ts), grants, dialects, limits and HTTP. Nothing is
 * decided here; every part receives the slice of config it uses.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PREFIX, adminHandler } from './admin/routes.ts';
import { ConfigError, idTokenAlgs, withBoundPort, withMtlsUrl, type Config } from './config/index.ts';
import { openKeymint, type KeymintCore, type OpenOptions } from './core.ts';
import { DIALECTS, mountsOf } from './dialects/index.ts';
import { oauth2 } from './dialects/oauth2.ts';
import { bindGrants, GRANT_TYPES } from './grants/index.ts';
import { discoveryRoutes } from './http/discovery.ts';
import { mountRegistration } from './http/endpoints/registration.ts';
import { registerGauges } from './http/gauges.ts';
import { mountDialect, mountMtlsAliases, offeredGrants, type MountDeps } from './http/mounts.ts';
import { metricsObserver, OPS_PATHS, opsRoutes } from './http/ops.ts';
import { exposedHeaders, Router } from './http/router.ts';
import { createHttpServer, drainServer } from './http/server.ts';
import { loadClientCas, loadRevocations, loadTls } from './http/tls.ts';
import { clientIpResolver } from './limits/client-ip.ts';
import { createLimiter } from './limits/index.ts';
import type { RequestLimiter } from './limits/limiter.ts';
import type { Console, TrafficRecorder } from './console/index.ts';
import { LoadShedder } from './limits/shedding.ts';
import { CERTIFICATE_AUTH_METHODS } from './protocol/client-auth/index.ts';
import { storeReplayGuard } from './protocol/replay-guard.ts';
import type { RevokedEvent } from './protocol/revocation.ts';
import { senderChecks } from './protocol/sender.ts';
import { subjectTokenReader } from './protocol/subject-token.ts';
import { backchannelLogout } from './credentials/backchannel-logout.ts';
import { clientDocuments } from './credentials/client-documents.ts';
import { registrationPolicy } from './credentials/registration-policy.ts';
import { redisReplayGuard } from './limits/redis-replay.ts';
import { accessTokenFormat, opaqueFormatsOf, refreshTokenFormat } from './tokens/formats.ts';
import { TokenReuse } from './protocol/token-reuse.ts';
import { jtiDigest } from './storage/types.ts';
import { startPurger, type Purger, type PurgeReport } from './storage/purger.ts';
import { resolveSigning } from './tokens/jwt.ts';
import { localJwtVerifier, ownSignatureVerifier } from './tokens/local-verify.ts';

export { openKeymint, type KeymintCore, type OpenOptions } from './core.ts';

export interface Keymint extends KeymintCore {
  readonly router: Router;
  readonly server: Server;
  /**
   * The mutual-TLS listener (`mtlsPort`, RFC 8705 §5) and its router: the endpoints that take client
   * authentication, at the URLs of `mtls_endpoint_aliases`; undefined without it.
   */
  readonly mtls: { readonly router: Router; readonly server: Server } | undefined;
  /** Scheduled purging of expired rows (GROW-01); `run()` runs a pass now. */
  readonly purger: Purger;
  /** The web console, when this server serves one (`console` on). */
  readonly console: Console | undefined;
  /** Starts listening (the mutual-TLS listener too); resolves to the main listener's bound port. */
  listen(): Promise<number>;
  /**
   * Stops accepting connections and lets the requests in flight finish (answered with
   * `Connection: close`), for at most `graceMs`; then cut. Call `close()` after it.
   */
  drain(graceMs: number): Promise<void>;
}

export async function createKeymint(given: Config, options: OpenOptions = {}): Promise<Keymint> {
  // The console, imported only by servers that serve it (the sandbox and most tests do not), and its traffic ring.
  const consoleModule = given.console ? await import('./console/index.ts') : undefined;
  // Unreadable TLS files or a key of another certificate: refused before anything is opened.
  const tls = loadTls(given);
  const core = await openKeymint(given, options);
  const { store, keyring, clients, sessions, log, metrics } = core;
  // Every dialect the build speaks, mounted or not: what a script may read does not follow the mounts.
  const router = new Router(oauth2.encodeError, given.corsOrigins, exposedHeaders(DIALECTS.values()));
  const shedder = new LoadShedder({ maxInFlight: given.maxInFlight, maxEventLoopDelayMs: given.maxEventLoopDelayMs, exempt: new Set(OPS_PATHS) });
  // A sandbox's clock moves by hours at a test's word: the console's sessions and its traffic seconds
  // keep to the machine's, or advancing the clock would sign its user out.
  const consoleNow = options.sandbox ? undefined : options.now;
  const recorder = consoleModule ? new consoleModule.TrafficRecorder(consoleNow) : undefined;
  const onShed = (cause: string) => {
    metrics.unavailable.inc({ cause: `shed_${cause}` });
    recorder?.shed();
  };
  const http = { bodyLimit: given.bodyLimit, requestTimeoutMs: 10_000, headersTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000, shedder, onShed, tls };
  // RFC 8705 §5: with a mutual-TLS listener, certificates are taken there and only there (same load
  // shedding: one process's requests in flight, whichever listener they came by).
  const mtlsRouter = given.mtlsPort === undefined ? undefined : new Router(oauth2.encodeError, given.corsOrigins, exposedHeaders(DIALECTS.values()));
  const mtls = mtlsRouter && { router: mtlsRouter, server: createHttpServer(mtlsRouter, { ...http, requestCert: true, clientCertHeader: given.clientCertHeader }, log) };
  const server = createHttpServer(router, { ...http, requestCert: mtls === undefined, clientCertHeader: given.clientCertHeader && mtls === undefined }, log);
  const servers = mtls ? [server, mtls.server] : [server];
  const stop = async () => {
    shedder.stop();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await core.close();
  };
  try {
    // Asked for any free port: bind now, so the issuer and everything advertised name the real one.
    const bound = given.port === 0 ? await listen(server, given) : undefined;
    const mtlsBound = mtls && given.mtlsPort === 0 ? await listen(mtls.server, { port: 0, host: given.host }) : undefined;
    const config = withMtlsUrl(bound === undefined ? given : withBoundPort(given, bound), mtlsBound ?? given.mtlsPort);
    const limiter = wire(router, mtlsRouter, { ...core, config }, options, recorder);
    registerGauges(metrics, { store, feed: core.feed, redis: core.redis, shedder });
    router.addPrefix(ADMIN_PREFIX, adminHandler({ clients, sessions, keyring, store, issuer: config.issuer, log, now: options.now }));
    const web = consoleModule && recorder
      ? consoleModule.createConsole({
          store,
          clients,
          keyring,
          lockouts: limiter,
          key: core.derivedKey('console'),
          recorder,
          // Traffic is summed over the deployment where nodes share a feed (Redis, or a cluster's relay).
          feed: core.redis || options.feed ? core.feed : undefined,
          settings: config,
          dialects: mountsOf(config).map((m) => m.dialect.name),
          grants: GRANT_TYPES,
          log,
          ...(consoleNow ? { now: consoleNow } : {}),
        })
      : undefined;
    if (web) {
      router.add(web.route);
      router.addPrefix(web.prefix, web.handler);
      router.mount(web.prefix, 'console', web.encodeError);
    }
    const refresher = setInterval(() => keyring.refresh().catch((err: unknown) => log.warn('keyring refresh failed', { err })), config.keyringRefreshMs);
    refresher.unref();
    // The store's own upkeep while this process serves (SQLite: WAL checkpoints off the event loop).
    // Its failure leaves the work to the serving connection: said once, not at every purge batch.
    const upkeep = store.serve?.({
      onFailure: (cause) => log.warn('store upkeep failed: the serving connection checkpoints and purges by itself from now on', { store: store.kind, cause }),
      onSyncFailure: (cause) => log.error('store could not make commits durable: it refuses every write (503) until Keymint is restarted; check the disk first', { store: store.kind, cause }),
    });
    const purger = startPurger(store.purge, config, {
      now: options.now ?? Date.now,
      consoleNow: consoleNow ?? Date.now,
      onReport: (report) => countPurge(metrics, report),
      onError: (err) => {
        metrics.purgeRuns.inc({ result: 'failed' });
        log.warn('purge failed', { err });
      },
    });
    return {
      ...core,
      config,
      router,
      server,
      mtls,
      purger,
      console: web,
      listen: async () => {
        const port = bound ?? (await listen(server, config));
        if (mtls && mtlsBound === undefined) await listen(mtls.server, { port: config.mtlsPort!, host: config.host });
        return port;
      },
      drain: async (graceMs) => {
        await Promise.all(servers.map((s) => drainServer(s, graceMs)));
      },
      close: async () => {
        clearInterval(refresher);
        web?.close();
        await purger.stop();
        await upkeep?.stop();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Most tokens one process keeps for reuse (about 1 KB each). */
const TOKEN_REUSE_ENTRIES = 10_000;

/**
 * Every dialect mount, discovery and the ops routes, on the router, and the mounts' client
 * endpoints on the mutual-TLS listener's; resolves the limiter they share.
 */
function wire(router: Router, mtlsRouter: Router | undefined, core: KeymintCore, options: OpenOptions, recorder: TrafficRecorder | undefined): RequestLimiter {
  const { config, store, keyring, clients, sessions, log, metrics } = core;
  const now = options.now ?? Date.now;
  const limiter = createLimiter(config, core.redis, metrics, log, now, options.limiter);
  const endpointLimiter = options.limits === false ? undefined : limiter;
  const mounts = mountsOf(config);
  const standard = mounts.find((m) => m.dialect.name === 'oauth2');
  const sender = senderChecks({
    // A client assertion may name the endpoint it is sent to, on either listener.
    audiences: [
      config.issuer,
      ...(standard ? endpointUrls(config.issuer, standard.path, standard.dialect.endpoints ?? []) : []),
      ...(standard && config.mtlsUrl !== undefined && mtlsRouter ? endpointUrls(config.mtlsUrl, standard.path, standard.dialect.endpoints ?? []) : []),
    ],
    replay: core.redis ? redisReplayGuard(core.redis, config.redisPrefix) : storeReplayGuard(store.replays, now),
    nonceKey: config.dpopNonce ? core.derivedKey('dpop-nonce') : undefined,
    allowPrivateClientUrls: config.clientUrlsAllowPrivate,
    allowHttpJwksUri: config.jwksUriAllowHttp,
    now,
    onFetchError: (uri, err) => log.warn('jwks_uri fetch failed', { uri, err }),
  });
  const documents = config.clientIdMetadataDocuments
    ? clientDocuments({
        allowPrivateAddresses: config.clientUrlsAllowPrivate,
        environment: config.environment,
        policy: registrationPolicy(config),
        dialects: [oauth2.name],
        now,
        onRefused: (clientId, reason) => log.info('client metadata document refused', { clientId, reason }),
      })
    : undefined;
  const findClient = (id: string) => (documents?.isDocumentId(id) ? documents.resolve(id) : store.clients.get(id));
  // OIDC Back-Channel Logout (BCL-04): each ended session's apps are told.
  sessions.onEnded(backchannelLogout({ store, keyring, findClient: async (id) => findClient(id), settings: config, metrics, log, now }));
  const verifier = {
    verifySecret: clients.verifySecret.bind(clients),
    find: findClient,
    assertionKey: sender.assertionKey,
    assertions: sender.assertions,
    certificateThumbprints: sender.certificateThumbprints,
    clientCas: loadClientCas(config),
    revoked: loadRevocations(config),
  };
  const auth = { verifier, settings: config };
  // RFC 9101: request objects are verified with the keys and replay guard of client assertions.
  const requestObjects = { keyFor: sender.assertionKey, replay: sender.assertions.replay, issuer: config.issuer };
  const opaqueFormats = opaqueFormatsOf(DIALECTS.values());
  const verifyJwt = localJwtVerifier(keyring, config.issuer);
  const subjectTokens = subjectTokenReader({ store, keyring, opaqueFormats, verifyJwt, settings: config });
  const grants = bindGrants({ store, keyring, sessions, settings: config, opaqueFormats, subjectTokens });
  // Tokens kept for clients registered with token reuse, dropped on any news of their client or token.
  const reuse = new TokenReuse({ minRemaining: config.tokenReuseMinRemaining / 100, maxEntries: TOKEN_REUSE_ENTRIES }, store.tokens);
  core.feed.subscribe((event) => {
    if (event.type === 'client') reuse.forgetClient(event.id);
    if (event.type === 'resync') reuse.forgetAll();
    if (event.type === 'revocation') {
      if (event.jti !== undefined) reuse.forgetToken(jtiDigest(event.jti));
      if (event.digest !== undefined) reuse.forgetToken(event.digest);
    }
  });
  const onRevoked = async (event: RevokedEvent) => {
    // The revocation is already durable: neither the feed nor the embedder's hook may fail the request.
    try {
      await core.feed.publish({ type: 'revocation', ...(event.jti ? { jti: event.jti } : {}), ...(event.digest ? { digest: event.digest } : {}), expiresAt: event.expiresAt });
      await options.onRevoked?.(event);
    } catch (err) {
      log.warn('onRevoked hook failed', { err, client: event.clientId });
    }
  };
  const signing = resolveSigning(config.signing);
  const deps: MountDeps = {
    grants,
    formats: (d) => ({ access: accessTokenFormat(d.accessToken, keyring, config.alg, signing), refresh: refreshTokenFormat(d.refreshToken, keyring), idToken: d.idToken ?? 'openid' }),
    exchange: {
      ...auth,
      store,
      keyring,
      settings: config,
      ...(endpointLimiter ? { admit: endpointLimiter.admitClient.bind(endpointLimiter) } : {}),
      dpop: sender.dpop,
      reuse,
      ...(config.refreshReuseGrace > 0 ? { refreshGrace: { seconds: config.refreshReuseGrace, key: core.derivedKey('refresh-grace') } } : {}),
    },
    lifecycle: { ...auth, store, keyring, opaqueFormats, settings: config, verifyJwt, onRevoked },
    authorize: { store, findClient, keyring, sessions, settings: config, requestObjects, now },
    logout: { findClient, verifyOwnJwt: ownSignatureVerifier(keyring), issuer: config.issuer, keyring, sessions, settings: config },
    par: {
      ...auth,
      store,
      keyring,
      settings: config,
      dpop: sender.dpop,
      requestObjects,
      ...(endpointLimiter ? { admit: endpointLimiter.admitClient.bind(endpointLimiter) } : {}),
    },
    device: {
      ...auth,
      store,
      keyring,
      findClient,
      sessions,
      settings: config,
      limiter,
      clientIp: clientIpResolver(config.trustedProxies),
      now,
      ...(endpointLimiter ? { admit: endpointLimiter.admitClient.bind(endpointLimiter) } : {}),
    },
    pipeline: { limiter: endpointLimiter, clientIp: clientIpResolver(config.trustedProxies), now, interceptors: options.interceptors ?? [], observers: [metricsObserver(metrics), ...(recorder ? [recorder.observe] : []), ...(options.observers ?? [])], log },
    issuer: config.issuer,
    log,
  };
  try {
    for (const { dialect, path } of mounts) {
      mountDialect(router, dialect, path, deps);
      if (mtlsRouter && config.mtlsUrl !== undefined) mountMtlsAliases(mtlsRouter, dialect, path, deps, config.mtlsUrl);
    }
  } catch (err) {
    throw new ConfigError('dialects', (err as Error).message);
  }
  if (standard && config.registration !== 'off') {
    mountRegistration(router, 'oauth2', `${standard.path.slice(0, standard.path.lastIndexOf('/'))}/register`, config.issuer, {
      clients,
      rules: { mode: config.registration, policy: registrationPolicy(config), allowHttpJwksUri: config.jwksUriAllowHttp, alg: config.alg },
      perHour: config.registrationRateLimit,
      limiter,
      clientIp: deps.pipeline.clientIp,
      tokens: deps.lifecycle,
      now,
      log,
    });
  }
  // Discovery describes the `oauth2` mount; without it, the mount serving user grants (`polar`: its
  // authorization endpoint), so an OIDC client of a Polar-only server discovers Polar's endpoints.
  // Its grants are listed as offered, `web` (Polar's own, no URI) included: RFC 8414 clients look in
  // grant_types_supported for the grant they use and pass over a value they do not know (openid-client
  // and oauth4webapi do not read the list at all), and the `oauth2` document lists it too.
  // Registration and client ID metadata documents are `oauth2`'s alone: named only for it.
  const described = standard ?? mounts.find((m) => m.dialect.endpoints?.includes('authorize') === true);
  const grantTypes = described ? [...offeredGrants(described.dialect, grants).keys()] : [];
  const mtls = config.tlsCert !== undefined || config.clientCertHeader;
  for (const r of discoveryRoutes(
    {
      issuer: config.issuer,
      tokenPath: described?.path,
      grantTypes,
      // RFC 8705 §2: the certificate methods only where a certificate can arrive (TLS, or a trusted proxy's header).
      authMethods: (described?.dialect.authMethods ?? []).filter((m) => mtls || !CERTIFICATE_AUTH_METHODS.includes(m)),
      mtls,
      // RFC 8705 §5: the endpoints served on the mutual-TLS listener, at the URL clients reach it by.
      mtlsUrl: mtlsRouter ? config.mtlsUrl : undefined,
      dpop: described?.dialect.dpop === true,
      // What the mounts' JWT access tokens are signed with: the configured algorithm, or a dialect's
      // own (Polygon OMS signs RS256 whatever is configured); none for opaque tokens (Polar's).
      algs: [...new Set(mounts.flatMap((m) => (m.dialect.accessToken.format === 'jwt' ? [m.dialect.accessToken.alg ?? config.alg] : [])))],
      idTokenAlgs: idTokenAlgs(config.alg),
      jwtResponseModes: described?.dialect.jwtResponseModes === true,
      endpoints: described?.dialect.endpoints ?? [],
      jwtIntrospection: described?.dialect.jwtIntrospection === true,
      clientIdMetadataDocuments: standard !== undefined && config.clientIdMetadataDocuments,
      registration: standard !== undefined && config.registration !== 'off',
      requirePar: config.requirePar,
    },
    keyring,
  )) {
    router.add(r);
  }
  for (const r of opsRoutes(store, metrics, options.scrape)) router.add(r);
  return limiter;
}

function countPurge(metrics: KeymintCore['metrics'], report: PurgeReport): void {
  if (!report.ran) {
    metrics.purgeRuns.inc({ result: 'skipped' });
    return;
  }
  for (const [table, n] of Object.entries(report.rows)) if (n > 0) metrics.purgedRows.inc({ table }, n);
  metrics.purgeRuns.inc({ result: report.behind ? 'behind' : 'done' });
  metrics.purgeDuration.observe({}, report.seconds);
  metrics.purgeLastRun = Math.floor(report.at / 1000);
}

/** The token endpoint's URL and those of the endpoints beside it that take client authentication. */
function endpointUrls(issuer: string, tokenPath: string, endpoints: readonly string[]): string[] {
  const dir = `${issuer}${tokenPath.slice(0, tokenPath.lastIndexOf('/'))}`;
  return [`${issuer}${tokenPath}`, ...endpoints.filter((e) => e === 'introspect' || e === 'revoke' || e === 'par' || e === 'device_authorization').map((e) => `${dir}/${e}`)];
}

function listen(server: Server, config: Pick<Config, 'port' | 'host'>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

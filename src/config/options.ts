/**
 * Every option of Keymint, in one table: its flag, its `KEYMINT_*` environment twin, what it means,
 * its default (written here and nowhere else) and how its value is read. Options are resolved in the
 * order they appear, so a default or a check may depend on an option above it (the issuer on the
 * port, the audience on the issuer).
 */
import {
  absoluteUri,
  absoluteUrl,
  bool,
  ConfigError,
  int,
  isAddressOrCidr,
  list,
  matching,
  oneOf,
  text,
  type RawValue,
} from './parse.ts';
import { availableParallelism } from 'node:os';
import { isLoopbackIp } from '../util/loopback.ts';
import { isScopeToken } from '../wire/scope.ts';
import { orList, SIGNING_ALGS, SIGNING_MODES, type Config, type DialectMount, type ResourceDecl, type TrustedIssuer } from './types.ts';

export interface Option<T> {
  readonly flag: string;
  readonly env: string;
  readonly doc: string;
  /**
   * The default as a user would type it, or a function of the options resolved so far; undefined
   * means the option stays unset. `defaultDoc` describes a computed default in the documentation.
   */
  readonly default?: string | ((resolved: Partial<Config>) => string | undefined);
  readonly defaultDoc?: string;
  /** Reads a given value; `resolved` holds the options above this one. */
  readonly parse: (raw: RawValue, key: string, resolved: Partial<Config>) => T;
  readonly repeatable?: boolean;
  readonly boolean?: boolean;
  /** Only from the environment (secrets do not belong on a command line, where `ps` shows them). */
  readonly envOnly?: boolean;
}

type Table = { readonly [K in keyof Config]-?: Option<Config[K]> };

/** RFC 8414 §2: https, no query or fragment; plain http only on loopback (SECURITY A-12, M-02). */
function issuer(raw: RawValue, key: string, resolved: Partial<Config>): string {
  const value = text(raw, key).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, 'must be an absolute URL');
  }
  if (url.search || url.hash || value.includes('?') || value.includes('#')) throw new ConfigError(key, 'must not have a query or fragment');
  if (url.protocol === 'https:') return value;
  if (url.protocol !== 'http:') throw new ConfigError(key, 'must be an https URL');
  if (url.hostname !== 'localhost' && !isLoopbackIp(url.hostname) && resolved.insecureHttp !== true) {
    throw new ConfigError(key, 'must be https unless it is a loopback address (or --insecure-http is set)');
  }
  return value;
}

/** Where clients reach the mutual-TLS listener: as an issuer (no query or fragment), and always https. */
function httpsBase(raw: RawValue, key: string, resolved: Partial<Config>): string {
  if (URL.parse(text(raw, key))?.protocol === 'http:') throw new ConfigError(key, 'must be an https URL: clients reach the mutual-TLS endpoints over TLS');
  return issuer(raw, key, resolved);
}

function mounts(raw: RawValue, key: string): DialectMount[] {
  return list(raw, key).map((entry) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const path = eq < 0 ? undefined : entry.slice(eq + 1);
    if (path !== undefined && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) {
      throw new ConfigError(key, `the path for ${name} must start with / and be a plain URL path`);
    }
    return { name, path };
  });
}

/** `URI` or `URI=SCOPE,SCOPE`: an absolute URI without fragment (RFC 8707 §2), each scope an RFC 6749 §3.3 token. */
function resources(raw: RawValue, key: string): ResourceDecl[] {
  const seen = new Set<string>();
  return listOf(raw, key).map((entry) => {
    const eq = entry.indexOf('=');
    const uri = eq < 0 ? entry : entry.slice(0, eq);
    const url = URL.parse(uri);
    if (!url || url.hash !== '' || uri.includes('#')) throw new ConfigError(key, 'each resource is an absolute URI without a fragment');
    if (seen.has(uri)) throw new ConfigError(key, `the resource ${uri} is declared twice`);
    seen.add(uri);
    if (eq < 0) return { uri, scopes: undefined };
    const scopes = entry.slice(eq + 1).split(',').filter(Boolean);
    if (!scopes.every(isScopeToken)) throw new ConfigError(key, `the scopes of ${uri} must be RFC 6749 scope tokens, comma-separated`);
    return { uri, scopes };
  });
}

/** `ISSUER=JWKS_URI`, both https (http only for a loopback host). */
function trustedIssuers(raw: RawValue, key: string): TrustedIssuer[] {
  return listOf(raw, key).map((entry) => {
    const eq = entry.indexOf('=');
    const issuer = entry.slice(0, eq);
    const jwksUri = entry.slice(eq + 1);
    for (const value of [issuer, jwksUri]) {
      const url = eq < 0 ? null : URL.parse(value);
      if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && (url.hostname === 'localhost' || isLoopbackIp(url.hostname))))) {
        throw new ConfigError(key, 'each entry is ISSUER=JWKS_URI, both https URLs (http only on a loopback host)');
      }
    }
    return { issuer, jwksUri };
  });
}

/** A repeatable option whose entries may themselves hold commas: flags give a list, the environment separates entries by spaces. */
function listOf(raw: RawValue, key: string): string[] {
  if (Array.isArray(raw)) return [...(raw as readonly string[])];
  return text(raw, key).split(/\s+/).filter(Boolean);
}

function proxies(raw: RawValue, key: string): string[] {
  const entries = list(raw, key);
  for (const p of entries) if (!isAddressOrCidr(p)) throw new ConfigError(key, 'each entry must be an IP address or CIDR');
  return entries;
}

function corsOrigins(raw: RawValue, key: string): string[] {
  const entries = list(raw, key);
  if (entries.includes('*')) {
    if (entries.length > 1) throw new ConfigError(key, '* (any origin) cannot be listed with other origins');
    return entries;
  }
  // An origin a browser sends is exactly scheme://host[:port]: anything else would never match.
  for (const o of entries) if (URL.parse(o)?.origin !== o) throw new ConfigError(key, `each entry is an origin such as https://app.example.com (no path or trailing slash), not ${JSON.stringify(o)}`);
  return entries;
}

function kek(raw: RawValue, key: string): string {
  const value = text(raw, key);
  if (Buffer.from(value, 'base64').length !== 32) throw new ConfigError(key, 'must be base64 of exactly 32 bytes');
  return value;
}

/** True when the store lives in this process's memory (`--data :memory:`), which no second process can share. */
export const inMemoryStore = (r: Partial<Config>): boolean => r.databaseUrl === undefined && r.dataDir === ':memory:';

/** `auto` = one per core this process may use; always 1 on the in-memory store. */
function workers(raw: RawValue, key: string, r: Partial<Config>): number {
  const value = text(raw, key);
  const n = value === 'auto' ? availableParallelism() : int(1, 256)(value, key);
  return inMemoryStore(r) ? 1 : n;
}

/** An integer option whose bounds depend on an option above it. */
const intAbove = (min: (r: Partial<Config>) => number, max: number) => (raw: RawValue, key: string, r: Partial<Config>) => int(min(r), max)(raw, key);
const intBelow = (min: number, max: (r: Partial<Config>) => number) => (raw: RawValue, key: string, r: Partial<Config>) => int(min, max(r))(raw, key);

export const OPTION_TABLE: Table = {
  insecureHttp: { flag: 'insecure-http', env: 'KEYMINT_INSECURE_HTTP', boolean: true, default: 'false', doc: 'Allow an http:// issuer on a non-loopback host (false: credentials only over TLS).', parse: bool },
  port: { flag: 'port', env: 'KEYMINT_PORT', default: '8080', doc: 'TCP port to listen on (0 = any free port).', parse: int(0, 65535) },
  host: { flag: 'host', env: 'KEYMINT_HOST', default: '127.0.0.1', doc: 'Address to bind.', parse: text },
  dataDir: { flag: 'data', env: 'KEYMINT_DATA', default: './keymint-data', doc: 'Data directory for the SQLite store and the generated KEK.', parse: text },
  issuer: {
    flag: 'issuer',
    env: 'KEYMINT_ISSUER',
    default: (r) => `http://localhost:${r.port}`,
    defaultDoc: 'http://localhost:<port>, the bound port when --port is 0',
    doc: 'Issuer URL: `iss` of every token and base of every advertised endpoint.',
    parse: issuer,
  },
  dialects: { flag: 'dialect', env: 'KEYMINT_DIALECTS', repeatable: true, default: 'oauth2', doc: 'Dialect to mount, NAME or NAME=/path; repeatable; env: comma-separated.', parse: mounts },
  alg: { flag: 'alg', env: 'KEYMINT_ALG', default: 'RS256', doc: `Access-token signing algorithm: ${orList(SIGNING_ALGS)} (RS256 keys are kept whatever it is; clients may have their ID tokens signed with it).`, parse: oneOf(SIGNING_ALGS) },
  maxTokenTtl: { flag: 'max-token-ttl', env: 'KEYMINT_MAX_TOKEN_TTL', default: '86400', doc: 'Longest access-token lifetime a client may be given, seconds; retired keys stay published this long.', parse: int(60, 31_536_000) },
  tokenTtl: { flag: 'token-ttl', env: 'KEYMINT_TOKEN_TTL', default: '3600', doc: 'Access-token lifetime in seconds.', parse: intBelow(1, (r) => r.maxTokenTtl!) },
  tokenReuseMinRemaining: {
    flag: 'token-reuse-min-remaining',
    env: 'KEYMINT_TOKEN_REUSE_MIN_REMAINING',
    default: '50',
    doc: 'For clients registered with token reuse: a client_credentials request gets an earlier token of the same client, endpoint, scopes and audience again while more than this percent of its lifetime is left (kept in this process only, never stored); see performance.md.',
    parse: int(1, 99),
  },
  refreshTokenTtl: { flag: 'refresh-token-ttl', env: 'KEYMINT_REFRESH_TOKEN_TTL', default: '2592000', doc: 'Refresh-token absolute lifetime, seconds (2592000 = 30 days).', parse: int(60, 31_536_000 * 5) },
  refreshTokenIdleTtl: { flag: 'refresh-token-idle-ttl', env: 'KEYMINT_REFRESH_TOKEN_IDLE_TTL', default: '1209600', doc: 'Refresh-token idle lifetime, seconds: a refresh token unused this long expires; rotation never extends the absolute lifetime (1209600 = 14 days).', parse: int(60, 31_536_000 * 5) },
  refreshReuseGrace: {
    flag: 'refresh-reuse-grace',
    env: 'KEYMINT_REFRESH_REUSE_GRACE',
    default: '0',
    doc: 'Refresh-reuse grace window, seconds (0 = off): a refresh token presented again within this long after it was rotated gets a new access token and the same successor refresh token, instead of revoking its family; the successor is kept that long, sealed under the KEK. A stolen token replayed within the window is then not detected (see user-grants.md).',
    parse: int(0, 300),
  },
  sessionTtl: { flag: 'session-ttl', env: 'KEYMINT_SESSION_TTL', default: '86400', doc: 'Default and longest lifetime of a session registered with POST /admin/v1/sessions, seconds.', parse: int(60, 31_536_000) },
  sessionCookie: { flag: 'session-cookie', env: 'KEYMINT_SESSION_COOKIE', default: 'keymint_session', doc: 'Name of the cookie holding the session token at the authorization endpoint and the device verification page (an RFC 6265 token, 1–64 characters).', parse: matching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, 'a cookie name (RFC 6265 token), 1–64 characters') },
  console: {
    flag: 'console',
    env: 'KEYMINT_CONSOLE',
    boolean: true,
    default: 'false',
    doc: 'Serve the web console at `/console/` on this server: people sign in with users made by `keymint console users add` or a link from `keymint console link`.',
    parse: bool,
  },
  consoleSessionTtl: { flag: 'console-session-ttl', env: 'KEYMINT_CONSOLE_SESSION_TTL', default: '28800', doc: 'Longest a console sign-in lasts, seconds (28800 = 8 h).', parse: int(300, 604_800) },
  consoleIdleTtl: { flag: 'console-idle-ttl', env: 'KEYMINT_CONSOLE_IDLE_TTL', default: '1800', doc: 'A console session unused this long ends, seconds (1800 = 30 min).', parse: intBelow(60, (r) => r.consoleSessionTtl!) },
  parTtl: {
    flag: 'par-ttl',
    env: 'KEYMINT_PAR_TTL',
    default: '60',
    doc: "Lifetime of a pushed authorization request's `request_uri` (RFC 9126 `expires_in`), seconds: the browser must reach the authorization endpoint with it (the user signed in) within this long; the consent page shown for it then takes the user's decision for 10 minutes more.",
    parse: int(10, 600),
  },
  requirePar: {
    flag: 'require-par',
    env: 'KEYMINT_REQUIRE_PAR',
    boolean: true,
    default: 'false',
    doc: 'Every client must push its authorization requests (RFC 9126 `require_pushed_authorization_requests` for the whole server); without it, only the clients registered with `--require-par`.',
    parse: bool,
  },
  loginUrl: { flag: 'login-url', env: 'KEYMINT_LOGIN_URL', defaultDoc: 'none; the client gets error=login_required (the verification page: an error page)', doc: 'Where the authorization endpoint and the device verification page send a browser without a session, with `return_to=<URL of the page>` appended.', parse: absoluteUrl },
  logoutUrl: {
    flag: 'logout-url',
    env: 'KEYMINT_LOGOUT_URL',
    defaultDoc: 'none; the browser goes straight to the app (or to a signed-out page)',
    doc: 'Where the end-session endpoint (`/oauth2/logout`) sends the browser after it ended a session, so the platform clears its own cookies, with `return_to=<Keymint URL to send it back to>` appended (docs/user-grants.md, "Logout").',
    parse: absoluteUrl,
  },
  backchannelLogoutTimeoutMs: {
    flag: 'backchannel-logout-timeout-ms',
    env: 'KEYMINT_BACKCHANNEL_LOGOUT_TIMEOUT_MS',
    default: '5000',
    doc: "How long one back-channel logout delivery (a logout token POSTed to a client's `backchannel_logout_uri` when a session ends) may take, connect to answer, ms; never retried (docs/user-grants.md, \"Back-channel logout\").",
    parse: int(100, 60_000),
  },
  audience: { flag: 'audience', env: 'KEYMINT_AUDIENCE', default: (r) => r.issuer, defaultDoc: 'the issuer', doc: 'Default `aud` of access tokens.', parse: absoluteUri },
  resources: {
    flag: 'resource',
    env: 'KEYMINT_RESOURCES',
    repeatable: true,
    default: '',
    defaultDoc: 'none',
    doc: 'A resource server tokens may be issued for (RFC 8707), `URI` or `URI=SCOPE,SCOPE` naming the only scopes its tokens may carry; repeatable; env: space-separated.',
    parse: resources,
  },
  exchangeIssuers: {
    flag: 'exchange-issuer',
    env: 'KEYMINT_EXCHANGE_ISSUERS',
    repeatable: true,
    default: '',
    defaultDoc: 'none',
    doc: 'An issuer whose JWTs token exchange accepts as subject or actor tokens, `ISSUER=JWKS_URI` (its tokens must name this issuer in `aud`); repeatable; env: space-separated.',
    parse: trustedIssuers,
  },
  registration: {
    flag: 'registration',
    env: 'KEYMINT_REGISTRATION',
    default: 'off',
    doc: 'Dynamic client registration (RFC 7591) at `<oauth2 mount>/register`: `off`; `token`, with an initial access token (a Keymint access token with the `keymint:register` scope); `open`, to anyone, rate-limited, public clients of the code flow only.',
    parse: oneOf(['off', 'token', 'open'] as const),
  },
  registrationScopes: {
    flag: 'registration-scope',
    env: 'KEYMINT_REGISTRATION_SCOPES',
    repeatable: true,
    default: '',
    defaultDoc: 'the scopes the declared resources name',
    doc: 'A scope registered clients and client ID metadata document clients may be given; repeatable; env: comma-separated.',
    parse: (raw, key) => {
      const scopes = list(raw, key);
      if (!scopes.every(isScopeToken)) throw new ConfigError(key, 'each entry is an RFC 6749 scope token');
      return scopes;
    },
  },
  registrationRateLimit: { flag: 'registration-rate-limit', env: 'KEYMINT_REGISTRATION_RATE_LIMIT', default: '20', doc: 'Open registrations per hour per source address.', parse: int(1, 1_000_000) },
  clientIdMetadataDocuments: {
    flag: 'client-id-metadata-documents',
    env: 'KEYMINT_CLIENT_ID_METADATA_DOCUMENTS',
    boolean: true,
    default: 'false',
    doc: 'Accept https URLs as client ids, the client described by the JSON document at that URL (OAuth Client ID Metadata Document; what MCP clients use): public clients of the code flow, within the registration scopes.',
    parse: bool,
  },
  dpopNonce: {
    flag: 'dpop-nonce',
    env: 'KEYMINT_DPOP_NONCE',
    boolean: true,
    default: 'false',
    doc: 'Require a server nonce in DPoP proofs (RFC 9449 §8): a proof without a current one is answered `use_dpop_nonce` with the nonce in `DPoP-Nonce`; nonces change every 5 minutes and need no shared state.',
    parse: bool,
  },
  clientUrlsAllowPrivate: {
    flag: 'client-urls-allow-private',
    env: 'KEYMINT_CLIENT_URLS_ALLOW_PRIVATE',
    boolean: true,
    default: 'false',
    doc: "Let URLs that clients name (`jwks_uri`, client ID metadata documents, `backchannel_logout_uri`) reach private, loopback and link-local addresses (false: only public ones, against SSRF).",
    parse: bool,
  },
  jwksUriAllowHttp: { flag: 'jwks-uri-allow-http', env: 'KEYMINT_JWKS_URI_ALLOW_HTTP', boolean: true, default: 'false', doc: "Let clients' `jwks_uri` be plain http (tests and local development only).", parse: bool },
  environment: { flag: 'environment', env: 'KEYMINT_ENVIRONMENT', default: 'prod', doc: 'Deployment environment encoded in client ids; clients of another one are refused.', parse: matching(/^[a-z0-9]{1,16}$/, '1–16 lowercase letters or digits') },
  idPrefix: { flag: 'id-prefix', env: 'KEYMINT_ID_PREFIX', default: 'sk', doc: 'Prefix of client ids.', parse: matching(/^[a-z][a-z0-9]{0,7}$/, '1–8 lowercase letters or digits, starting with a letter') },
  bodyLimit: { flag: 'body-limit', env: 'KEYMINT_BODY_LIMIT', default: '16384', doc: 'Largest request body in bytes.', parse: int(1024, 1_048_576) },
  logLevel: { flag: 'log-level', env: 'KEYMINT_LOG_LEVEL', default: 'info', doc: 'debug, info, warn, error or silent.', parse: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const) },
  keyringRefreshMs: { flag: 'keyring-refresh-ms', env: 'KEYMINT_KEYRING_REFRESH_MS', default: '2000', doc: 'How often a server picks up keys rotated by another process, ms.', parse: int(100, 3_600_000) },
  kek: { flag: 'kek', env: 'KEYMINT_KEK', envOnly: true, defaultDoc: 'generated into <data>/kek', doc: 'Key-encryption key, base64 of 32 bytes (environment only).', parse: kek },
  databaseUrl: { flag: 'database-url', env: 'KEYMINT_DATABASE_URL', defaultDoc: 'unset = SQLite', doc: 'postgres://… URL: use PostgreSQL instead of the SQLite file, so several nodes share one store.', parse: matching(/^postgres(ql)?:\/\//, 'a postgres:// URL') },
  databaseSchema: { flag: 'database-schema', env: 'KEYMINT_DATABASE_SCHEMA', default: 'keymint', doc: "PostgreSQL schema holding Keymint's tables.", parse: matching(/^[a-z_][a-z0-9_]{0,62}$/, 'lowercase letters, digits and _') },
  dbPoolSize: { flag: 'db-pool-size', env: 'KEYMINT_DB_POOL_SIZE', default: '10', doc: 'Most PostgreSQL connections per node.', parse: int(1, 1000) },
  dbAcquireTimeoutMs: { flag: 'db-acquire-timeout-ms', env: 'KEYMINT_DB_ACQUIRE_TIMEOUT_MS', default: '2000', doc: 'Longest wait for a free PostgreSQL connection before answering 503, ms.', parse: int(10, 60_000) },
  dbQueryTimeoutMs: { flag: 'db-query-timeout-ms', env: 'KEYMINT_DB_QUERY_TIMEOUT_MS', default: '5000', doc: 'Longest a PostgreSQL statement may run before 503, ms.', parse: int(10, 600_000) },
  purgeIntervalMs: {
    flag: 'purge-interval-ms',
    env: 'KEYMINT_PURGE_INTERVAL_MS',
    default: '60000',
    doc: 'How often expired tokens, codes, pushed authorization requests, sessions, revocation-feed entries, replay records and revoked-family marks are purged, ms; one node purges at a time (PostgreSQL: an advisory lock); progress in `/metrics` (`keymint_purge_*`); 0 = never.',
    parse: int(0, 86_400_000),
  },
  purgeBatchSize: { flag: 'purge-batch-size', env: 'KEYMINT_PURGE_BATCH_SIZE', default: '250', doc: 'Most rows one purge batch deletes (one short transaction, which on PostgreSQL keeps a backend busy, about 4 ms for 250 rows of a large table against 11 ms for 1,000). SQLite deletes at most 25 per batch, whatever this says: a batch holds the write lock that long (and, outside a serving process, whose upkeep thread runs the batches, the event loop). After each batch the pass pauses at least as long as the batch took, and spreads its batches over three quarters of `purge-interval-ms`.', parse: int(1, 100_000) },
  purgeMaxBatches: { flag: 'purge-max-batches', env: 'KEYMINT_PURGE_MAX_BATCHES', default: '400', doc: 'Most batches per table in one purge pass, so at most `purge-batch-size` × this many rows (on SQLite in more, smaller batches); what is left waits for the next pass (`keymint_purge_runs_total{result="behind"}`).', parse: int(1, 1_000_000) },
  purgeGrace: {
    flag: 'purge-grace',
    env: 'KEYMINT_PURGE_GRACE',
    default: '3600',
    doc: 'Seconds a row is kept after it expires before it is purged: a replayed refresh token or code is still recognised (and revokes its family) that long after it expired. A revoked JWT id is never purged before the JWT expires.',
    parse: int(0, 31_536_000),
  },
  redisUrl: { flag: 'redis-url', env: 'KEYMINT_REDIS_URL', defaultDoc: 'unset = node-local limits, no feed', doc: 'redis://… URL: shared rate-limit counters and the cross-node feed.', parse: matching(/^rediss?:\/\//, 'a redis:// or rediss:// URL') },
  redisPrefix: { flag: 'redis-prefix', env: 'KEYMINT_REDIS_PREFIX', default: 'keymint:', doc: 'Prefix of every Redis key and channel.', parse: matching(/^[A-Za-z0-9:_-]{1,64}$/, '1–64 of A-Z a-z 0-9 : _ -') },
  redisTimeoutMs: { flag: 'redis-timeout-ms', env: 'KEYMINT_REDIS_TIMEOUT_MS', default: '100', doc: 'Longest a Redis command may take before the local fallback answers, ms.', parse: int(5, 10_000) },
  nodeCount: { flag: 'node-count', env: 'KEYMINT_NODE_COUNT', default: '1', doc: 'Nodes in the deployment: with Redis down each node limits at (limit ÷ node count).', parse: int(1, 10_000) },
  clientCacheMs: {
    flag: 'client-cache-ms',
    env: 'KEYMINT_CLIENT_CACHE_MS',
    default: (r) => (r.redisUrl === undefined ? '2000' : '10000'),
    defaultDoc: '2000 without Redis, 10000 with',
    doc: 'How long a node trusts its cached copy of a client, ms; changes made elsewhere reach it through the Redis feed sooner; the lifetime bounds what a lost feed message or a Redis outage can delay.',
    parse: int(0, 3_600_000),
  },
  rateLimitClient: { flag: 'rate-limit-client', env: 'KEYMINT_RATE_LIMIT_CLIENT', default: '6000', doc: "Token requests per minute per authenticated client (token bucket, burst = the same number); a client's own `rate_limit` overrides it; 0 = off.", parse: int(0, 100_000_000) },
  rateLimitIp: { flag: 'rate-limit-ip', env: 'KEYMINT_RATE_LIMIT_IP', default: '12000', doc: 'Requests per minute per source address at the token endpoint and the pages anyone can open (authorization, end-session, device verification), one budget for all; 0 = off.', parse: int(0, 100_000_000) },
  lockoutThreshold: { flag: 'lockout-threshold', env: 'KEYMINT_LOCKOUT_THRESHOLD', default: '5', doc: 'Failed authentications of one client id from one address before it is locked there.', parse: int(1, 1000) },
  lockoutBaseMs: { flag: 'lockout-base-ms', env: 'KEYMINT_LOCKOUT_BASE_MS', default: '1000', doc: 'First lockout, ms; doubles with each further failure.', parse: int(1, 3_600_000) },
  lockoutMaxMs: { flag: 'lockout-max-ms', env: 'KEYMINT_LOCKOUT_MAX_MS', default: '900000', doc: 'Longest lockout, ms (900000 = 15 min).', parse: intAbove((r) => r.lockoutBaseMs!, 86_400_000) },
  corsOrigins: {
    flag: 'cors-origin',
    env: 'KEYMINT_CORS_ORIGINS',
    repeatable: true,
    default: '*',
    defaultDoc: '`*`: any origin',
    doc: 'An origin (`scheme://host[:port]`) whose web pages may call the token, revocation, userinfo and registration endpoints (CORS, never with credentials); repeatable; env: comma-separated; `*` for any.',
    parse: corsOrigins,
  },
  trustedProxies: { flag: 'trusted-proxy', env: 'KEYMINT_TRUSTED_PROXIES', repeatable: true, default: '', defaultDoc: 'none', doc: 'Address or CIDR of a reverse proxy whose X-Forwarded-For is believed; repeatable; env: comma-separated.', parse: proxies },
  tlsCert: { flag: 'tls-cert', env: 'KEYMINT_TLS_CERT', defaultDoc: 'unset = plain HTTP', doc: 'PEM file of the server certificate (and its chain): `serve` speaks HTTPS, asks every client for a certificate and accepts connections without one (RFC 8705 mutual TLS; see mtls.md); with `--mtls-port`, only that listener asks. Needs `--tls-key`.', parse: text },
  tlsKey: { flag: 'tls-key', env: 'KEYMINT_TLS_KEY', defaultDoc: 'none', doc: 'PEM file of the private key of `--tls-cert`.', parse: text },
  tlsClientCa: { flag: 'tls-client-ca', env: 'KEYMINT_TLS_CLIENT_CA', defaultDoc: 'none: no client may use `tls_client_auth`', doc: 'PEM bundle of the CAs that issue the certificates of clients registered for `tls_client_auth` (RFC 8705 §2.1).', parse: text },
  tlsClientCrl: {
    flag: 'tls-client-crl',
    env: 'KEYMINT_TLS_CLIENT_CRL',
    defaultDoc: 'none: no certificate is taken as revoked',
    doc: 'PEM file of certificate revocation lists (one or more `X509 CRL` blocks), each signed by a CA of `--tls-client-ca`: a certificate one of them lists fails `tls_client_auth` (RFC 5280 §5). Read at start; restart to take a new list.',
    parse: text,
  },
  clientCertHeader: {
    flag: 'client-cert-header',
    env: 'KEYMINT_CLIENT_CERT_HEADER',
    boolean: true,
    default: 'false',
    doc: "Take the client's certificate from the RFC 9440 `Client-Cert` header set by a TLS-terminating proxy. Only behind a proxy that removes that header from every client's request: otherwise anyone can claim any certificate (see mtls.md).",
    parse: bool,
  },
  mtlsPort: {
    flag: 'mtls-port',
    env: 'KEYMINT_MTLS_PORT',
    defaultDoc: 'unset: one listener, which asks every client for a certificate',
    doc: 'A second listener, on this TCP port (0 = any free port) of `--host`, for mutual TLS (RFC 8705 §5): it asks every client for a certificate (or, with `--client-cert-header`, reads the proxy\'s header) and serves only the token, PAR, introspection, revocation, device authorization and userinfo endpoints; discovery names them in `mtls_endpoint_aliases`, and the main listener no longer asks for certificates. Needs `--tls-cert` or `--client-cert-header` (see mtls.md).',
    parse: int(0, 65535),
  },
  mtlsUrl: {
    flag: 'mtls-url',
    env: 'KEYMINT_MTLS_URL',
    defaultDoc: 'the issuer with `https` and the port of `--mtls-port`',
    doc: 'Where clients reach the `--mtls-port` listener (an https URL without query or fragment; the endpoints\' paths follow it, as they follow the issuer): set it when a proxy or another host name exposes that listener. Needs `--mtls-port`.',
    parse: httpsBase,
  },
  maxInFlight: { flag: 'max-in-flight', env: 'KEYMINT_MAX_IN_FLIGHT', default: '256', doc: 'Requests handled at once before new ones get an immediate 503 (0 = off).', parse: int(0, 1_000_000) },
  workers: {
    flag: 'workers',
    env: 'KEYMINT_WORKERS',
    default: 'auto',
    defaultDoc: 'auto: one per core this process may use (1 on the in-memory store)',
    doc: '`keymint serve` processes sharing the port (node:cluster); a crashed one is replaced. Limits, lockouts, caches and keys stay shared (Redis, or the primary process). The in-memory store forces 1.',
    parse: workers,
  },
  signing: {
    flag: 'signing',
    env: 'KEYMINT_SIGNING',
    default: 'auto',
    doc: 'Where access tokens are signed: inline (on the event loop: least CPU per token), threadpool (libuv threads: uses cores the event loop cannot), or auto (threadpool when the process may use more than one core, inline when pinned to one).',
    parse: oneOf(SIGNING_MODES),
  },
  maxEventLoopDelayMs: { flag: 'max-event-loop-delay-ms', env: 'KEYMINT_MAX_EVENT_LOOP_DELAY_MS', default: '200', doc: 'Event-loop delay above which new requests get an immediate 503, ms (0 = off).', parse: int(0, 60_000) },
};

/** The table as a list, in resolution order, each option with its config key. */
export const OPTIONS = (Object.keys(OPTION_TABLE) as Array<keyof Config>).map((key) => ({ key, ...(OPTION_TABLE[key] as Option<unknown>) }));

/** The documented default of an option, as `docs/configuration.md` and `--help` show it. */
export function defaultText(o: Option<unknown>): string | undefined {
  if (o.defaultDoc !== undefined) return o.defaultDoc;
  return typeof o.default === 'string' ? o.default : undefined;
}

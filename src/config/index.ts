/**
 * Typed configuration. Every option is documented where its default is set; each has a command-line
 * flag and a `KEYMINT_*` environment twin (flag wins). Validation fails at startup, naming the key.
 */
import { isIP } from 'node:net';
import { isLoopbackIp } from '../util/loopback.ts';
import { SIGNING_ALGS, type SigningAlg } from '../tokens/keyring.ts';
import type { LogLevel } from '../util/log.ts';

export interface DialectMount {
  readonly name: string;
  /** Token endpoint path; undefined = the dialect's default. */
  readonly path: string | undefined;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly issuer: string;
  readonly dialects: readonly DialectMount[];
  readonly alg: SigningAlg;
  readonly tokenTtl: number;
  readonly maxTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly refreshTokenIdleTtl: number;
  readonly sessionTtl: number;
  readonly sessionCookie: string;
  readonly loginUrl: string | undefined;
  readonly audience: string;
  readonly environment: string;
  readonly idPrefix: string;
  readonly bodyLimit: number;
  readonly logLevel: LogLevel;
  readonly insecureHttp: boolean;
  readonly keyringRefreshMs: number;
  /** Base64 of 32 bytes; when unset, `<dataDir>/kek` is used (generated on first start). */
  readonly kek: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly databaseSchema: string;
  readonly dbPoolSize: number;
  readonly dbAcquireTimeoutMs: number;
  readonly dbQueryTimeoutMs: number;
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  readonly redisTimeoutMs: number;
  readonly nodeCount: number;
  readonly clientCacheMs: number;
  /** Requests per minute; 0 = no limit. */
  readonly rateLimitClient: number;
  readonly rateLimitIp: number;
  readonly lockoutThreshold: number;
  readonly lockoutBaseMs: number;
  readonly lockoutMaxMs: number;
  readonly trustedProxies: readonly string[];
  readonly maxInFlight: number;
  readonly maxEventLoopDelayMs: number;
}

export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`config ${key}: ${message}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

interface Option {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  readonly doc: string;
  readonly repeatable?: boolean;
  readonly boolean?: boolean;
  /** Only from the environment (secrets do not belong on a command line, where `ps` shows them). */
  readonly envOnly?: boolean;
}

const int = (key: string, raw: string, min: number, max: number): number => {
  if (!/^\d+$/.test(raw)) throw new ConfigError(key, `expected a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}`);
  return n;
};

/** The options, their documentation, and (in `resolve` below) their defaults. */
export const OPTIONS: readonly Option[] = [
  { key: 'port', flag: 'port', env: 'KEYMINT_PORT', doc: 'TCP port to listen on (default 8080; 0 = any free port).' },
  { key: 'host', flag: 'host', env: 'KEYMINT_HOST', doc: 'Address to bind (default 127.0.0.1).' },
  { key: 'dataDir', flag: 'data', env: 'KEYMINT_DATA', doc: 'Data directory for the SQLite store and the generated KEK (default ./keymint-data).' },
  { key: 'issuer', flag: 'issuer', env: 'KEYMINT_ISSUER', doc: 'Issuer URL: `iss` of every token and base of every advertised endpoint (default http://localhost:<port>).' },
  { key: 'dialects', flag: 'dialect', env: 'KEYMINT_DIALECTS', repeatable: true, doc: 'Dialect to mount, NAME or NAME=/path; repeatable; env: comma-separated (default oauth2).' },
  { key: 'alg', flag: 'alg', env: 'KEYMINT_ALG', doc: 'Access-token signing algorithm: RS256, ES256 or EdDSA (default RS256).' },
  { key: 'tokenTtl', flag: 'token-ttl', env: 'KEYMINT_TOKEN_TTL', doc: 'Access-token lifetime in seconds (default 3600).' },
  { key: 'maxTokenTtl', flag: 'max-token-ttl', env: 'KEYMINT_MAX_TOKEN_TTL', doc: 'Longest access-token lifetime a client may be given, seconds; retired keys stay published this long (default 86400).' },
  { key: 'refreshTokenTtl', flag: 'refresh-token-ttl', env: 'KEYMINT_REFRESH_TOKEN_TTL', doc: 'Refresh-token absolute lifetime, seconds (default 2592000 = 30 days).' },
  { key: 'refreshTokenIdleTtl', flag: 'refresh-token-idle-ttl', env: 'KEYMINT_REFRESH_TOKEN_IDLE_TTL', doc: 'Refresh-token idle lifetime, seconds: a refresh token unused this long expires; rotation never extends the absolute lifetime (default 1209600 = 14 days).' },
  { key: 'sessionTtl', flag: 'session-ttl', env: 'KEYMINT_SESSION_TTL', doc: 'Default and longest lifetime of a session registered with POST /admin/v1/sessions, seconds (default 86400).' },
  { key: 'sessionCookie', flag: 'session-cookie', env: 'KEYMINT_SESSION_COOKIE', doc: 'Name of the cookie holding the session token at the authorization endpoint (default keymint_session).' },
  { key: 'loginUrl', flag: 'login-url', env: 'KEYMINT_LOGIN_URL', doc: 'Where the authorization endpoint sends a browser without a session, with `return_to=<authorize URL>` appended (default: none; the client gets error=login_required).' },
  { key: 'audience', flag: 'audience', env: 'KEYMINT_AUDIENCE', doc: 'Default `aud` of access tokens (default: the issuer).' },
  { key: 'environment', flag: 'environment', env: 'KEYMINT_ENVIRONMENT', doc: 'Deployment environment encoded in client ids; clients of another one are refused (default prod).' },
  { key: 'idPrefix', flag: 'id-prefix', env: 'KEYMINT_ID_PREFIX', doc: 'Prefix of client ids (default sk).' },
  { key: 'bodyLimit', flag: 'body-limit', env: 'KEYMINT_BODY_LIMIT', doc: 'Largest request body in bytes (default 16384).' },
  { key: 'logLevel', flag: 'log-level', env: 'KEYMINT_LOG_LEVEL', doc: 'debug, info, warn, error or silent (default info).' },
  { key: 'insecureHttp', flag: 'insecure-http', env: 'KEYMINT_INSECURE_HTTP', boolean: true, doc: 'Allow an http:// issuer on a non-loopback host (default false: credentials only over TLS).' },
  { key: 'keyringRefreshMs', flag: 'keyring-refresh-ms', env: 'KEYMINT_KEYRING_REFRESH_MS', doc: 'How often a server picks up keys rotated by another process, ms (default 2000).' },
  { key: 'databaseUrl', flag: 'database-url', env: 'KEYMINT_DATABASE_URL', doc: 'postgres://… URL: use PostgreSQL instead of the SQLite file, so several nodes share one store (default unset = SQLite).' },
  { key: 'databaseSchema', flag: 'database-schema', env: 'KEYMINT_DATABASE_SCHEMA', doc: 'PostgreSQL schema holding Keymint\'s tables (default keymint).' },
  { key: 'dbPoolSize', flag: 'db-pool-size', env: 'KEYMINT_DB_POOL_SIZE', doc: 'Most PostgreSQL connections per node (default 10).' },
  { key: 'dbAcquireTimeoutMs', flag: 'db-acquire-timeout-ms', env: 'KEYMINT_DB_ACQUIRE_TIMEOUT_MS', doc: 'Longest wait for a free PostgreSQL connection before answering 503, ms (default 2000).' },
  { key: 'dbQueryTimeoutMs', flag: 'db-query-timeout-ms', env: 'KEYMINT_DB_QUERY_TIMEOUT_MS', doc: 'Longest a PostgreSQL statement may run before 503, ms (default 5000).' },
  { key: 'redisUrl', flag: 'redis-url', env: 'KEYMINT_REDIS_URL', doc: 'redis://… URL: shared rate-limit counters and the cross-node feed (default unset = node-local limits, no feed).' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'KEYMINT_REDIS_PREFIX', doc: 'Prefix of every Redis key and channel (default keymint:).' },
  { key: 'redisTimeoutMs', flag: 'redis-timeout-ms', env: 'KEYMINT_REDIS_TIMEOUT_MS', doc: 'Longest a Redis command may take before the local fallback answers, ms (default 100).' },
  { key: 'nodeCount', flag: 'node-count', env: 'KEYMINT_NODE_COUNT', doc: 'Nodes in the deployment: with Redis down each node limits at (limit ÷ node count) (default 1).' },
  { key: 'clientCacheMs', flag: 'client-cache-ms', env: 'KEYMINT_CLIENT_CACHE_MS', doc: 'How long a node trusts its cached copy of a client, ms; changes made elsewhere reach it through the Redis feed sooner; the lifetime bounds what a lost feed message or a Redis outage can delay (default 2000 without Redis, 10000 with).' },
  { key: 'rateLimitClient', flag: 'rate-limit-client', env: 'KEYMINT_RATE_LIMIT_CLIENT', doc: 'Token requests per minute per authenticated client (token bucket, burst = the same number); a client\'s own `rate_limit` overrides it; 0 = off (default 6000).' },
  { key: 'rateLimitIp', flag: 'rate-limit-ip', env: 'KEYMINT_RATE_LIMIT_IP', doc: 'Token requests per minute per source address; 0 = off (default 12000).' },
  { key: 'lockoutThreshold', flag: 'lockout-threshold', env: 'KEYMINT_LOCKOUT_THRESHOLD', doc: 'Failed authentications of one client id from one address before it is locked there (default 5).' },
  { key: 'lockoutBaseMs', flag: 'lockout-base-ms', env: 'KEYMINT_LOCKOUT_BASE_MS', doc: 'First lockout, ms; doubles with each further failure (default 1000).' },
  { key: 'lockoutMaxMs', flag: 'lockout-max-ms', env: 'KEYMINT_LOCKOUT_MAX_MS', doc: 'Longest lockout, ms (default 900000 = 15 min).' },
  { key: 'trustedProxies', flag: 'trusted-proxy', env: 'KEYMINT_TRUSTED_PROXIES', repeatable: true, doc: 'Address or CIDR of a reverse proxy whose X-Forwarded-For is believed; repeatable; env: comma-separated (default none).' },
  { key: 'maxInFlight', flag: 'max-in-flight', env: 'KEYMINT_MAX_IN_FLIGHT', doc: 'Requests handled at once before new ones get an immediate 503 (default 256; 0 = off).' },
  { key: 'maxEventLoopDelayMs', flag: 'max-event-loop-delay-ms', env: 'KEYMINT_MAX_EVENT_LOOP_DELAY_MS', doc: 'Event-loop delay above which new requests get an immediate 503, ms (default 200; 0 = off).' },
  { key: 'kek', flag: 'kek', env: 'KEYMINT_KEK', envOnly: true, doc: 'Key-encryption key, base64 of 32 bytes (environment only; default: generated into <data>/kek).' },
];

export type RawConfig = Partial<Record<keyof Config, string | string[] | boolean>>;

/** Reads flags (already parsed into option keys) over `KEYMINT_*` variables over defaults. */
export function loadConfig(flags: RawConfig, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: RawConfig = {};
  for (const o of OPTIONS) {
    const fromEnv = env[o.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      raw[o.key] = o.repeatable ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : o.boolean ? fromEnv : fromEnv;
    }
    if (!o.envOnly && flags[o.key] !== undefined) raw[o.key] = flags[o.key];
  }
  return resolve(raw);
}

const str = (v: RawConfig[keyof Config]): string | undefined => (typeof v === 'string' ? v : undefined);

function resolve(raw: RawConfig): Config {
  const port = int('port', str(raw.port) ?? '8080', 0, 65535);
  const issuer = (str(raw.issuer) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const insecureHttp = raw.insecureHttp === true || raw.insecureHttp === 'true' || raw.insecureHttp === '1';
  checkIssuer(issuer, insecureHttp);
  const alg = str(raw.alg) ?? 'RS256';
  if (!(SIGNING_ALGS as readonly string[]).includes(alg)) throw new ConfigError('alg', `must be one of ${SIGNING_ALGS.join(', ')}`);
  const maxTokenTtl = int('maxTokenTtl', str(raw.maxTokenTtl) ?? '86400', 60, 31_536_000);
  const tokenTtl = int('tokenTtl', str(raw.tokenTtl) ?? '3600', 1, maxTokenTtl);
  const environment = str(raw.environment) ?? 'prod';
  if (!/^[a-z0-9]{1,16}$/.test(environment)) throw new ConfigError('environment', 'must be 1–16 lowercase letters or digits');
  const idPrefix = str(raw.idPrefix) ?? 'sk';
  if (!/^[a-z][a-z0-9]{0,7}$/.test(idPrefix)) throw new ConfigError('idPrefix', 'must be 1–8 lowercase letters or digits, starting with a letter');
  const logLevel = str(raw.logLevel) ?? 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigError('logLevel', 'must be debug, info, warn, error or silent');
  const kek = str(raw.kek);
  if (kek !== undefined && Buffer.from(kek, 'base64').length !== 32) throw new ConfigError('kek', 'must be base64 of exactly 32 bytes');
  const audience = str(raw.audience) ?? issuer;
  try {
    new URL(audience);
  } catch {
    throw new ConfigError('audience', 'must be an absolute URI');
  }
  return {
    port,
    host: str(raw.host) ?? '127.0.0.1',
    dataDir: str(raw.dataDir) ?? './keymint-data',
    issuer,
    dialects: parseMounts(raw.dialects),
    alg: alg as SigningAlg,
    tokenTtl,
    maxTokenTtl,
    refreshTokenTtl: int('refreshTokenTtl', str(raw.refreshTokenTtl) ?? '2592000', 60, 31_536_000 * 5),
    refreshTokenIdleTtl: int('refreshTokenIdleTtl', str(raw.refreshTokenIdleTtl) ?? '1209600', 60, 31_536_000 * 5),
    sessionTtl: int('sessionTtl', str(raw.sessionTtl) ?? '86400', 60, 31_536_000),
    sessionCookie: cookieName(str(raw.sessionCookie) ?? 'keymint_session'),
    loginUrl: absoluteUrl('loginUrl', str(raw.loginUrl)),
    audience,
    environment,
    idPrefix,
    bodyLimit: int('bodyLimit', str(raw.bodyLimit) ?? '16384', 1024, 1_048_576),
    logLevel: logLevel as LogLevel,
    insecureHttp,
    keyringRefreshMs: int('keyringRefreshMs', str(raw.keyringRefreshMs) ?? '2000', 100, 3_600_000),
    kek,
    ...scaleOptions(raw),
  };
}

/** RFC 6265 cookie-name = token. */
function cookieName(name: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(name)) throw new ConfigError('sessionCookie', 'must be a cookie name (RFC 6265 token), 1–64 characters');
  return name;
}

function absoluteUrl(key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new ConfigError(key, 'must be an absolute http(s) URL');
  }
  return value;
}

type ScaleOptions = Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dbPoolSize' | 'dbAcquireTimeoutMs' | 'dbQueryTimeoutMs' | 'redisUrl' | 'redisPrefix' | 'redisTimeoutMs' | 'nodeCount' | 'clientCacheMs' | 'rateLimitClient' | 'rateLimitIp' | 'lockoutThreshold' | 'lockoutBaseMs' | 'lockoutMaxMs' | 'trustedProxies' | 'maxInFlight' | 'maxEventLoopDelayMs'>;

function scaleOptions(raw: RawConfig): ScaleOptions {
  const databaseUrl = str(raw.databaseUrl);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('databaseUrl', 'must be a postgres:// URL');
  const redisUrl = str(raw.redisUrl);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('redisUrl', 'must be a redis:// or rediss:// URL');
  const databaseSchema = str(raw.databaseSchema) ?? 'keymint';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) throw new ConfigError('databaseSchema', 'must be lowercase letters, digits and _');
  const redisPrefix = str(raw.redisPrefix) ?? 'keymint:';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(redisPrefix)) throw new ConfigError('redisPrefix', 'must be 1–64 of A-Z a-z 0-9 : _ -');
  const trustedProxies = raw.trustedProxies === undefined ? [] : Array.isArray(raw.trustedProxies) ? raw.trustedProxies : [String(raw.trustedProxies)];
  for (const p of trustedProxies) if (!isAddressOrCidr(p)) throw new ConfigError('trustedProxies', 'each entry must be an IP address or CIDR');
  const lockoutBaseMs = int('lockoutBaseMs', str(raw.lockoutBaseMs) ?? '1000', 1, 3_600_000);
  return {
    databaseUrl,
    databaseSchema,
    dbPoolSize: int('dbPoolSize', str(raw.dbPoolSize) ?? '10', 1, 1000),
    dbAcquireTimeoutMs: int('dbAcquireTimeoutMs', str(raw.dbAcquireTimeoutMs) ?? '2000', 10, 60_000),
    dbQueryTimeoutMs: int('dbQueryTimeoutMs', str(raw.dbQueryTimeoutMs) ?? '5000', 10, 600_000),
    redisUrl,
    redisPrefix,
    redisTimeoutMs: int('redisTimeoutMs', str(raw.redisTimeoutMs) ?? '100', 5, 10_000),
    nodeCount: int('nodeCount', str(raw.nodeCount) ?? '1', 1, 10_000),
    clientCacheMs: int('clientCacheMs', str(raw.clientCacheMs) ?? (redisUrl ? '10000' : '2000'), 0, 3_600_000),
    rateLimitClient: int('rateLimitClient', str(raw.rateLimitClient) ?? '6000', 0, 100_000_000),
    rateLimitIp: int('rateLimitIp', str(raw.rateLimitIp) ?? '12000', 0, 100_000_000),
    lockoutThreshold: int('lockoutThreshold', str(raw.lockoutThreshold) ?? '5', 1, 1000),
    lockoutBaseMs,
    lockoutMaxMs: int('lockoutMaxMs', str(raw.lockoutMaxMs) ?? '900000', lockoutBaseMs, 86_400_000),
    trustedProxies,
    maxInFlight: int('maxInFlight', str(raw.maxInFlight) ?? '256', 0, 1_000_000),
    maxEventLoopDelayMs: int('maxEventLoopDelayMs', str(raw.maxEventLoopDelayMs) ?? '200', 0, 60_000),
  };
}

function isAddressOrCidr(value: string): boolean {
  const [addr, bits, extra] = value.split('/');
  if (extra !== undefined || addr === undefined || isIP(addr) === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(addr) === 4 ? 32 : 128);
}

/** RFC 8414 §2: https, no query or fragment; plain http only on loopback (SECURITY A-12, M-02). */
function checkIssuer(issuer: string, insecureHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError('issuer', 'must be an absolute URL');
  }
  if (url.search || url.hash || issuer.includes('?') || issuer.includes('#')) throw new ConfigError('issuer', 'must not have a query or fragment');
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') throw new ConfigError('issuer', 'must be an https URL');
  if (url.hostname !== 'localhost' && !isLoopbackIp(url.hostname) && !insecureHttp) {
    throw new ConfigError('issuer', 'must be https unless it is a loopback address (or --insecure-http is set)');
  }
}

function parseMounts(value: RawConfig['dialects']): DialectMount[] {
  const list = value === undefined ? ['oauth2'] : Array.isArray(value) ? value : [String(value)];
  return list.map((entry) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const path = eq < 0 ? undefined : entry.slice(eq + 1);
    if (path !== undefined && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) {
      throw new ConfigError('dialects', `the path for ${name} must start with / and be a plain URL path`);
    }
    return { name, path };
  });
}

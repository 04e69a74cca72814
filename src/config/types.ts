/** The resolved configuration: what every part receives a slice of (`Pick<Config, …>`). */
import type { LogLevel } from '../util/log.ts';

export type { LogLevel };

/**
 * The JWS algorithms Keymint signs with (`--alg`), RS256 first: the default, and the one an RSA key
 * given without an alg is taken for. Each has keys of its own (a JWK carries one `alg`, RFC 7517
 * §4.4), so RS256 and PS256 never share an RSA key.
 */
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** The algorithms a deployment may add to RS256 with `--alg` (FAPI 2.0 §5.4.1 allows exactly these). */
export const OTHER_SIGNING_ALGS: readonly SigningAlg[] = SIGNING_ALGS.filter((a) => a !== 'RS256');

/** `['a', 'b', 'c']` as "a, b or c", for messages naming the algorithms. */
export const orList = (items: readonly string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);

/**
 * The algorithms a client's ID tokens may be signed with (its `id_token_signed_response_alg`): those
 * the keyring keeps keys for, RS256 always and the deployment's `--alg` (core.ts).
 */
export const idTokenAlgs = (alg: SigningAlg): readonly SigningAlg[] => (alg === 'RS256' ? ['RS256'] : ['RS256', alg]);

export const SIGNING_MODES = ['auto', 'inline', 'threadpool'] as const;
export type SigningModeOption = (typeof SIGNING_MODES)[number];


export interface DialectMount {
  readonly name: string;
  /** Token endpoint path; undefined = the dialect's default. */
  readonly path: string | undefined;
}

/** A resource server Keymint issues tokens for (RFC 8707), with the scopes its tokens may carry. */
export interface ResourceDecl {
  readonly uri: string;
  /** Undefined: the resource restricts no scope. */
  readonly scopes: readonly string[] | undefined;
}

/** An issuer whose JWTs the token-exchange grant accepts as subject or actor tokens (RFC 8693). */
export interface TrustedIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
}

export interface Config {
  readonly insecureHttp: boolean;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly issuer: string;
  readonly dialects: readonly DialectMount[];
  readonly alg: SigningAlg;
  readonly maxTokenTtl: number;
  readonly tokenTtl: number;
  /** Percent of its lifetime a token must have left to be handed out again (clients with token reuse). */
  readonly tokenReuseMinRemaining: number;
  readonly refreshTokenTtl: number;
  readonly refreshTokenIdleTtl: number;
  /** Seconds a rotated refresh token may be retried for its successor; 0 = off (RACE-04). */
  readonly refreshReuseGrace: number;
  readonly sessionTtl: number;
  readonly sessionCookie: string;
  /** Serve the web console at /console/. */
  readonly console: boolean;
  /** Absolute lifetime of a console session, seconds. */
  readonly consoleSessionTtl: number;
  /** Idle lifetime of a console session, seconds. */
  readonly consoleIdleTtl: number;
  readonly loginUrl: string | undefined;
  /** The platform's logout page, visited after the end-session endpoint ends a session (RP-Initiated Logout). */
  readonly logoutUrl: string | undefined;
  /** One back-channel logout delivery's deadline, ms. */
  readonly backchannelLogoutTimeoutMs: number;
  /** Lifetime of a pushed authorization request, seconds (RFC 9126 `expires_in`). */
  readonly parTtl: number;
  /** Every client's authorization requests must be pushed (RFC 9126 §5, §6). */
  readonly requirePar: boolean;
  readonly audience: string;
  readonly resources: readonly ResourceDecl[];
  readonly exchangeIssuers: readonly TrustedIssuer[];
  readonly registration: 'off' | 'token' | 'open';
  /** Empty: the scopes the declared resources name. */
  readonly registrationScopes: readonly string[];
  readonly registrationRateLimit: number;
  readonly clientIdMetadataDocuments: boolean;
  readonly dpopNonce: boolean;
  readonly clientUrlsAllowPrivate: boolean;
  readonly jwksUriAllowHttp: boolean;
  readonly environment: string;
  readonly idPrefix: string;
  readonly bodyLimit: number;
  readonly logLevel: LogLevel;
  readonly keyringRefreshMs: number;
  /** Base64 of 32 bytes; when unset, `<dataDir>/kek` is used (generated on first start). */
  readonly kek: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly databaseSchema: string;
  readonly dbPoolSize: number;
  readonly dbAcquireTimeoutMs: number;
  readonly dbQueryTimeoutMs: number;
  /** How often expired rows are purged, ms; 0 = never (GROW-01). */
  readonly purgeIntervalMs: number;
  readonly purgeBatchSize: number;
  /** Batches per table per purge pass. */
  readonly purgeMaxBatches: number;
  /** Seconds a row is kept after it expires. */
  readonly purgeGrace: number;
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
  /** PEM certificate chain served over TLS; with `tlsKey`, `serve` speaks HTTPS. */
  readonly tlsCert?: string;
  /** PEM private key of `tlsCert`. */
  readonly tlsKey?: string;
  /** PEM bundle of the CAs `tls_client_auth` certificates must be issued by (RFC 8705 §2.1). */
  readonly tlsClientCa?: string;
  /** PEM CRLs of those CAs: a certificate they list fails `tls_client_auth`. */
  readonly tlsClientCrl?: string;
  /** Believe the RFC 9440 `Client-Cert` header (a TLS-terminating proxy's): off unless the proxy strips it from clients. */
  readonly clientCertHeader: boolean;
  /** A second listener for mutual TLS (RFC 8705 §5); set: the main listener takes no certificates. */
  readonly mtlsPort?: number;
  /** Where clients reach that listener (the base of `mtls_endpoint_aliases`); unset: the issuer with https and `mtlsPort`. */
  readonly mtlsUrl?: string;
  /** Origins whose pages may call the endpoints open to browsers (CORS); `['*']`: any. */
  readonly corsOrigins: readonly string[];
  readonly maxInFlight: number;
  readonly maxEventLoopDelayMs: number;
  /** Serving processes (1: this process serves alone, no supervisor). */
  readonly workers: number;
  readonly signing: SigningModeOption;
}

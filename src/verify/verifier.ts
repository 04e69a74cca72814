/**
 * `createVerifier`: checks a bearer access token for a resource server.
 *
 * JWTs (RFC 9068, SECURITY J-05): signature with a key from the issuer's JWKS (discovered from its
 * RFC 8414 metadata unless `jwksUri` is given); `alg` from a pinned allow-list (never `none`, never
 * HS*, so no HS/RS confusion); header `typ` `at+jwt` or `application/at+jwt`; `iss` exactly the
 * issuer; `aud` containing the audience; `exp` (required) and `nbf` with `clockTolerance`; the
 * presence of `sub`, `client_id`, `iat` and `jti`; the optional `mode` and `env` claims; revocation of
 * the `jti`; then the required scopes. Opaque tokens (not three dot-separated parts) that fit an
 * expected format go to RFC 7662 introspection (others are refused without a call), and the same
 * `iss`/`aud`/`exp`/mode/env/scope checks apply to whatever it returns.
 *
 * DPoP (RFC 9449 §7): a token whose claims carry `cnf.jkt` is refused under `Bearer`, with or
 * without `dpop` set; with `dpop` set it passes under the `DPoP` scheme with a proof for this
 * request (see dpop.ts). An unbound token under `DPoP` is refused, and with `dpop.required` every
 * Bearer token.
 *
 * Mutual TLS (RFC 8705 §3): a token whose `cnf` carries `x5t#S256` passes only with `mtls` set and
 * the request's TLS client certificate (`verify(token, { clientCertificate })`; the middleware reads
 * the connection's) of that SHA-256 thumbprint; without `mtls` such a token is refused, since its
 * binding could not be checked.
 *
 * This does NOT check: `iat` for freshness or a maximum age; `sub` or `client_id` against any list
 * (authorisation beyond scopes is the caller's); the client certificate itself beyond its thumbprint (its chain and dates were the authorization server's to check); tokens in a form body (RFC 6750 §2.2, not read); the size of JWKS or introspection
 * answers beyond what `fetch` enforces; and it cannot see a revocation earlier than its revocation
 * source does (see `pollRevocations`) or than the introspection cache allows (`cacheTtlMs`).
 */
import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose/jwt/verify';
import type { JWTPayload, JWTVerifyOptions } from 'jose';
import { credentialsFromInput } from './bearer.ts';
import { createDpopChecker, type DpopOptions, type DpopRequest } from './dpop.ts';
import { VerifyError } from './errors.ts';
import { createIntrospector, type IntrospectionOptions } from './introspection.ts';
import { RemoteKeySet } from './jwks.ts';
import type { RevocationSource } from './revocations.ts';

/** Asymmetric algorithms a verifier may allow; HS* and `none` are refused at construction. */
export const SAFE_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type VerifyAlgorithm = (typeof SAFE_ALGORITHMS)[number];

export interface VerifierOptions {
  /** Exact `iss`; also where metadata is discovered (`<origin>/.well-known/oauth-authorization-server<path>`). */
  readonly issuer: string;
  /** This resource server's identifier(s); the token's `aud` must contain one of them. */
  readonly audience: string | readonly string[];
  /** Allowed `alg` values (default `['RS256', 'PS256', 'ES256', 'EdDSA']`: what a Keymint deployment may sign with). */
  readonly algorithms?: readonly VerifyAlgorithm[];
  /** Scopes every token must carry (more per call: `verify(token, { requiredScopes })`). */
  readonly requiredScopes?: readonly string[];
  /** Leeway for `exp` and `nbf`, seconds (default 5). */
  readonly clockTolerance?: number;
  /** Opaque tokens are refused as `invalid_token` unless this is set (and then unless they fit its `formats`). */
  readonly introspection?: IntrospectionOptions;
  /** When set, the token's `mode` claim must equal it (Keymint: `live` or `sandbox`). */
  readonly mode?: string;
  /** When set, the token's `env` claim must equal it (Keymint: `prod`, `dev`, …). */
  readonly environment?: string;
  /** Skips metadata discovery. */
  readonly jwksUri?: string;
  /** Least time between JWKS fetches caused by unknown `kid`s, ms (default 30 000). */
  readonly jwksCooldownMs?: number;
  /** Age after which the JWKS is refreshed in the background, ms (default 300 000). */
  readonly jwksMaxAgeMs?: number;
  /** Timeout of each metadata, JWKS or introspection request, ms (default 5 000). */
  readonly timeoutMs?: number;
  readonly revocations?: RevocationSource;
  /** Accept DPoP-bound tokens (RFC 9449); without it a `DPoP` Authorization counts as no token. */
  readonly dpop?: DpopOptions;
  /** Accept certificate-bound tokens (RFC 8705 §3) from a request that presents their certificate; without it they are refused. */
  readonly mtls?: boolean;
  readonly fetch?: typeof fetch;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export interface AccessTokenClaims extends JWTPayload {
  readonly client_id?: string;
  /** RFC 7800 confirmation; `jkt` is the thumbprint of the DPoP key the token is bound to (RFC 9449 §6). */
  readonly cnf?: { readonly jkt?: string; readonly 'x5t#S256'?: string; readonly [member: string]: unknown };
  readonly scope?: string;
  readonly mode?: string;
  readonly env?: string;
  readonly [claim: string]: unknown;
}

export interface VerifyCallOptions {
  readonly requiredScopes?: readonly string[];
  /** The request, for a DPoP proof: method, absolute URL, `DPoP` header value(s). */
  readonly request?: DpopRequest;
  /**
   * The TLS client certificate of the request (RFC 8705 §3), DER, or an object with its DER in `raw`
   * (what node's `socket.getPeerCertificate()` returns); absent: none presented.
   */
  readonly clientCertificate?: Uint8Array | { readonly raw?: Uint8Array } | undefined;
}

export interface Verifier {
  /** A header value (`Bearer …`, `DPoP …`) or a bare token → its claims, or a `VerifyError`. */
  verify(authorizationHeaderOrToken: string | null | undefined, options?: VerifyCallOptions): Promise<AccessTokenClaims>;
  /** The proof algorithms accepted when DPoP is on (for `algs` in challenges and metadata), else undefined. */
  readonly dpopAlgorithms: readonly string[] | undefined;
  /** Whether only DPoP-bound tokens are accepted. */
  readonly dpopRequired: boolean;
}

const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti'];

export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'];
  for (const alg of algorithms) {
    if (!(SAFE_ALGORITHMS as readonly string[]).includes(alg)) throw new TypeError(`createVerifier: algorithm ${alg} is not allowed`);
  }
  if (algorithms.length === 0) throw new TypeError('createVerifier: algorithms is empty');
  new URL(options.issuer); // throws early on a bad issuer
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audiences.length === 0) throw new TypeError('createVerifier: audience is required');
  const fetchFn = options.fetch ?? fetch;
  const now = options.now;
  const clock = now ?? Date.now;
  const tolerance = options.clockTolerance ?? 5;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const baseScopes = options.requiredScopes ?? [];
  const keys = new RemoteKeySet({
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    fetch: fetchFn,
    now: clock,
    cooldownMs: options.jwksCooldownMs ?? 30_000,
    maxAgeMs: options.jwksMaxAgeMs ?? 300_000,
    timeoutMs,
  });
  const getKey = keys.getKey.bind(keys);
  const jwtOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: audiences,
    algorithms: [...algorithms],
    typ: 'at+jwt', // jose compares case-insensitively and accepts `application/at+jwt`
    clockTolerance: tolerance,
    requiredClaims: REQUIRED_CLAIMS,
  };
  // RFC 9701: a signed answer is checked with the same keys and algorithms as a JWT access token.
  const verifyAnswer = async (jwt: string): Promise<unknown> => {
    const { payload } = await jwtVerify(jwt, getKey, {
      issuer: options.issuer,
      audience: options.introspection?.clientId,
      algorithms: [...algorithms],
      typ: 'token-introspection+jwt',
      clockTolerance: tolerance,
      maxTokenAge: options.introspection?.maxAnswerAgeSeconds ?? 60,
      requiredClaims: ['iat'],
      ...(now ? { currentDate: new Date(now()) } : {}),
    });
    const answer = payload.token_introspection;
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new TypeError('token_introspection is not an object');
    return answer;
  };
  const introspect = options.introspection ? createIntrospector(options.introspection, fetchFn, clock, timeoutMs, verifyAnswer) : undefined;
  const dpop = options.dpop ? createDpopChecker(options.dpop, tolerance, clock) : undefined;
  const dpopRequired = options.dpop?.required === true;

  async function verifyJwt(token: string): Promise<AccessTokenClaims> {
    try {
      const opts = now ? { ...jwtOptions, currentDate: new Date(now()) } : jwtOptions;
      return (await jwtVerify(token, getKey, opts)).payload as AccessTokenClaims;
    } catch (error) {
      throw fromJose(error);
    }
  }

  async function verifyOpaque(token: string): Promise<AccessTokenClaims> {
    if (!introspect) throw new VerifyError('invalid_token', 'Opaque tokens are not accepted here.');
    const claims = await introspect(token);
    const t = clock() / 1000;
    if (claims.token_type === 'refresh_token') throw new VerifyError('invalid_token', 'A refresh token is not an access token.');
    if (claims.iss !== undefined && claims.iss !== options.issuer) throw new VerifyError('invalid_token', 'The token has another issuer.');
    if (claims.aud !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => audiences.includes(a as string))) throw new VerifyError('invalid_token', 'The token is for another audience.');
    }
    if (typeof claims.exp === 'number' && claims.exp <= t - tolerance) throw new VerifyError('expired', 'The access token expired.');
    if (typeof claims.nbf === 'number' && claims.nbf > t + tolerance) throw new VerifyError('invalid_token', 'The access token is not valid yet.');
    return claims as AccessTokenClaims;
  }

  /** RFC 9449 §7.1-7.2: a bound token needs its scheme and its proof; an unbound one the Bearer scheme. */
  async function checkBinding(scheme: 'Bearer' | 'DPoP', token: string, claims: AccessTokenClaims, request: DpopRequest | undefined) {
    const jkt = claims.cnf?.jkt;
    if (scheme === 'Bearer') {
      if (jkt !== undefined) throw new VerifyError('invalid_token', 'The access token is DPoP-bound: send it with the DPoP scheme.', { scheme: 'DPoP' });
      if (dpopRequired) throw new VerifyError('invalid_token', 'Only DPoP-bound access tokens are accepted.', { scheme: 'DPoP' });
      return;
    }
    if (typeof jkt !== 'string') throw new VerifyError('invalid_token', 'The access token is not DPoP-bound.', { scheme: 'DPoP' });
    await dpop!.check(request ?? { method: '', url: '', dpop: undefined }, token, jkt);
  }

  /** RFC 8705 §3: a certificate-bound token only with the certificate it is bound to. */
  function checkCertificate(claims: AccessTokenClaims, presented: VerifyCallOptions['clientCertificate'], scheme: 'Bearer' | 'DPoP') {
    const x5t = claims.cnf?.['x5t#S256'];
    if (x5t === undefined) return;
    if (options.mtls !== true) throw new VerifyError('invalid_token', 'The access token is bound to a TLS client certificate, which this resource server does not check.', { scheme });
    const der = presented instanceof Uint8Array ? presented : presented?.raw;
    if (der === undefined || der.length === 0 || createHash('sha256').update(der).digest('base64url') !== x5t) {
      throw new VerifyError('invalid_token', 'The access token is bound to a TLS client certificate this request did not present.', { scheme });
    }
  }

  return {
    dpopAlgorithms: dpop?.algorithms,
    dpopRequired,
    async verify(input, call) {
      const { scheme, token } = credentialsFromInput(input);
      if (scheme === 'DPoP' && !dpop) throw new VerifyError('missing_token', 'No bearer token in the request.');
      let claims: AccessTokenClaims;
      try {
        claims = isJwt(token) ? await verifyJwt(token) : await verifyOpaque(token);
      } catch (error) {
        // A refused DPoP request is answered with the DPoP scheme (RFC 9449 §7.1).
        if (scheme === 'DPoP' && error instanceof VerifyError && error.scheme === 'Bearer') {
          throw new VerifyError(error.code, error.message, { scopes: error.scopes, scheme, cause: error.cause });
        }
        throw error;
      }
      await checkBinding(scheme, token, claims, call?.request);
      checkCertificate(claims, call?.clientCertificate, scheme);
      if (options.mode !== undefined && claims.mode !== options.mode) throw new VerifyError('invalid_token', 'The token is for another mode.');
      if (options.environment !== undefined && claims.env !== options.environment) {
        throw new VerifyError('invalid_token', 'The token is for another environment.');
      }
      if (options.revocations && typeof claims.jti === 'string') {
        const r = options.revocations.isRevoked(claims.jti);
        if (r === true || (r !== false && (await r))) throw new VerifyError('revoked', 'The access token was revoked.');
      }
      const required = call?.requiredScopes ? [...baseScopes, ...call.requiredScopes] : baseScopes;
      if (required.length > 0) checkScopes(claims, required, scheme);
      return claims;
    },
  };
}

function isJwt(token: string): boolean {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  return second > 0 && token.indexOf('.', second + 1) < 0;
}

function checkScopes(claims: AccessTokenClaims, required: readonly string[], scheme: 'Bearer' | 'DPoP'): void {
  const granted = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
  const missing = [...new Set(required.filter((s) => !granted.has(s)))];
  if (missing.length > 0) {
    throw new VerifyError('insufficient_scope', `The access token lacks the scope ${missing.join(' ')}.`, { scopes: missing, scheme });
  }
}

function fromJose(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_JWT_EXPIRED') return new VerifyError('expired', 'The access token expired.', { cause: error });
  return new VerifyError('invalid_token', 'The access token is invalid.', { cause: error });
}

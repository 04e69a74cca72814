/**
 * RFC 7662 introspection for opaque tokens (Fuuffy `sk-…`, Polar `polar_at_…`): POST the token with
 * the resource server's own client credentials. Before any call, the token must fit one of the
 * expected formats (prefix, length, alphabet, checksum; SECURITY VER-01): anything else is refused
 * locally. Answers are kept in two bounded caches, so a spray of well-formed but unknown tokens
 * cannot evict the known good ones: active answers for `cacheTtlMs`, inactive ones for
 * `inactiveCacheTtlMs` (SECURITY VER-02). Concurrent checks of one token share a call.
 */
import { createHash } from 'node:crypto';
import { BoundedCache } from './bounded-cache.ts';
import { VerifyError } from './errors.ts';
import { formatMatcher, OPAQUE_FORMATS, type OpaqueFormat } from './opaque-formats.ts';

export interface IntrospectionOptions {
  /** The introspection endpoint, e.g. `https://auth.example.com/oauth2/introspect`. */
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Formats worth asking about (default: every opaque access-token format Keymint issues, `OPAQUE_FORMATS`). */
  readonly formats?: readonly OpaqueFormat[];
  /** How long an active answer is reused, ms (default 10 000; never beyond the token's `exp`). */
  readonly cacheTtlMs?: number;
  /** How long an inactive answer is reused, ms (default 5 000). */
  readonly inactiveCacheTtlMs?: number;
  /** Most answers kept in each cache (active, inactive); the least recently used is dropped first (default 10 000). */
  readonly maxEntries?: number;
  /**
   * Ask for signed answers (RFC 9701, `Accept: application/token-introspection+jwt`) and accept only
   * those: a JWT of type `token-introspection+jwt` signed by a key of the issuer's JWKS in one of the
   * verifier's `algorithms`, `iss` the issuer, `aud` this `clientId`, `iat` at most `maxAnswerAgeSeconds`
   * old. A plain JSON answer (an endpoint that does not sign, or someone stripping the signature) is
   * `introspection_unavailable`, never taken. Default false.
   */
  readonly signedAnswers?: boolean;
  /** With `signedAnswers`: how old an answer's `iat` may be, seconds (default 60). */
  readonly maxAnswerAgeSeconds?: number;
}

/** RFC 9701 §5: what a signed answer is asked for with and served as. */
export const INTROSPECTION_JWT = 'application/token-introspection+jwt';

/** Checks a signed answer (verifier.ts has the keys); resolves its `token_introspection`, throws when it is not one. */
export type AnswerVerifier = (jwt: string) => Promise<unknown>;

export type IntrospectionClaims = Readonly<Record<string, unknown>> & { readonly active: true };

/** `client_secret_basic` with each half form-urlencoded first (RFC 6749 §2.3.1). */
export function basicAuth(id: string, secret: string): string {
  const enc = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

const inactive = () => new VerifyError('invalid_token', 'The access token is not active.');

export function createIntrospector(options: IntrospectionOptions, fetchFn: typeof fetch, now: () => number, timeoutMs: number, verifyAnswer?: AnswerVerifier) {
  const signed = options.signedAnswers === true;
  if (signed && verifyAnswer === undefined) throw new TypeError('introspection: signedAnswers needs the verifier\'s keys');
  const ttl = options.cacheTtlMs ?? 10_000;
  const inactiveTtl = options.inactiveCacheTtlMs ?? 5_000;
  const max = options.maxEntries ?? 10_000;
  const expected = formatMatcher(options.formats ?? Object.values(OPAQUE_FORMATS));
  const authorization = basicAuth(options.clientId, options.clientSecret);
  const active = new BoundedCache<IntrospectionClaims>(max);
  const inactives = new BoundedCache<true>(max);
  const pending = new Map<string, Promise<IntrospectionClaims | undefined>>();

  /** The claims of an active token, undefined for an inactive one; throws when there is no answer. */
  async function ask(token: string): Promise<IntrospectionClaims | undefined> {
    let res: Response;
    let body: unknown;
    try {
      res = await fetchFn(options.endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: signed ? INTROSPECTION_JWT : 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = res.status !== 200 ? undefined : signed ? await res.text() : await res.json();
    } catch (cause) {
      throw new VerifyError('introspection_unavailable', 'The introspection endpoint could not be reached.', { cause });
    }
    if (signed && res.status === 200) {
      if (res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() !== INTROSPECTION_JWT) {
        throw new VerifyError('introspection_unavailable', 'The introspection endpoint did not sign its answer.');
      }
      try {
        body = await verifyAnswer!(body as string);
      } catch (cause) {
        throw new VerifyError('introspection_unavailable', 'The introspection answer is not signed as expected.', { cause });
      }
    }
    if (res.status !== 200 || typeof body !== 'object' || body === null) {
      throw new VerifyError('introspection_unavailable', `The introspection endpoint answered ${res.status}.`);
    }
    const claims = body as Record<string, unknown>;
    return claims.active === true ? (claims as IntrospectionClaims) : undefined;
  }

  return async function introspect(token: string): Promise<IntrospectionClaims> {
    if (!expected(token)) throw new VerifyError('invalid_token', 'The access token is in no accepted format.');
    const key = createHash('sha256').update(token).digest('base64url'); // never keep the token itself
    const t = now();
    const hit = active.get(key, t);
    if (hit) return hit;
    if (inactives.get(key, t)) throw inactive();
    let flight = pending.get(key);
    if (!flight) {
      flight = ask(token).finally(() => pending.delete(key));
      pending.set(key, flight);
    }
    const claims = await flight;
    if (claims === undefined) {
      if (inactiveTtl > 0) inactives.set(key, true, now() + inactiveTtl);
      throw inactive();
    }
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
    if (ttl > 0) active.set(key, claims, Math.min(now() + ttl, exp));
    return claims;
  };
}

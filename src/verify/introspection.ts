/**
 * RFC 7662 introspection for opaque tokens (Fuuffy `sk-…`, Polar `polar_at_…`): POST the token with
 * the resource server's own client credentials, keep an active answer for a short time. Inactive
 * answers are not cached (the next request asks again); concurrent checks of one token share a call.
 */
import { createHash } from 'node:crypto';
import { VerifyError } from './errors.ts';

export interface IntrospectionOptions {
  /** The introspection endpoint, e.g. `https://auth.example.com/oauth2/introspect`. */
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** How long an active answer is reused, ms (default 10 000; never beyond the token's `exp`). */
  readonly cacheTtlMs?: number;
  /** Most answers kept; the oldest is dropped first (default 10 000). */
  readonly maxEntries?: number;
}

export type IntrospectionClaims = Readonly<Record<string, unknown>> & { readonly active: true };

interface Cached {
  readonly claims: IntrospectionClaims;
  readonly until: number;
}

/** `client_secret_basic` with each half form-urlencoded first (RFC 6749 §2.3.1). */
export function basicAuth(id: string, secret: string): string {
  const enc = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export function createIntrospector(options: IntrospectionOptions, fetchFn: typeof fetch, now: () => number, timeoutMs: number) {
  const ttl = options.cacheTtlMs ?? 10_000;
  const max = options.maxEntries ?? 10_000;
  const authorization = basicAuth(options.clientId, options.clientSecret);
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<IntrospectionClaims>>();

  async function ask(token: string): Promise<IntrospectionClaims> {
    let res: Response;
    let body: unknown;
    try {
      res = await fetchFn(options.endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = res.status === 200 ? await res.json() : undefined;
    } catch (cause) {
      throw new VerifyError('introspection_unavailable', 'The introspection endpoint could not be reached.', { cause });
    }
    if (res.status !== 200 || typeof body !== 'object' || body === null) {
      throw new VerifyError('introspection_unavailable', `The introspection endpoint answered ${res.status}.`);
    }
    const claims = body as Record<string, unknown>;
    if (claims.active !== true) throw new VerifyError('invalid_token', 'The access token is not active.');
    return claims as IntrospectionClaims;
  }

  return async function introspect(token: string): Promise<IntrospectionClaims> {
    const key = createHash('sha256').update(token).digest('base64url'); // never keep the token itself
    const hit = cache.get(key);
    const t = now();
    if (hit && hit.until > t) return hit.claims;
    if (hit) cache.delete(key);
    let flight = pending.get(key);
    if (!flight) {
      flight = ask(token).finally(() => pending.delete(key));
      pending.set(key, flight);
    }
    const claims = await flight;
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
    const until = Math.min(now() + ttl, exp);
    if (ttl > 0 && !cache.has(key)) {
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(key, { claims, until });
    }
    return claims;
  };
}

/**
 * `createTokenSource`: a cached access token for an API client, in any Keymint dialect.
 *
 * - Cached and reused until a refresh point at `refreshFraction` of its lifetime, moved earlier by up
 *   to `jitter` of the lifetime (so a fleet started together does not refresh together).
 * - Never handed out within `minValidityMs` of its expiry (nor after it): past that, callers wait.
 * - One request in flight however many callers ask at once (single-flight).
 * - 429 / 503 / 502 / 504 and network errors are retried with bounded exponential backoff, never
 *   sooner than `Retry-After`; a Retry-After longer than `maxDelayMs` ends the attempts and no request
 *   is sent before it has passed. A refresh that fails before expiry keeps serving the current token.
 * - `invalidate(token)` after the API answered 401 forces one refresh; for a token already replaced
 *   it does nothing, so fifty parallel 401s cause one refresh.
 * - `privateKeyJwt` authenticates with a new signed assertion per request instead of a secret.
 * - `dpop` sends a proof with each token request (RFC 9449 §5), retries once at once when the
 *   endpoint answers `use_dpop_nonce` with a `DPoP-Nonce`, and keeps every nonce it is sent. A
 *   token issued as `DPoP` is then used with the `DPoP` scheme and a proof per request (`authorize`).
 */
import { assertionSigner, type PrivateKeyJwtOptions } from './client-assertion.ts';
import { DIALECTS, type DialectCodec, type DialectName, type Grant } from './dialects.ts';
import { createDpopProver, type DpopProver } from './dpop.ts';
import { TokenSourceError } from './errors.ts';
import { backoffMs, retryAfterMs } from './retry.ts';

export interface TokenSourceOptions {
  /** The full token endpoint URL, e.g. `https://auth.example.com/oauth2/token`. */
  readonly tokenUrl: string;
  /** Client id, or Polygon's `apiKey`. */
  readonly clientId: string;
  /** Client secret, or Polygon's `apiSecret`; give it or `privateKeyJwt`. */
  readonly clientSecret?: string;
  /** Authenticate with `private_key_jwt` instead of a secret (`oauth2` dialect). */
  readonly privateKeyJwt?: PrivateKeyJwtOptions;
  /** Ask for DPoP-bound tokens (`oauth2` dialect): `true` makes a new P-256 key, or pass a prover. */
  readonly dpop?: boolean | DpopProver;
  /** Wire dialect of the endpoint (default `oauth2`). */
  readonly dialect?: DialectName;
  readonly scope?: string | readonly string[];
  /** Audience / resource (oauth2 only: sent as `resource`). */
  readonly audience?: string;
  /** Default `client_credentials`; Polar needs `refresh_token` or `web`. */
  readonly grant?: Grant;
  /** Told each new refresh token when the endpoint rotates it (Polar): persist it. */
  readonly onRefreshToken?: (refreshToken: string) => void;
  /** Refresh at this fraction of the lifetime (default 0.8; 0 < f ≤ 1). */
  readonly refreshFraction?: number;
  /** Refresh up to this fraction of the lifetime earlier, at random (default 0.1). */
  readonly jitter?: number;
  /** A token is not handed out with less than this left, ms (default 10 000, at most ¼ of its lifetime). */
  readonly minValidityMs?: number;
  /** Lifetime assumed when the endpoint states none, seconds (default 300). */
  readonly defaultExpiresIn?: number;
  /** Requests per token fetch, first included (default 4). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per request, ms (default 10 000). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Clock in ms (tests). */
  readonly now?: () => number;
  /** Waits between retries (tests inject their own). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface Authorization {
  /** The access token used (to `invalidate` it after a 401). */
  readonly token: string;
  /** `authorization` (`Bearer …` or `DPoP …`), and for a DPoP-bound token a fresh `dpop` proof. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface TokenSource {
  /** A valid access token, fetched only when the cached one is due for refresh. */
  getToken(): Promise<string>;
  /** The headers that authorise one request to `url` with `method`. */
  authorize(method: string, url: string | URL): Promise<Authorization>;
  /** The DPoP prover, when `dpop` is on: its `jkt`, and the nonces it remembers. */
  readonly dpop: DpopProver | undefined;
  /** Drops `token` (or the current token) so the next getToken() fetches a new one. */
  invalidate(token?: string): void;
}

interface Current {
  readonly accessToken: string;
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly refreshAt: number;
  readonly usableUntil: number;
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const RETRIED = new Set([429, 502, 503, 504]);

export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const name = options.dialect ?? 'oauth2';
  // Own members only: a dialect named `toString` must not find Object.prototype's.
  if (!Object.hasOwn(DIALECTS, name)) throw new TypeError(`createTokenSource: unknown dialect ${String(options.dialect)}`);
  const codec: DialectCodec = DIALECTS[name];
  let grant: Grant = options.grant ?? { type: 'client_credentials' };
  if (!codec.grants.includes(grant.type)) {
    throw new TypeError(`createTokenSource: the ${codec.name} dialect does not offer the ${grant.type} grant (offers: ${codec.grants.join(', ')})`);
  }
  const scope = typeof options.scope === 'string' ? options.scope : options.scope?.join(' ');
  if (scope && !codec.scope) throw new TypeError(`createTokenSource: the ${codec.name} dialect takes no scope`);
  if (options.audience && !codec.audience) throw new TypeError(`createTokenSource: the ${codec.name} dialect takes no audience`);
  if ((options.clientSecret === undefined) === (options.privateKeyJwt === undefined)) {
    throw new TypeError('createTokenSource: give exactly one of clientSecret and privateKeyJwt');
  }
  if (options.privateKeyJwt && !codec.privateKeyJwt) throw new TypeError(`createTokenSource: the ${codec.name} dialect takes no private_key_jwt`);
  if (options.dpop && !codec.dpop) throw new TypeError(`createTokenSource: the ${codec.name} dialect takes no DPoP`);
  const fraction = options.refreshFraction ?? 0.8;
  const jitter = options.jitter ?? 0.1;
  if (!(fraction > 0 && fraction <= 1) || !(jitter >= 0 && jitter < fraction)) throw new TypeError('createTokenSource: refreshFraction/jitter out of range');
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepReal;
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 4;
  const backoff = { baseDelayMs: options.baseDelayMs ?? 500, maxDelayMs: options.maxDelayMs ?? 30_000 };
  const assertion = options.privateKeyJwt ? assertionSigner(options.clientId, options.privateKeyJwt, now) : undefined;
  const dpop = options.dpop === true ? createDpopProver({ now }) : options.dpop || undefined;
  let current: Current | undefined;
  let inflight: Promise<Current> | undefined;
  let blockedUntil = 0;
  let blockedError: TokenSourceError | undefined;

  function remember(issued: ReturnType<DialectCodec['decode']>, sentAt: number): Current {
    const byIn = sentAt + (issued.expiresInSec ?? options.defaultExpiresIn ?? 300) * 1000;
    // Both stated: the earlier wins (expiresAt is the server's clock, expires_in is ours).
    const expiresAt = issued.expiresAtMs === undefined ? byIn : issued.expiresInSec === undefined ? issued.expiresAtMs : Math.min(byIn, issued.expiresAtMs);
    const lifetime = Math.max(0, expiresAt - sentAt);
    const usableUntil = expiresAt - Math.min(options.minValidityMs ?? 10_000, lifetime / 4);
    const refreshAt = Math.min(usableUntil, sentAt + lifetime * (fraction - jitter * random()));
    if (issued.refreshToken !== undefined && grant.type === 'refresh_token' && issued.refreshToken !== grant.refreshToken) {
      grant = { type: 'refresh_token', refreshToken: issued.refreshToken };
      options.onRefreshToken?.(issued.refreshToken);
    }
    if (issued.tokenType === 'DPoP' && !dpop) throw new Error('a DPoP token was issued without a DPoP proof');
    return { accessToken: issued.accessToken, tokenType: issued.tokenType, refreshAt, usableUntil };
  }

  async function request(): Promise<Current> {
    if (now() < blockedUntil && blockedError) throw blockedError;
    let nonceRetried = false;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= maxAttempts;
      const clientSecret = options.clientSecret ?? '';
      const encoded = codec.encode({ clientId: options.clientId, clientSecret, clientAssertion: assertion?.(), scope, audience: options.audience, grant });
      const headers = dpop ? { ...encoded.headers, dpop: dpop.proof('POST', options.tokenUrl) } : encoded.headers;
      const sentAt = now();
      let res: Response;
      let json: unknown;
      try {
        res = await fetchFn(options.tokenUrl, { method: 'POST', headers, body: encoded.body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
        json = await res.json().catch(() => undefined);
        const nonce = res.headers.get('dpop-nonce');
        if (dpop && nonce) dpop.rememberNonce(options.tokenUrl, nonce);
        // RFC 9449 §8: one immediate retry with the nonce the endpoint just sent; not a failed attempt.
        if (dpop && nonce && !nonceRetried && res.status === 400 && codec.errorCode(json) === 'use_dpop_nonce') {
          nonceRetried = true;
          attempt--;
          continue;
        }
      } catch (cause) {
        if (last) throw new TokenSourceError('network_error', 'The token endpoint could not be reached.', { cause });
        await sleep(backoffMs(attempt, backoff, random));
        continue;
      }
      if (res.status === 200) {
        try {
          return remember(codec.decode(json), sentAt);
        } catch (cause) {
          throw new TokenSourceError('invalid_response', `The token response does not have the ${codec.name} shape.`, { status: 200, cause });
        }
      }
      const providerCode = codec.errorCode(json);
      if (!RETRIED.has(res.status)) throw refusal(res.status, providerCode);
      const asked = retryAfterMs(res.headers, now());
      const wait = Math.max(asked ?? 0, backoffMs(attempt, backoff, random));
      if (last || (asked !== undefined && asked > backoff.maxDelayMs)) {
        const code = res.status === 429 ? 'rate_limited' : 'unavailable';
        const error = new TokenSourceError(code, `The token endpoint answered ${res.status}.`, { status: res.status, providerCode, retryAfterMs: asked });
        if (asked !== undefined) [blockedUntil, blockedError] = [now() + asked, error];
        throw error;
      }
      await sleep(wait);
    }
  }

  function refresh(): Promise<Current> {
    inflight ??= request()
      .then((fresh) => (current = fresh))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  async function getCurrent(): Promise<Current> {
    const held = current;
    const t = now();
    if (held && t < held.refreshAt) return held;
    if (!held || t >= held.usableUntil) return refresh();
    try {
      return await refresh();
    } catch (error) {
      // Ahead-of-expiry refresh failed: the current token is still good for a while.
      if (current === held && now() < held.usableUntil) return held;
      throw error;
    }
  }

  return {
    dpop,
    async getToken() {
      return (await getCurrent()).accessToken;
    },
    async authorize(method, url): Promise<Authorization> {
      const { accessToken: token, tokenType } = await getCurrent();
      // A DPoP token exists only with a prover (remember() refuses it otherwise).
      if (tokenType === 'Bearer' || !dpop) return { token, headers: { authorization: `Bearer ${token}` } };
      return { token, headers: { authorization: `DPoP ${token}`, dpop: dpop.proof(method, url, token) } };
    },
    invalidate(token) {
      if (token === undefined || current?.accessToken === token) current = undefined;
    },
  };
}

function refusal(status: number, providerCode: string | undefined): TokenSourceError {
  const lower = providerCode?.toLowerCase();
  const code =
    status === 401 || lower === 'invalid_client' || lower === 'unauthorized'
      ? 'invalid_client'
      : lower === 'invalid_grant'
        ? 'invalid_grant'
        : 'token_request_failed';
  return new TokenSourceError(code, `The token endpoint answered ${status}.`, { status, providerCode });
}

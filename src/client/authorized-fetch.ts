/**
 * `authorizedFetch(source)`: fetch with the source's authorization: `Authorization: Bearer <token>`,
 * or for a DPoP-bound token `Authorization: DPoP <token>` plus a proof made for this method and URL
 * (RFC 9449 §7). Two retries, each only if the request can be replayed (no `ReadableStream` in
 * `init.body`), at most one of them:
 * - 401 with `error="use_dpop_nonce"` and a `DPoP-Nonce` (RFC 9449 §9): the nonce is kept and the
 *   request sent once more with the same token and a proof carrying it;
 * - any other 401: the token is invalidated and the request sent once more with a fresh token, if it
 *   differs.
 * Any other answer, including the second 401, goes back to the caller as it is. A `DPoP-Nonce` in
 * any answer is kept for the next proofs to that origin.
 */
import type { TokenSource } from './token-source.ts';

export interface AuthorizedFetchOptions {
  readonly fetch?: typeof fetch;
}

function withHeaders(input: string | URL | Request, init: RequestInit | undefined, extra: Readonly<Record<string, string>>): RequestInit {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return { ...init, headers };
}

const NONCE_CHALLENGE = /(^|,)\s*DPoP\s[^]*error="use_dpop_nonce"/i;

export function authorizedFetch(source: TokenSource, options: AuthorizedFetchOptions = {}) {
  const fetchFn = options.fetch ?? fetch;
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // A stream given in `init` can be read once and not copied; a Request's own body is cloned (teed).
    const canRetry = !(init?.body instanceof ReadableStream);
    const spare = canRetry && input instanceof Request ? input.clone() : input;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    const send = async (target: string | URL | Request) => {
      const { token, headers } = await source.authorize(method, url);
      const res = await fetchFn(target, withHeaders(target, init, headers));
      const nonce = res.headers.get('dpop-nonce');
      if (nonce && source.dpop) source.dpop.rememberNonce(url, nonce);
      return { res, token, nonce };
    };
    const first = await send(input);
    if (first.res.status !== 401 || !canRetry) return first.res;
    const nonceChallenge = first.nonce !== null && source.dpop !== undefined && NONCE_CHALLENGE.test(first.res.headers.get('www-authenticate') ?? '');
    if (!nonceChallenge) {
      source.invalidate(first.token);
      if ((await source.getToken()) === first.token) return first.res;
    }
    await first.res.body?.cancel();
    return (await send(spare)).res;
  };
}

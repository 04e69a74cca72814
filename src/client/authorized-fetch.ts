/**
 * `authorizedFetch(source)`: fetch with `Authorization: Bearer <token>` from a token source. When the
 * API answers 401 the token is invalidated and the request is sent once more with a fresh token —
 * only if the request can be replayed (no `ReadableStream` in `init.body`) and the fresh token
 * differs. Any other answer,
 * including the second 401, goes back to the caller as it is.
 */
import type { TokenSource } from './token-source.ts';

export interface AuthorizedFetchOptions {
  readonly fetch?: typeof fetch;
}

function withBearer(input: string | URL | Request, init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

export function authorizedFetch(source: TokenSource, options: AuthorizedFetchOptions = {}) {
  const fetchFn = options.fetch ?? fetch;
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // A stream given in `init` can be read once and not copied; a Request's own body is cloned (teed).
    const canRetry = !(init?.body instanceof ReadableStream);
    const spare = canRetry && input instanceof Request ? input.clone() : input;
    const token = await source.getToken();
    const res = await fetchFn(input, withBearer(input, init, token));
    if (res.status !== 401 || !canRetry) return res;
    source.invalidate(token);
    const fresh = await source.getToken();
    if (fresh === token) return res;
    await res.body?.cancel();
    return fetchFn(spare, withBearer(spare, init, fresh));
  };
}

/**
 * Opt-in CORS for protected routes, so that a client in a web page on another origin (an MCP client,
 * for one) can call them with its `Authorization` header and read the guard's `WWW-Authenticate`.
 * Only requests whose `Origin` is allowed get headers; any other request is answered exactly as
 * without CORS. Never `Access-Control-Allow-Credentials`: tokens travel in headers, not cookies.
 */

export interface CorsOptions {
  /** Allowed origins, compared as exact strings (`https://app.example.com`), or `'*'` for any. */
  readonly origins: '*' | readonly string[];
  /** Request headers allowed on top of `Authorization`, `Content-Type`, `DPoP` (e.g. `Mcp-Session-Id`, `Mcp-Protocol-Version`). */
  readonly allowHeaders?: readonly string[];
  /** Response headers the page may read on top of `WWW-Authenticate` (e.g. `Mcp-Session-Id`). */
  readonly exposeHeaders?: readonly string[];
  /** Methods allowed by a preflight (default `GET`, `POST`, `DELETE`). */
  readonly methods?: readonly string[];
}

/** The parts of a request CORS looks at. */
export interface CorsRequest {
  readonly method: string;
  /** The `Origin` header. */
  readonly originHeader: string | undefined;
  /** `Access-Control-Request-Method`: present only on a preflight. */
  readonly requestMethod: string | undefined;
}

export interface CorsPolicy {
  /** The 204 answer to a preflight from an allowed origin, or undefined when it is not one. */
  preflight(request: CorsRequest): { readonly status: 204; readonly headers: Readonly<Record<string, string>>; readonly body: '' } | undefined;
  /** Headers every other answer to this request carries (`{}` for a disallowed or absent origin). */
  headers(request: CorsRequest): Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function names(list: readonly string[] | undefined, what: string): readonly string[] {
  for (const name of list ?? []) if (!TOKEN.test(name)) throw new TypeError(`cors: ${what} are header or method names`);
  return list ?? [];
}

/** Checks the options once; a malformed origin would never match, so it is refused here. */
export function corsPolicy(options: CorsOptions): CorsPolicy {
  const { origins } = options;
  if (origins !== '*') {
    for (const origin of origins) {
      if (URL.parse(origin)?.origin !== origin) throw new TypeError(`cors: origins are scheme://host[:port] without a path, got "${origin}"`);
    }
  }
  const allowHeaders = ['Authorization', 'Content-Type', 'DPoP', ...names(options.allowHeaders, 'allowHeaders')].join(', ');
  const exposeHeaders = ['WWW-Authenticate', ...names(options.exposeHeaders, 'exposeHeaders')].join(', ');
  const methods = (options.methods ? names(options.methods, 'methods') : ['GET', 'POST', 'DELETE']).join(', ');
  // With a list the answer depends on the Origin header, so caches must key on it.
  const allowed = (origin: string | undefined): Record<string, string> | undefined => {
    if (origin === undefined) return undefined;
    if (origins === '*') return { 'Access-Control-Allow-Origin': '*' };
    return origins.includes(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : undefined;
  };
  return {
    preflight(request) {
      const base = request.method === 'OPTIONS' && request.requestMethod !== undefined ? allowed(request.originHeader) : undefined;
      if (!base) return undefined;
      const headers = { ...base, 'Access-Control-Allow-Methods': methods, 'Access-Control-Allow-Headers': allowHeaders, 'Access-Control-Max-Age': '600' };
      return { status: 204, headers, body: '' };
    },
    headers(request) {
      const base = allowed(request.originHeader);
      return base ? { ...base, 'Access-Control-Expose-Headers': exposeHeaders } : {};
    },
  };
}

/**
 * Exact-path routes, prefix routes (admin API, console), and mounts. A mount is the directory of a
 * dialect's token path (`/v1/auth/` for Fuuffy): every answer the router or the server gives on its
 * own under it — 404, 405, 413, 503 — is built by that dialect, in its catalogue's shape. Where mounts
 * nest the longest prefix wins; paths outside every mount answer in the fallback (`oauth2`) shape.
 */
import type { Dialect } from '../dialects/types.ts';
import { OAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  /** Name of the owner (a dialect, `core`, `admin`), for collision messages. */
  readonly owner: string;
  /** What the path is, for the 405 text ("The token endpoint accepts only POST."). */
  readonly label?: string;
  /**
   * Scripts on other origins may call it (CORS): an endpoint a browser-based client calls with
   * credentials it sends itself (a client id, a bearer token, a DPoP proof), never with cookies.
   * `'document'`: a public document (metadata, JWKS, OpenAPI), whose answers carry
   * `PUBLIC_DOCUMENT` themselves; its preflight allows any request header, since a client may send
   * its own (the MCP SDK sends `MCP-Protocol-Version`) and the document is the same whatever it sends.
   */
  readonly cors?: boolean | 'document';
  /**
   * Its GET acts (issues a code, ends a session), so HEAD, which RFC 9110 §9.2.1 makes safe, is not
   * answered by it but with 405 (Allow without HEAD). Other GET routes answer HEAD too.
   */
  readonly acts?: boolean;
}

/**
 * Response headers a script on another origin may read beyond the CORS-safelisted ones
 * (`Cache-Control`, `Content-Type`, `Pragma`, …) whatever the dialect: the challenge (RFC 6750 §3,
 * RFC 9449 §7.1), the DPoP nonce (RFC 9449 §8), `Retry-After` and `Location` (RFC 9110 §10.2).
 */
export const STANDARD_EXPOSED_HEADERS: readonly string[] = ['WWW-Authenticate', 'DPoP-Nonce', 'Retry-After', 'Location'];

/**
 * The standard headers and every header of its own that one of `dialects` declares it sends
 * (`contract.rateLimitHeaders`), each once, in that order. test/http/cors.test.ts checks that no
 * dialect sends a header this leaves out.
 */
export const exposedHeaders = (dialects: Iterable<Pick<Dialect, 'contract'>>): string[] => [
  ...new Set([...STANDARD_EXPOSED_HEADERS, ...[...dialects].flatMap((d) => d.contract.rateLimitHeaders ?? [])]),
];

/**
 * What a browser on another origin may read of an answer from a CORS path: `*` and no
 * `Access-Control-Allow-Credentials` (a browser never sends cookies or cached HTTP credentials with
 * such a request, so another origin's script can do nothing curl could not), and `exposed`.
 */
const corsHeaders = (exposed: readonly string[]): Readonly<Record<string, string>> => ({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': exposed.join(', '),
});

/**
 * On every answer of a public document (metadata, JWKS, OpenAPI): any script may read it. Sent
 * whether or not the request had an `Origin`, so a cached copy serves a browser too.
 */
export const PUBLIC_DOCUMENT: Readonly<Record<string, string>> = { 'Access-Control-Allow-Origin': '*' };

/** The request headers such a client sends (RFC 6749 client authentication, RFC 9449 proofs, JSON bodies). */
const CORS_REQUEST_HEADERS = 'Authorization, Content-Type, DPoP';

/** How long a browser may keep a preflight's answer, seconds. */
const CORS_MAX_AGE = '600';

/** Builds an error answer in one owner's shape. */
export type ErrorEncoder = (err: OAuthError, req: HttpRequest) => HttpResponse;

export class RouteCollisionError extends Error {
  constructor(what: string, first: string, second: string) {
    super(`${what} is claimed by both ${first} and ${second}`);
    this.name = 'RouteCollisionError';
  }
}

interface PathEntry {
  readonly owner: string;
  readonly label: string;
  readonly methods: Map<string, Handler>;
  cors: boolean;
  /** A public document (`Route.cors === 'document'`). */
  document: boolean;
  /** Its GET acts (`Route.acts`): no HEAD. */
  acts: boolean;
}

interface Mount {
  readonly prefix: string;
  readonly owner: string;
  readonly encodeError: ErrorEncoder;
}

export class Router {
  readonly #paths = new Map<string, PathEntry>();
  readonly #prefixes: Array<{ prefix: string; handler: Handler; corsMethods: readonly string[] | undefined }> = [];
  /** Longest prefix first. */
  #mounts: Mount[] = [];
  readonly #fallback: ErrorEncoder;
  /** Origins whose pages may call the CORS paths; undefined: any (`*`). */
  readonly #origins: ReadonlySet<string> | undefined;
  readonly #corsHeaders: Readonly<Record<string, string>>;

  /**
   * `corsOrigins`: `['*']` (the default) or the origins allowed at CORS paths (public documents stay
   * open to any). `exposedHeaders`: the response headers scripts there may read beyond the
   * safelisted ones (`STANDARD_EXPOSED_HEADERS` and the dialects' own, `exposedHeaders()`).
   */
  constructor(fallback: ErrorEncoder, corsOrigins: readonly string[] = ['*'], exposedHeaders: readonly string[] = STANDARD_EXPOSED_HEADERS) {
    this.#fallback = fallback;
    this.#origins = corsOrigins.includes('*') ? undefined : new Set(corsOrigins);
    this.#corsHeaders = corsHeaders(exposedHeaders);
  }

  /** Adds a route; a path or method owned by someone else is a RouteCollisionError naming both. */
  add(route: Route): void {
    const entry = this.#paths.get(route.path) ?? { owner: route.owner, label: route.label ?? 'This endpoint', methods: new Map<string, Handler>(), cors: false, document: false, acts: false };
    if (entry.owner !== route.owner || entry.methods.has(route.method)) throw new RouteCollisionError(`path ${route.path}`, entry.owner, route.owner);
    entry.methods.set(route.method, route.handler);
    entry.cors ||= route.cors === true;
    entry.document ||= route.cors === 'document';
    entry.acts ||= route.acts === true;
    this.#paths.set(route.path, entry);
  }

  /**
   * Every path under `prefix` not otherwise routed goes to `handler`, which does its own matching;
   * with `corsMethods`, scripts on other origins may call those methods there (`Route.cors`).
   */
  addPrefix(prefix: string, handler: Handler, corsMethods?: readonly string[]): void {
    this.#prefixes.push({ prefix, handler, corsMethods });
  }

  /**
   * The methods scripts on other origins may call at this path (CORS), or undefined where they may
   * not: the admin API, the console, the authorization endpoint, introspection and everything else
   * not marked.
   */
  corsMethods(path: string): readonly string[] | undefined {
    const entry = this.#paths.get(path);
    if (entry) return entry.cors ? [...entry.methods.keys()] : undefined;
    return this.#prefixes.find((p) => path.startsWith(p.prefix))?.corsMethods;
  }

  /**
   * The CORS headers for an answer to a request from an allowed `Origin` at a CORS path; undefined
   * otherwise. With a list of origins the answer names the request's and varies by it.
   */
  cors(req: HttpRequest): Readonly<Record<string, string>> | undefined {
    const origin = req.headers.origin;
    if (origin === undefined || this.corsMethods(req.path) === undefined) return undefined;
    if (!this.#origins) return this.#corsHeaders;
    return this.#origins.has(origin) ? { ...this.#corsHeaders, 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : undefined;
  }

  /** Answers under `prefix` that no route gives are built by `encodeError` (the owner's catalogue). */
  mount(prefix: string, owner: string, encodeError: ErrorEncoder): void {
    const same = this.#mounts.find((m) => m.prefix === prefix);
    if (same) throw new RouteCollisionError(`mount ${prefix}`, same.owner, owner);
    this.#mounts = [...this.#mounts, { prefix, owner, encodeError }].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /**
   * The answer to `err` for this request's path, in the shape of the mount it falls under. A mount's
   * directory named without its trailing slash (`/console` for `/console/`) falls under it too.
   */
  error(req: HttpRequest, err: OAuthError): HttpResponse {
    const mount = this.#mounts.find((m) => req.path.startsWith(m.prefix) || (m.prefix.endsWith('/') && req.path.length === m.prefix.length - 1 && m.prefix.startsWith(req.path)));
    return (mount?.encodeError ?? this.#fallback)(err, req);
  }

  /**
   * The route's answer: the handler's own promise as it is (an `async` dispatch would wrap it in one
   * more per request), or the router's own answer at once.
   */
  dispatch(req: HttpRequest): Promise<HttpResponse> | HttpResponse {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      const preflight = this.#preflight(req);
      if (preflight) return preflight;
    }
    const entry = this.#paths.get(req.path);
    if (entry) {
      const handler = entry.methods.get(req.method) ?? (req.method === 'HEAD' && !entry.acts ? entry.methods.get('GET') : undefined);
      if (handler) return handler(req);
      const allow = [...entry.methods.keys()];
      if (allow.includes('GET') && !entry.acts) allow.push('HEAD');
      const answer = this.error(req, new OAuthError('method_not_allowed', `${entry.label} accepts only ${allow.join(', ')}.`, { reason: 'method' }));
      return { ...answer, status: 405, headers: { ...answer.headers, Allow: allow.join(', ') } };
    }
    for (const { prefix, handler } of this.#prefixes) {
      if (req.path.startsWith(prefix)) return handler(req);
    }
    return this.error(req, new OAuthError('not_found', 'No such endpoint.'));
  }

  /**
   * A CORS preflight (Fetch standard §3.2.2) at a CORS path or a public document: 204 naming the
   * methods and request headers allowed. Elsewhere undefined: the OPTIONS request is answered as
   * any other method is.
   */
  #preflight(req: HttpRequest): HttpResponse | undefined {
    if (req.headers.origin === undefined) return undefined;
    // `*` as the allowed headers means any header for a request without credentials, which is
    // every request another origin makes here (Fetch standard §3.2.3).
    if (this.#paths.get(req.path)?.document) return preflightAnswer({ ...PUBLIC_DOCUMENT, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' });
    const methods = this.corsMethods(req.path);
    if (!methods || (this.#origins && !this.#origins.has(req.headers.origin))) return undefined;
    return preflightAnswer({ 'Access-Control-Allow-Methods': methods.join(', '), 'Access-Control-Allow-Headers': CORS_REQUEST_HEADERS });
  }
}

const preflightAnswer = (headers: Readonly<Record<string, string>>): HttpResponse => ({
  status: 204,
  headers: { ...headers, 'Access-Control-Max-Age': CORS_MAX_AGE, 'Cache-Control': 'no-store' },
  body: '',
});

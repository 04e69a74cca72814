/**
 * Exact-path routes, prefix routes (admin API, console), and mounts. A mount is the directory of a
 * dialect's token path (`/v1/auth/` for Fuuffy): every answer the router or the server gives on its
 * own under it — 404, 405, 413, 503 — is built by that dialect, in its catalogue's shape. Where mounts
 * nest the longest prefix wins; paths outside every mount answer in the fallback (`oauth2`) shape.
 */
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
}

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
}

interface Mount {
  readonly prefix: string;
  readonly owner: string;
  readonly encodeError: ErrorEncoder;
}

export class Router {
  readonly #paths = new Map<string, PathEntry>();
  readonly #prefixes: Array<{ prefix: string; handler: Handler }> = [];
  /** Longest prefix first. */
  #mounts: Mount[] = [];
  readonly #fallback: ErrorEncoder;

  constructor(fallback: ErrorEncoder) {
    this.#fallback = fallback;
  }

  /** Adds a route; a path or method owned by someone else is a RouteCollisionError naming both. */
  add(route: Route): void {
    const entry = this.#paths.get(route.path) ?? { owner: route.owner, label: route.label ?? 'This endpoint', methods: new Map<string, Handler>() };
    if (entry.owner !== route.owner || entry.methods.has(route.method)) throw new RouteCollisionError(`path ${route.path}`, entry.owner, route.owner);
    entry.methods.set(route.method, route.handler);
    this.#paths.set(route.path, entry);
  }

  /** Every path under `prefix` not otherwise routed goes to `handler`, which does its own matching. */
  addPrefix(prefix: string, handler: Handler): void {
    this.#prefixes.push({ prefix, handler });
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
    const entry = this.#paths.get(req.path);
    if (entry) {
      const handler = entry.methods.get(req.method) ?? (req.method === 'HEAD' ? entry.methods.get('GET') : undefined);
      if (handler) return handler(req);
      const allow = [...entry.methods.keys()];
      if (allow.includes('GET')) allow.push('HEAD');
      const answer = this.error(req, new OAuthError('method_not_allowed', `${entry.label} accepts only ${allow.join(', ')}.`, { reason: 'method' }));
      return { ...answer, status: 405, headers: { ...answer.headers, Allow: allow.join(', ') } };
    }
    for (const { prefix, handler } of this.#prefixes) {
      if (req.path.startsWith(prefix)) return handler(req);
    }
    return this.error(req, new OAuthError('not_found', 'No such endpoint.'));
  }
}

/** Exact-path routing with per-owner 405 answers, and prefix routes for the admin API. */
import { json, type HttpRequest, type HttpResponse } from '../wire/http.ts';

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  /** Builds the 405 answer in the shape of whoever owns the path. */
  readonly methodNotAllowed?: (req: HttpRequest, allow: readonly string[]) => HttpResponse;
  /** Builds the 503 sent when the server sheds load, in the owner's shape (before the body is read). */
  readonly unavailable?: (req: HttpRequest, retryAfter: number) => HttpResponse;
  /** Name of the owner (a dialect, `core`, `admin`), for collision messages. */
  readonly owner: string;
}

export class RouteCollisionError extends Error {
  constructor(path: string, first: string, second: string) {
    super(`path ${path} is claimed by both ${first} and ${second}`);
    this.name = 'RouteCollisionError';
  }
}

interface PathEntry {
  readonly owner: string;
  readonly methods: Map<string, Handler>;
  readonly methodNotAllowed: Route['methodNotAllowed'];
  unavailable: Route['unavailable'];
}

export class Router {
  readonly #paths = new Map<string, PathEntry>();
  readonly #prefixes: Array<{ prefix: string; handler: Handler }> = [];

  /** Adds a route; a path owned by someone else is a RouteCollisionError naming both. */
  add(route: Route): void {
    const entry = this.#paths.get(route.path);
    if (entry && entry.owner !== route.owner) throw new RouteCollisionError(route.path, entry.owner, route.owner);
    if (entry?.methods.has(route.method)) throw new RouteCollisionError(route.path, entry.owner, route.owner);
    const target = entry ?? { owner: route.owner, methods: new Map(), methodNotAllowed: route.methodNotAllowed, unavailable: route.unavailable };
    target.unavailable ??= route.unavailable;
    target.methods.set(route.method, route.handler);
    this.#paths.set(route.path, target);
  }

  /** Every path under `prefix` goes to `handler`, which does its own matching. */
  addPrefix(prefix: string, handler: Handler): void {
    this.#prefixes.push({ prefix, handler });
  }

  has(path: string): boolean {
    return this.#paths.has(path);
  }

  owner(path: string): string | undefined {
    return this.#paths.get(path)?.owner;
  }

  /** The 503 for a shed request, in the shape of whoever owns the path (generic JSON otherwise). */
  unavailable(req: HttpRequest, retryAfter: number): HttpResponse {
    const own = this.#paths.get(req.path)?.unavailable?.(req, retryAfter);
    const answer = own ?? json(503, { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' }, { 'Cache-Control': 'no-store' });
    return { ...answer, status: 503, headers: { ...answer.headers, 'Retry-After': String(retryAfter) } };
  }

  async dispatch(req: HttpRequest): Promise<HttpResponse> {
    const entry = this.#paths.get(req.path);
    if (entry) {
      const handler = entry.methods.get(req.method) ?? (req.method === 'HEAD' ? entry.methods.get('GET') : undefined);
      if (handler) return handler(req);
      const allow = [...entry.methods.keys()];
      if (allow.includes('GET')) allow.push('HEAD');
      const answer = entry.methodNotAllowed?.(req, allow) ?? json(405, { error: 'method_not_allowed' });
      return { ...answer, status: 405, headers: { ...answer.headers, Allow: allow.join(', ') } };
    }
    for (const { prefix, handler } of this.#prefixes) {
      if (req.path.startsWith(prefix)) return handler(req);
    }
    return json(404, { error: 'not_found', error_description: 'No such endpoint.' });
  }
}

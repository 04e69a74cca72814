/**
 * The console's request/response layer: what a page is written against (see README.md here).
 *
 *   route('GET', '/clients/:id', 'viewer', async (req) => htmlResponse(200, clientDetailPage(ctx(req), view)))
 *
 * Before a handler runs, the mount (mount.ts) has resolved the signed-in user (else: sign-in page),
 * checked the role (a viewer on an admin route: 403), parsed the form of a POST and checked its
 * CSRF token and origin (else: 403). Handlers get all of it in `ConsoleRequest` and answer with
 * `htmlResponse`, `redirect` or `jsonResponse`; the mount adds the security headers.
 */
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import type { ConsoleRole } from '../storage/types.ts';
import type { SignedInUser } from './auth.ts';

export type ConsoleMethod = 'GET' | 'POST';

export interface ConsoleRequest {
  readonly http: HttpRequest;
  readonly method: ConsoleMethod;
  /** The path below `/console` (`/clients/sk_live_…`), percent-decoded per segment. */
  readonly path: string;
  /** Values of the `:name` segments of the route's path. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The urlencoded body of a POST (empty for GET); the CSRF field is already checked. */
  readonly form: URLSearchParams;
  readonly user: SignedInUser;
  /** The CSRF token to put in every form (pages' `csrfField(ctx)`). */
  readonly csrf: string;
  /** Epoch ms, read once for the request. */
  readonly now: number;
  /** The console serves a sandbox (the sandbox panel is linked). */
  readonly sandbox: boolean;
}

export type ConsoleHandler = (req: ConsoleRequest) => Promise<HttpResponse> | HttpResponse;

export interface ConsoleRoute {
  readonly method: ConsoleMethod;
  /** Below `/console`, `:name` segments matching one path segment: `/clients/:id/rotate`. */
  readonly path: string;
  /** The least role that may call it: `viewer` (everyone signed in) or `admin`. */
  readonly role: ConsoleRole;
  readonly handler: ConsoleHandler;
  /** When it answers at all (the sandbox panel: in sandbox mode only); absent: always. Else the path is not there (404). */
  readonly enabled?: () => boolean;
}

/** A console route. A POST route is state-changing: give it `admin` unless viewers may do it. */
export const route = (method: ConsoleMethod, path: string, role: ConsoleRole, handler: ConsoleHandler): ConsoleRoute => ({ method, path, role, handler });

/** The name of the form field that carries the CSRF token. */
export const CSRF_FIELD = 'csrf';

export const hasRole = (user: SignedInUser, role: ConsoleRole): boolean => role === 'viewer' || user.role === 'admin';

/** An HTML page answer (`Cache-Control: no-store`; the mount adds the security headers). */
export function htmlResponse(status: number, body: string | { toString(): string }, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: String(body) };
}

/** 303 See Other to a console path (`/clients`) or an absolute path: the answer to a POST that worked. */
export function redirect(location: string, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  const to = location.startsWith('/console') ? location : `/console${location.startsWith('/') ? '' : '/'}${location}`;
  return { status: 303, headers: { Location: to, 'Cache-Control': 'no-store', ...headers }, body: '' };
}

export function jsonResponse(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

/** A compiled route table: finds the route of a method and path, with its params. */
export class RouteTable {
  readonly #routes: Array<{ route: ConsoleRoute; parts: string[] }>;

  constructor(routes: readonly ConsoleRoute[]) {
    const seen = new Set<string>();
    this.#routes = routes.map((r) => {
      const key = `${r.method} ${r.path.replace(/:[^/]+/g, ':')}`;
      if (seen.has(key)) throw new Error(`console route ${r.method} ${r.path} is defined twice`);
      seen.add(key);
      return { route: r, parts: r.path.split('/').filter(Boolean) };
    });
  }

  /** The route for `method` and `path` (segments decoded); `methods` lists what the path allows when none matched. */
  match(method: string, path: string): { route: ConsoleRoute; params: Record<string, string> } | { route: undefined; methods: string[] } {
    const segments = path.split('/').filter(Boolean);
    const methods: string[] = [];
    for (const { route: r, parts } of this.#routes) {
      if (parts.length !== segments.length || (r.enabled !== undefined && !r.enabled())) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const p = parts[i]!;
        if (p.startsWith(':')) params[p.slice(1)] = segments[i]!;
        else ok = p === segments[i];
      }
      if (!ok) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { route: r, params };
      methods.push(r.method);
    }
    return { route: undefined, methods };
  }
}

/**
 * `/console/*` on the router: security headers on every answer, static assets from the package,
 * the public sign-in and link pages, and every other route behind a session, its role and, for a
 * POST, its CSRF token and origin (SECURITY CO-01..04). Nothing here runs for a request outside
 * `/console`, so the token endpoints pay nothing for it.
 */
import type { Handler, Route } from '../http/router.ts';
import type { Logger } from '../util/log.ts';
import { toOAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import { loadAssets, type Asset } from './assets.ts';
import { ConsoleAuth, type Session } from './auth.ts';
import { cookieHeader, readCookies, SESSION_COOKIE, PRE_COOKIE } from './cookies.ts';
import { CSRF_FIELD, hasRole, htmlResponse, jsonResponse, redirect, RouteTable, type ConsoleRequest, type ConsoleRoute } from './http.ts';
import { errorPage, linkPage, signInPage } from './pages/public.ts';
import { randomBase62 } from '../tokens/random.ts';

export const CONSOLE_PREFIX = '/console';

/**
 * The Content-Security-Policy of every console answer: scripts, styles, images and fetches from the
 * console's own origin only, nothing inline, no plugins, no framing, forms posting only here.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface ConsoleMountDeps {
  readonly auth: ConsoleAuth;
  readonly routes: readonly ConsoleRoute[];
  /** https issuers also get Strict-Transport-Security. */
  readonly issuer: string;
  readonly sessionTtl: number;
  readonly log: Logger;
  readonly now: () => number;
  /** Told about every console action refused for its role or CSRF token (audited). */
  readonly onRefused: (user: string, what: string) => Promise<void>;
}

/** The routes to add to the router: `/console` (redirect) and the prefix handler for `/console/…`. */
export function consoleMount(deps: ConsoleMountDeps): { route: Route; prefix: string; handler: Handler } {
  const handler = consoleHandler(deps);
  return {
    route: { method: 'GET', path: CONSOLE_PREFIX, owner: 'console', label: 'The console', handler: () => withHeaders(redirect('/console/'), deps.issuer) },
    prefix: `${CONSOLE_PREFIX}/`,
    handler,
  };
}

function consoleHandler(deps: ConsoleMountDeps): Handler {
  const table = new RouteTable(deps.routes);
  const assets = loadAssets();
  return async (req) => {
    let res: HttpResponse;
    try {
      res = await dispatch(req, deps, table, assets);
    } catch (err) {
      const mapped = toOAuthError(err);
      if (mapped.code === 'temporarily_unavailable') res = htmlResponse(503, errorPage('The console is temporarily unavailable', 'The store did not answer. Try again in a moment.'), { 'Retry-After': String(mapped.retryAfter ?? 1) });
      else {
        deps.log.error('console request failed', { err, method: req.method });
        res = htmlResponse(500, errorPage('Something went wrong', 'The console could not answer this request. The error has been logged.'));
      }
    }
    return withHeaders(res, deps.issuer);
  };
}

async function dispatch(req: HttpRequest, deps: ConsoleMountDeps, table: RouteTable, assets: ReadonlyMap<string, Asset>): Promise<HttpResponse> {
  const sub = decodePath(req.path.slice(CONSOLE_PREFIX.length));
  if (sub === undefined) return htmlResponse(400, errorPage('Bad request', 'The address is malformed.'));
  if (sub.startsWith('/assets/')) return asset(req, assets.get(sub.slice('/assets/'.length)));
  const cookies = readCookies(req);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method === 'POST' && !sameOrigin(req)) return htmlResponse(403, errorPage('Refused', 'This request did not come from the console.'));

  if (sub === '/sign-in' || sub === '/link') return publicPage(req, method, sub, cookies, deps);

  const session = await deps.auth.resolve(cookies.get(SESSION_COOKIE));
  if (sub === '/sign-out' && method === 'POST' && session) return signOut(req, session, cookies, deps);
  const found = table.match(method, sub);
  if (!session) {
    if (sub.startsWith('/api/')) return jsonResponse(401, { error: 'sign_in_required' });
    if (method === 'GET') return redirect('/sign-in');
    return htmlResponse(403, errorPage('Signed out', 'Your session has ended. Sign in again.'));
  }
  if (!found.route) {
    if (found.methods.length > 0) return { ...htmlResponse(405, errorPage('Not allowed', 'This page does not accept that method.')), headers: { Allow: found.methods.join(', '), 'Content-Type': 'text/html; charset=utf-8' } };
    return htmlResponse(404, errorPage('Not found', 'There is no such page in the console.'));
  }
  const { route, params } = found;
  const csrf = deps.auth.csrfToken(session);
  const form = method === 'POST' ? parseForm(req) : new URLSearchParams();
  if (method === 'POST') {
    if (form === undefined || !ConsoleAuth.tokensEqual(csrf, form.get(CSRF_FIELD) ?? header(req, 'x-csrf-token'))) {
      await deps.onRefused(session.user.name, `csrf ${route.path}`);
      return htmlResponse(403, errorPage('Refused', 'The form has expired or did not come from this console. Reload the page and try again.'));
    }
  }
  if (!hasRole(session.user, route.role)) {
    await deps.onRefused(session.user.name, `role ${method} ${route.path}`);
    return htmlResponse(403, errorPage('Not allowed', `This needs the ${route.role} role; you are signed in as a ${session.user.role}.`));
  }
  const request: ConsoleRequest = { http: req, method: method as 'GET' | 'POST', path: sub, params, query: new URLSearchParams(req.query), form: form ?? new URLSearchParams(), user: session.user, csrf, now: deps.now() };
  return route.handler(request);
}

async function publicPage(req: HttpRequest, method: string, sub: string, cookies: ReadonlyMap<string, string>, deps: ConsoleMountDeps): Promise<HttpResponse> {
  let pre = cookies.get(PRE_COOKIE);
  const preHeaders: Record<string, string> = {};
  if (pre === undefined || !/^[A-Za-z0-9]{32}$/.test(pre)) {
    pre = randomBase62(32);
    preHeaders['Set-Cookie'] = cookieHeader(PRE_COOKIE, pre, 3600);
  }
  const token = deps.auth.preToken(pre);
  const query = new URLSearchParams(req.query);
  if (method === 'GET') {
    if (sub === '/sign-in') return htmlResponse(200, signInPage({ csrf: token }), preHeaders);
    return htmlResponse(200, linkPage({ csrf: token, token: query.get('token') ?? '' }), preHeaders);
  }
  if (method !== 'POST') return { ...htmlResponse(405, errorPage('Not allowed', 'This page accepts GET and POST.')), headers: { Allow: 'GET, HEAD, POST', 'Content-Type': 'text/html; charset=utf-8' } };
  const form = parseForm(req);
  // A sign-in form is bound to the pre-session cookie this browser got with it (no login CSRF).
  if (form === undefined || cookies.get(PRE_COOKIE) !== pre || !ConsoleAuth.tokensEqual(token, form.get(CSRF_FIELD))) {
    return htmlResponse(403, signInPage({ csrf: token, error: 'The form has expired. Try again.' }), preHeaders);
  }
  const previous = cookies.get(SESSION_COOKIE);
  if (sub === '/link') {
    const started = await deps.auth.redeemLink(form.get('token') ?? '', previous);
    if (!started) return htmlResponse(400, errorPage('This link cannot be used', 'It is unknown, was used already, or has expired. Ask for a new one with `keymint console link`.'));
    return signedIn(started.cookie, deps.sessionTtl);
  }
  const result = await deps.auth.signIn(form.get('name') ?? '', form.get('password') ?? '', req.ip, previous);
  if (result.ok) return signedIn(result.cookie, deps.sessionTtl);
  if (result.reason === 'locked') {
    return htmlResponse(429, signInPage({ csrf: token, error: `Too many failed sign-ins. Try again in ${result.retryAfter} seconds.` }), { 'Retry-After': String(result.retryAfter) });
  }
  return htmlResponse(401, signInPage({ csrf: token, error: 'Wrong name or password.', name: form.get('name') ?? '' }));
}

/** The new session's cookie, and on to the home page. (The pre-session cookie is left to expire: it grants nothing.) */
function signedIn(cookie: string, ttl: number): HttpResponse {
  const res = redirect('/console/');
  return { ...res, headers: { ...res.headers, 'Set-Cookie': cookieHeader(SESSION_COOKIE, cookie, ttl) } };
}

async function signOut(req: HttpRequest, session: Session, cookies: ReadonlyMap<string, string>, deps: ConsoleMountDeps): Promise<HttpResponse> {
  const form = parseForm(req);
  if (form === undefined || !ConsoleAuth.tokensEqual(deps.auth.csrfToken(session), form.get(CSRF_FIELD))) {
    return htmlResponse(403, errorPage('Refused', 'The form has expired. Reload the page and try again.'));
  }
  await deps.auth.signOut(cookies.get(SESSION_COOKIE)!);
  const res = redirect('/sign-in');
  return { ...res, headers: { ...res.headers, 'Set-Cookie': cookieHeader(SESSION_COOKIE, '', 0) } };
}

function asset(req: HttpRequest, a: Asset | undefined): HttpResponse {
  if (!a) return htmlResponse(404, errorPage('Not found', 'No such file.'));
  if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Method not allowed' };
  if (req.headers['if-none-match'] === a.etag) return { status: 304, headers: { ETag: a.etag, 'Cache-Control': 'no-cache' }, body: '' };
  return { status: 200, headers: { 'Content-Type': a.type, ETag: a.etag, 'Cache-Control': 'no-cache' }, body: a.body };
}

/** The headers every console answer carries. */
function withHeaders(res: HttpResponse, issuer: string): HttpResponse {
  return {
    ...res,
    headers: {
      ...res.headers,
      'Content-Security-Policy': CONSOLE_CSP,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
      ...(issuer.startsWith('https:') ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
    },
  };
}

/**
 * A POST must come from a console page: when the browser says where it comes from (`Origin`,
 * `Sec-Fetch-Site`), that must be this host. A second wall behind the CSRF token.
 */
function sameOrigin(req: HttpRequest): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  const host = header(req, 'host');
  return URL.parse(origin)?.host === host;
}

function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The urlencoded body, or undefined for another content type. */
function parseForm(req: HttpRequest): URLSearchParams | undefined {
  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return req.body.length === 0 ? new URLSearchParams() : undefined;
  return new URLSearchParams(req.body.toString('utf8'));
}

/** The path with each segment percent-decoded; undefined when one does not decode or holds a `/`. */
function decodePath(path: string): string | undefined {
  try {
    const segments = path.split('/').map((s) => decodeURIComponent(s));
    if (segments.some((s, i) => i > 0 && (s.includes('/') || s === '..' || s === '.'))) return undefined;
    return segments.join('/') || '/';
  } catch {
    return undefined;
  }
}

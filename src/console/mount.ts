/**
 * `/console/*` on the router: security headers on every answer, static assets from the package,
 * the public sign-in and link pages, and every other route behind a session, its role and, for a
 * POST, its CSRF token and origin (SECURITY CO-01..04). Nothing here runs for a request outside
 * `/console`, so the token endpoints pay nothing for it.
 */
import type { ErrorEncoder, Handler, Route } from '../http/router.ts';
import type { Logger } from '../util/log.ts';
import { toOAuthError, type OAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import { assetResponse } from './assets/index.ts';
import { ConsoleAuth, type Session } from './auth.ts';
import { cookieHeader, readCookies, SESSION_COOKIE, PRE_COOKIE } from './cookies.ts';
import { CSRF_FIELD, hasRole, htmlResponse, jsonResponse, redirect, RouteTable, type ConsoleRequest, type ConsoleRoute } from './http.ts';
import { errorPage, setPasswordPage, signInPage, type PageContext } from './pages/index.ts';
import { passwordProblem } from './password.ts';
import { randomBase62 } from '../tokens/random.ts';

export const CONSOLE_PREFIX = '/console';

/**
 * The Content-Security-Policy of every console answer: scripts, styles, images and fetches from the
 * console's own origin only, nothing inline, no plugins, no framing, forms posting only here.
 */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface ConsoleMountDeps {
  readonly auth: ConsoleAuth;
  readonly routes: readonly ConsoleRoute[];
  /** https issuers also get Strict-Transport-Security. */
  readonly issuer: string;
  readonly sessionTtl: number;
  readonly log: Logger;
  readonly now: () => number;
  /** True once a sandbox has given the console its controls: pages link the sandbox panel. */
  readonly sandbox: () => boolean;
  /** Told about every console action refused for its role or CSRF token (audited). */
  readonly onRefused: (user: string, what: string) => Promise<void>;
}

/**
 * The routes to add to the router: `/console` (redirect) and the prefix handler for `/console/…`;
 * and the encoder of the answers the server gives on its own under the prefix (a shed 503, a 413),
 * so a browser gets an error page there, never the token endpoints' JSON.
 */
export function consoleMount(deps: ConsoleMountDeps): { route: Route; prefix: string; handler: Handler; encodeError: ErrorEncoder } {
  const handler = consoleHandler(deps);
  return {
    route: { method: 'GET', path: CONSOLE_PREFIX, owner: 'console', label: 'The console', handler: () => withHeaders(redirect('/console/'), deps.issuer) },
    prefix: `${CONSOLE_PREFIX}/`,
    handler,
    encodeError: (err) => withHeaders(serverError(err), deps.issuer),
  };
}

/** The error page of an answer the server gives before any console code runs. */
function serverError(err: OAuthError): HttpResponse {
  if (err.status === 503) return error(503, 'The console is busy. Try again in a moment.', anonymous(), { 'Retry-After': String(err.retryAfter ?? 1) });
  if (err.status === 413) return error(413, 'The form is too large to be accepted.');
  return error(err.status, err.status === 404 ? 'There is no such page in the console.' : 'The console could not answer this request.');
}

/** The page context of an answer given before or outside a route (errors, sign-in). */
const anonymous = (csrf = ''): PageContext => ({ user: null, csrf, sandbox: false });
const error = (status: number, message: string, ctx: PageContext = anonymous(), headers: Record<string, string> = {}): HttpResponse =>
  htmlResponse(status, errorPage(ctx, status, message), headers);

function consoleHandler(deps: ConsoleMountDeps): Handler {
  const table = new RouteTable(deps.routes);
  return async (req) => {
    let res: HttpResponse;
    try {
      res = await dispatch(req, deps, table);
    } catch (err) {
      const mapped = toOAuthError(err);
      if (mapped.code === 'temporarily_unavailable') res = error(503, 'The store did not answer. Try again in a moment.', anonymous(), { 'Retry-After': String(mapped.retryAfter ?? 1) });
      else {
        deps.log.error('console request failed', { err, method: req.method });
        res = error(500, 'The console could not answer this request. The error has been logged.');
      }
    }
    return withHeaders(res, deps.issuer);
  };
}

async function dispatch(req: HttpRequest, deps: ConsoleMountDeps, table: RouteTable): Promise<HttpResponse> {
  const sub = decodePath(req.path.slice(CONSOLE_PREFIX.length));
  if (sub === undefined) return error(400, 'The address is malformed.');
  if (sub.startsWith('/assets/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return { ...error(405, 'Files are only read.'), headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/html; charset=utf-8' } };
    return assetResponse(req.path, req.query) ?? error(404, 'There is no such file.');
  }
  const cookies = readCookies(req);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method === 'POST' && !sameOrigin(req)) return error(403, 'This request did not come from the console.');

  if (sub === '/sign-in' || sub === '/link') return publicPage(req, method, sub, cookies, deps);

  const session = await deps.auth.resolve(cookies.get(SESSION_COOKIE));
  if (sub === '/sign-out' && method === 'POST' && session) return signOut(req, session, cookies, deps);
  const found = table.match(method, sub);
  if (!session) {
    if (sub.startsWith('/api/')) return jsonResponse(401, { error: 'sign_in_required' });
    if (method === 'GET') return redirect('/sign-in');
    return error(403, 'Your session has ended. Sign in again.');
  }
  const csrf = deps.auth.csrfToken(session);
  const sandbox = deps.sandbox();
  const ctx: PageContext = { user: session.user, csrf, sandbox };
  if (!found.route) {
    if (found.methods.length > 0) return { ...error(405, 'This page does not accept that method.', ctx), headers: { Allow: found.methods.join(', '), 'Content-Type': 'text/html; charset=utf-8' } };
    return error(404, 'There is no such page in the console.', ctx);
  }
  const { route, params } = found;
  const form = method === 'POST' ? parseForm(req) : new URLSearchParams();
  if (method === 'POST') {
    if (form === undefined || !ConsoleAuth.tokensEqual(csrf, form.get(CSRF_FIELD) ?? header(req, 'x-csrf-token'))) {
      await deps.onRefused(session.user.name, `csrf ${route.path}`);
      return error(403, 'The form has expired or did not come from this console. Reload the page and try again.', ctx);
    }
  }
  if (!hasRole(session.user, route.role)) {
    await deps.onRefused(session.user.name, `role ${method} ${route.path}`);
    return error(403, `This needs the ${route.role} role; you are signed in as a ${session.user.role}.`, ctx);
  }
  const request: ConsoleRequest = { http: req, method: method as 'GET' | 'POST', path: sub, params, query: new URLSearchParams(req.query), form: form ?? new URLSearchParams(), user: session.user, csrf, now: deps.now(), sandbox };
  return route.handler(request);
}

async function publicPage(req: HttpRequest, method: string, sub: string, cookies: ReadonlyMap<string, string>, deps: ConsoleMountDeps): Promise<HttpResponse> {
  let pre = cookies.get(PRE_COOKIE);
  const preHeaders: Record<string, string> = {};
  if (pre === undefined || !/^[A-Za-z0-9]{32}$/.test(pre)) {
    pre = randomBase62(32);
    preHeaders['Set-Cookie'] = cookieHeader(PRE_COOKIE, pre, 3600);
  }
  const ctx = anonymous(deps.auth.preToken(pre));
  const query = new URLSearchParams(req.query);
  const linkForm = (token: string, errors?: Record<string, string>) => setPasswordPage(ctx, { action: '/console/link', fields: { token }, ...(errors ? { errors } : {}) });
  if (method === 'GET') {
    if (sub === '/sign-in') return htmlResponse(200, signInPage(ctx), preHeaders);
    return htmlResponse(200, linkForm(query.get('token') ?? ''), preHeaders);
  }
  if (method !== 'POST') return { ...error(405, 'This page accepts GET and POST.'), headers: { Allow: 'GET, HEAD, POST', 'Content-Type': 'text/html; charset=utf-8' } };
  const form = parseForm(req);
  // A sign-in form is bound to the pre-session cookie this browser got with it (no login CSRF).
  if (form === undefined || cookies.get(PRE_COOKIE) !== pre || !ConsoleAuth.tokensEqual(ctx.csrf, form.get(CSRF_FIELD))) {
    return htmlResponse(403, signInPage(ctx, { error: 'The form has expired. Try again.' }), preHeaders);
  }
  const previous = cookies.get(SESSION_COOKIE);
  if (sub === '/link') {
    const token = form.get('token') ?? '';
    const password = form.get('password') ?? '';
    const problem = passwordProblem(password);
    if (problem) return htmlResponse(400, linkForm(token, { password: problem }));
    if (form.get('confirm') !== password) return htmlResponse(400, linkForm(token, { confirm: 'The two passwords differ.' }));
    const started = await deps.auth.redeemLink(token, password, previous);
    if (!started) return error(400, 'This link cannot be used: it is unknown, was used already, or has expired. Ask an operator for a new one (keymint console link).');
    return signedIn(started.cookie, deps.sessionTtl);
  }
  const username = form.get('username') ?? '';
  const result = await deps.auth.signIn(username, form.get('password') ?? '', req.ip, previous);
  if (result.ok) return signedIn(result.cookie, deps.sessionTtl);
  if (result.reason === 'locked') {
    return htmlResponse(429, signInPage(ctx, { error: `Too many failed sign-ins. Try again in ${result.retryAfter} seconds.` }), { 'Retry-After': String(result.retryAfter) });
  }
  return htmlResponse(401, signInPage(ctx, { error: 'Wrong username or password.', username }));
}

/** The new session's cookie, and on to the home page. (The pre-session cookie is left to expire: it grants nothing.) */
function signedIn(cookie: string, ttl: number): HttpResponse {
  const res = redirect('/console/');
  return { ...res, headers: { ...res.headers, 'Set-Cookie': cookieHeader(SESSION_COOKIE, cookie, ttl) } };
}

async function signOut(req: HttpRequest, session: Session, cookies: ReadonlyMap<string, string>, deps: ConsoleMountDeps): Promise<HttpResponse> {
  const form = parseForm(req);
  if (form === undefined || !ConsoleAuth.tokensEqual(deps.auth.csrfToken(session), form.get(CSRF_FIELD))) {
    return error(403, 'The form has expired. Reload the page and try again.', { user: session.user, csrf: deps.auth.csrfToken(session), sandbox: deps.sandbox() });
  }
  await deps.auth.signOut(cookies.get(SESSION_COOKIE)!);
  const res = redirect('/sign-in');
  return { ...res, headers: { ...res.headers, 'Set-Cookie': cookieHeader(SESSION_COOKIE, '', 0) } };
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
 * A POST must come from a console page: when the browser says where it comes from, that must be this
 * host. A second wall behind the CSRF token. `Sec-Fetch-Site` decides where the browser sends it;
 * else `Origin`, unless it is `null`, which is what browsers send from a page whose referrer policy
 * is `no-referrer` (the console's own pages).
 */
function sameOrigin(req: HttpRequest): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = header(req, 'origin');
  if (origin === undefined || origin === 'null') return true;
  return URL.parse(origin)?.host === header(req, 'host');
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

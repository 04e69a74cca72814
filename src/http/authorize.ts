/**
 * The authorization endpoint — RFC 6749 §4.1.1–4.1.2 — for the dialects that include it. GET
 * validates the request; without a session it sends the browser to the platform's login page with a
 * return address; with one it shows the consent page (a `trusted` client skips it, and so does a
 * request within what the user approved before: protocol/consent.ts) and the POST from that page
 * (CSRF-protected, bound to the session and the request) records the approval and redirects back
 * with a 60 s code.
 * Errors go to the client's redirect URI (§4.1.2.1), or to an error page when the client or the
 * redirect URI is itself invalid.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { SessionService } from '../credentials/sessions.ts';
import { consented, rememberConsent } from '../protocol/consent.ts';
import { issueCode, validateAuthorization, type AuthorizationRequest, type ClientLookup, type CodeDeps, type RedirectError } from '../protocol/authorize.ts';
import type { AudienceSettings } from '../protocol/audience.ts';
import type { SessionRecord, Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { Logger } from '../util/log.ts';
import { consentPage, errorPage } from './consent-page.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import type { Route } from './router.ts';

export interface AuthorizeDeps extends CodeDeps {
  readonly store: Pick<Store, 'codes' | 'consents' | 'audit'>;
  readonly findClient: ClientLookup;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly sessions: Pick<SessionService, 'resolve'>;
  readonly settings: AudienceSettings & { readonly issuer: string; readonly loginUrl: string | undefined; readonly sessionCookie: string };
  readonly now: () => number;
}

const REQUEST_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'resource', 'prompt', 'max_age'] as const;

export const HTML_HEADERS = {
  'Content-Type': 'text/html;charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const;

export const html = (status: number, body: string): HttpResponse => ({ status, headers: HTML_HEADERS, body });
export const redirect = (location: string): HttpResponse => ({ status: 302, headers: { Location: location, 'Cache-Control': 'no-store', Pragma: 'no-cache' }, body: '' });

export function authorizeRoutes(owner: string, path: string, deps: AuthorizeDeps, log: Logger): Route[] {
  const guarded = (fn: (req: HttpRequest) => Promise<HttpResponse>) => async (req: HttpRequest) => {
    try {
      return await fn(req);
    } catch (err) {
      log.error('authorization request failed', { err, path: req.path });
      return html(500, errorPage('Something went wrong. Please try again.'));
    }
  };
  return [
    { method: 'GET', path, owner, handler: guarded((req) => authorizeGet(req, path, deps)) },
    { method: 'POST', path, owner, handler: guarded((req) => authorizePost(req, path, deps)) },
  ];
}

/** Parameters once each; the first duplicated name, if any (RFC 6749 §3.1). */
function readParams(text: string): { params: Record<string, string>; duplicate: string | undefined } {
  const params = Object.create(null) as Record<string, string>;
  let duplicate: string | undefined;
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in params) duplicate ??= k;
    else if (v !== '') params[k] = v;
  }
  return { params, duplicate };
}

async function authorizeGet(req: HttpRequest, path: string, deps: AuthorizeDeps): Promise<HttpResponse> {
  const { params, duplicate } = readParams(req.query);
  const v = await validateAuthorization(params, duplicate, deps);
  if (v.kind === 'page') return html(400, errorPage(v.description));
  if (v.kind === 'redirect') return redirectError(v, deps);
  const { prompt, maxAge } = v.request;
  const session = await currentSession(req, deps);
  // OIDC Core §3.1.2.1: `prompt=login` (or `select_account`) and a sign-in older than `max_age` ask for
  // a new sign-in, as no session does; `prompt=none` asks for no page at all, so it gets the error.
  const signInAgain = session !== undefined && ([...prompt].some(asksSignIn) || (maxAge !== undefined && ageSeconds(session, deps.now()) > maxAge));
  if (!session || signInAgain) {
    if (prompt.has('none') || deps.settings.loginUrl === undefined) {
      return redirectError(errorOf(v.request, 'login_required', session ? 'The user must sign in again.' : 'The user is not logged in.'), deps);
    }
    const login = new URL(deps.settings.loginUrl);
    // Back here once signed in, without what asked for the sign-in: the new session answers it (the
    // client checks auth_time against its max_age), and asking again would send the user round forever.
    login.searchParams.set('return_to', `${deps.settings.issuer}${path}?${signInAgain ? withoutSignInDemand(params) : req.query}`);
    if (signInAgain) login.searchParams.set('prompt', 'login');
    return redirect(login.href);
  }
  if (v.request.client.trusted && !prompt.has('consent')) return approve(v.request, session, deps);
  // Remembered consent: asked for nothing beyond what the user approved, the page is not shown again.
  if (!prompt.has('consent') && (await consented(v.request, session, deps))) return approve(v.request, session, deps);
  if (prompt.has('none')) return redirectError(errorOf(v.request, 'consent_required', 'The user has not approved this application.'), deps);
  const fields: Record<string, string> = {};
  for (const f of REQUEST_FIELDS) if (params[f] !== undefined) fields[f] = params[f];
  fields.csrf_token = csrfToken(deps.keyring.pepper().key, session, fields);
  return html(200, consentPage({
    action: `${new URL(deps.settings.issuer).pathname.replace(/\/$/, '')}${path}`,
    clientName: v.request.client.name,
    scopes: v.request.scopes,
    redirectOrigin: destination(v.request.redirectUri),
    fields,
  }));
}

/** Whole seconds since the session's sign-in, as the ID token's `auth_time` counts them. */
const ageSeconds = (session: SessionRecord, now: number): number => Math.floor(now / 1000) - Math.floor(session.createdAt / 1000);

/** The `prompt` values that ask for a new sign-in (there is no account chooser but the login page). */
const asksSignIn = (p: string): boolean => p === 'login' || p === 'select_account';

/** The request's query without `max_age` and the `prompt` values that ask for a sign-in. */
function withoutSignInDemand(params: Readonly<Record<string, string>>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (name === 'max_age') continue;
    if (name !== 'prompt') query.set(name, value);
    else {
      const rest = value.split(' ').filter((p) => !asksSignIn(p));
      if (rest.length > 0) query.set(name, rest.join(' '));
    }
  }
  return query.toString();
}

/**
 * Where the user is sent back, as the consent page says it: the origin of a web or loopback
 * redirect URI; for a native app's private-use scheme (RFC 8252 section 7.1), whose URL has no
 * origin (`null`), the scheme, which names the app.
 */
function destination(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.origin === 'null' ? url.protocol : url.origin;
}

async function authorizePost(req: HttpRequest, _path: string, deps: AuthorizeDeps): Promise<HttpResponse> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return html(400, errorPage('The form could not be read.'));
  const { params, duplicate } = readParams(req.body.toString('utf8'));
  const v = await validateAuthorization(params, duplicate, deps);
  if (v.kind === 'page') return html(400, errorPage(v.description));
  if (v.kind === 'redirect') return redirectError(v, deps);
  const session = await currentSession(req, deps);
  const fields: Record<string, string> = {};
  for (const f of REQUEST_FIELDS) if (params[f] !== undefined) fields[f] = params[f];
  // CSRF: the token is an HMAC over the session id and the request, checked under every live pepper.
  const presented = params.csrf_token ?? '';
  const valid = session !== undefined && deps.keyring.peppers().some((p) => safeEqual(presented, csrfToken(p.key, session, fields)));
  if (!session || !valid) return html(403, errorPage('This consent form has expired. Please start again from the application.'));
  if (params.decision === 'approve') {
    await rememberConsent(v.request, session, deps.now(), deps);
    return approve(v.request, session, deps);
  }
  return redirectError(errorOf(v.request, 'access_denied', 'The user denied the request.'), deps);
}

async function approve(request: AuthorizationRequest, session: SessionRecord, deps: AuthorizeDeps): Promise<HttpResponse> {
  const code = await issueCode(request, session, deps.now(), deps);
  const url = new URL(request.redirectUri);
  url.searchParams.set('code', code);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  url.searchParams.set('iss', deps.settings.issuer); // RFC 9207
  return redirect(url.href);
}

const errorOf = (r: AuthorizationRequest, error: RedirectError['error'], description: string): RedirectError => ({
  kind: 'redirect', redirectUri: r.redirectUri, state: r.state, error, description,
});

function redirectError(e: RedirectError, deps: AuthorizeDeps): HttpResponse {
  const url = new URL(e.redirectUri);
  url.searchParams.set('error', e.error);
  url.searchParams.set('error_description', e.description);
  if (e.state !== undefined) url.searchParams.set('state', e.state);
  url.searchParams.set('iss', deps.settings.issuer);
  return redirect(url.href);
}

/** The live session the request's platform session cookie names, if any. */
export async function currentSession(req: HttpRequest, deps: { readonly sessions: Pick<SessionService, 'resolve'>; readonly settings: { readonly sessionCookie: string } }): Promise<SessionRecord | undefined> {
  const header = req.headersDistinct.cookie?.join('; ') ?? '';
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === deps.settings.sessionCookie) {
      const session = await deps.sessions.resolve(part.slice(eq + 1).trim());
      if (session) return session;
    }
  }
  return undefined;
}

function csrfToken(key: KeyObject, session: SessionRecord, fields: Record<string, string>): string {
  const mac = createHmac('sha256', key).update(`keymint-consent\0${session.id}`);
  for (const f of REQUEST_FIELDS) mac.update(`\0${f}=${fields[f] ?? ''}`);
  return mac.digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The authorization endpoint — RFC 6749 §4.1.1–4.1.2 — for the dialects that include it. GET
 * validates the request; without a session it sends the browser to the platform's login page with a
 * return address; with one it shows the consent page (a `trusted` client skips it, and so does a
 * request within what the user approved before: protocol/consent.ts) and the POST from that page
 * (CSRF-protected, bound to the session and the request) records the approval and redirects back
 * with a 60 s code.
 * Errors go to the client's redirect URI (§4.1.2.1), or to an error page when the client or the
 * redirect URI is itself invalid. A request with `response_mode` query.jwt or jwt (JARM) gets its
 * code or error back as one signed JWT, the `response` parameter (protocol/jarm.ts).
 */
import type { SessionService } from '../credentials/sessions.ts';
import { consented, rememberConsent } from '../protocol/consent.ts';
import { issueCode, validateAuthorization, type AuthorizationRequest, type ClientLookup, type CodeDeps, type RedirectError, type Validated } from '../protocol/authorize.ts';
import { readResponseMode, signAuthorizationResponse, type JwtResponse } from '../protocol/jarm.ts';
import { consumePushed, PUSHED_PARAMETERS, REQUEST_URI_PREFIX, resolvePushed } from '../protocol/par.ts';
import { verifyRequestObject, type RequestObjectDeps } from '../protocol/request-object.ts';
import type { AudienceSettings } from '../protocol/audience.ts';
import type { SigningAlg } from '../config/types.ts';
import type { ClientRecord, PushedRequestRecord, SessionRecord, Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { Logger } from '../util/log.ts';
import { consentPage, errorPage } from './consent-page.ts';
import { formToken, formTokenValid } from './csrf.ts';
import type { Maybe } from '../util/maybe.ts';
import { OAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import type { Route } from './router.ts';

export interface AuthorizeDeps extends CodeDeps {
  readonly store: Pick<Store, 'codes' | 'consents' | 'audit' | 'pushedRequests'>;
  readonly findClient: ClientLookup;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers' | 'signer'>;
  readonly sessions: Pick<SessionService, 'resolve'>;
  readonly settings: AudienceSettings & { readonly issuer: string; readonly loginUrl: string | undefined; readonly sessionCookie: string; readonly requirePar: boolean; readonly alg: SigningAlg };
  /** The `polar` mount's: its token endpoint reads no DPoP proofs (validateAuthorization). */
  readonly ignoresDpopJkt?: boolean;
  /** The `polar` mount's: its contract has no JWT responses (validateAuthorization). */
  readonly ignoresResponseMode?: boolean;
  readonly requestObjects: RequestObjectDeps;
  readonly now: () => number;
}

const REQUEST_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'resource', 'prompt', 'max_age', 'dpop_jkt', 'response_mode'] as const;
/** What the consent form of a pushed request carries (RFC 9126 §4): the pushed parameters stay in the store. */
const PUSHED_FIELDS = ['client_id', 'request_uri'] as const;
/** What the consent form of a request object carries (RFC 9101 §6.3): the object itself, verified again. */
const SIGNED_FIELDS = ['client_id', 'request'] as const;
/** Every field the CSRF token binds: a form is of one kind, the fields it lacks bound as empty. */
const CSRF_FIELDS = [...REQUEST_FIELDS, 'request_uri', 'request'] as const;
const CSRF_PURPOSE = 'keymint-consent';

/** How the request came: its parameters in the query, pushed (a request_uri), or in a request object. */
type Form = 'plain' | 'pushed' | 'signed';

export const HTML_HEADERS = {
  'Content-Type': 'text/html;charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const;

export const html = (status: number, body: string): HttpResponse => ({ status, headers: HTML_HEADERS, body });
export const redirect = (location: string): HttpResponse => ({ status: 302, headers: { Location: location, 'Cache-Control': 'no-store', Pragma: 'no-cache' }, body: '' });

/**
 * A browser page's handler whose failure (a store that does not answer) is logged as `what` and
 * answered with an error page of `status` saying `text`, never a stack trace.
 */
export const guardedPage = (log: Logger, what: string, status: number, text: string) => (fn: (req: HttpRequest) => Promise<HttpResponse>) => async (req: HttpRequest): Promise<HttpResponse> => {
  try {
    return await fn(req);
  } catch (err) {
    log.error(what, { err, path: req.path });
    return html(status, errorPage(text));
  }
};

/**
 * A browser page behind the per-address bucket the token endpoint takes first (`--rate-limit-ip`,
 * one budget per address for both): the pages anyone can call without credentials (authorization,
 * end-session, device verification) each read the store, and a script can call them as fast as it
 * likes. Over the limit: a 429 page with Retry-After, before anything is read or stored (PAGE-01).
 */
export const limitedPage =
  (admit: ((req: HttpRequest) => Maybe<void>) | undefined) =>
  (route: Route): Route =>
    admit === undefined
      ? route
      : {
          ...route,
          handler: async (req) => {
            try {
              await admit(req);
            } catch (err) {
              if (!(err instanceof OAuthError && err.code === 'rate_limited')) throw err;
              const headers = { ...HTML_HEADERS, 'Retry-After': String(err.retryAfter ?? 1) };
              return { status: 429, headers, body: errorPage('Too many requests from your network. Please wait a moment and try again.') };
            }
            return route.handler(req);
          },
        };

export function authorizeRoutes(owner: string, path: string, deps: AuthorizeDeps, log: Logger): Route[] {
  const guarded = guardedPage(log, 'authorization request failed', 500, 'Something went wrong. Please try again.');
  return [
    // A GET may issue a code (a trusted client, remembered consent): HEAD is not a way to get one.
    { method: 'GET', path, owner, acts: true, handler: guarded((req) => authorizeGet(req, path, deps)) },
    { method: 'POST', path, owner, handler: guarded((req) => authorizePost(req, path, deps)) },
  ];
}

/** Parameters once each; the first duplicated name, if any (RFC 6749 §3.1). */
export function readParams(text: string): { params: Record<string, string>; duplicate: string | undefined } {
  const params = Object.create(null) as Record<string, string>;
  let duplicate: string | undefined;
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in params) duplicate ??= k;
    else if (v !== '') params[k] = v;
  }
  return { params, duplicate };
}

/** What the authorization endpoint answers: the validated request, and how it came. */
interface Resolved {
  readonly v: Validated;
  readonly form: Form;
  readonly pushed?: PushedRequestRecord;
  /** When the request was made, for a sign-in it asks for (ms): a push's time, a request object's iat or nbf. */
  readonly madeAt?: number;
}

/**
 * The request to answer: the query's; with a `request`, the parameters of that request object
 * (RFC 9101 §6.3), verified; or (RFC 9126 §4) with a `request_uri` the parameters its client pushed.
 * Either way only those: anything else in the query but `client_id` is ignored. A `request_uri`
 * that is unknown, another client's, expired or used is refused with `invalid_request_uri` (RFC
 * 9101 §6.2): at the pushed redirect URI when the request is this client's, else on the error
 * page; one that is no PAR URN (a request object by reference) with `request_uri_not_supported`.
 * `decision`: the user's decision on a consent page shown for it.
 */
async function requestOf(params: Readonly<Record<string, string>>, duplicate: string | undefined, decision: boolean, deps: AuthorizeDeps): Promise<Resolved> {
  if (params.request !== undefined || duplicate === 'request') return signedRequest(params, duplicate, deps);
  if (params.request_uri === undefined) return { v: await validateAuthorization(params, duplicate, deps), form: 'plain' };
  if (!params.request_uri.startsWith(REQUEST_URI_PREFIX) && duplicate !== 'request_uri') {
    return { v: await outerError(params, duplicate, 'request_uri_not_supported', 'Only a request_uri from the pushed authorization request endpoint is supported.', deps), form: 'plain' };
  }
  const clientId = params.client_id;
  if (clientId === undefined || clientId.length > 512 || duplicate === 'client_id' || duplicate === 'request_uri') {
    return { v: { kind: 'page', description: 'The application is unknown, or the request_uri is missing or repeated.' }, form: 'pushed' };
  }
  const found = await resolvePushed(params.request_uri, clientId, deps.now(), decision, deps);
  // The client may have changed since the push (disabled, a redirect URI removed): validated again.
  const v = found.record ? await validateAuthorization({ ...found.record.params, client_id: clientId }, undefined, deps, { pushed: true }) : undefined;
  if (found.kind === 'ok' && v) return { v, form: 'pushed', pushed: found.record, madeAt: found.record.issuedAt };
  if (v?.kind === 'ok') return { v: errorOf(v.request, 'invalid_request_uri', 'The request_uri has expired or has already been used.'), form: 'pushed' };
  return { v: { kind: 'page', description: 'The request_uri is unknown, has expired, or belongs to another application. Please start again from the application.' }, form: 'pushed' };
}

/**
 * RFC 9101 §5–6: a request object sent by value. Its `jti` is not used up here: the browser may
 * bring the same URL again (a reload, the way back from the login page), within its `exp`. A
 * refusal goes to the object's `redirect_uri` once its signature verified (the client said it),
 * else to a registered redirect URI of the query, else to the error page.
 */
async function signedRequest(params: Readonly<Record<string, string>>, duplicate: string | undefined, deps: AuthorizeDeps): Promise<Resolved> {
  const clientId = params.client_id;
  const client = clientId === undefined || clientId.length > 512 || duplicate === 'client_id' ? undefined : await deps.findClient(clientId);
  if (!client || client.status !== 'active') return { v: { kind: 'page', description: 'The application is unknown or disabled.' }, form: 'signed' };
  // RFC 9101 §5: a request object goes by value or by reference, not both.
  if (duplicate === 'request' || params.request_uri !== undefined) {
    return { v: await outerError(params, duplicate, 'invalid_request', 'Send one request object, by value (request) or as a pushed request_uri, not both.', deps), form: 'signed' };
  }
  const object = await verifyRequestObject(params.request!, client, { names: PUSHED_PARAMETERS, oneTime: false, now: deps.now() }, deps.requestObjects);
  if (!object.ok) {
    const { redirectUri, state, responseMode } = object.signed ?? {};
    if (redirectUri !== undefined && client.redirectUris.includes(redirectUri)) {
      return { v: { kind: 'redirect', redirectUri, state, error: 'invalid_request_object', description: object.description, ...jwtResponseOf(responseMode, client, deps) }, form: 'signed' };
    }
    return { v: await outerError(params, duplicate, 'invalid_request_object', object.description, deps), form: 'signed' };
  }
  const v = await validateAuthorization({ ...object.params, client_id: client.id }, undefined, deps, { signed: true });
  return { v, form: 'signed', ...(object.issuedAt === undefined ? {} : { madeAt: object.issuedAt }) };
}

/**
 * An error about the request's form, before any parameter can be trusted: at the query's
 * `redirect_uri` when it is registered for the (active) client, as RFC 6749 §4.1.2.1 allows for
 * any request, with the query's `state`; else the error page.
 */
async function outerError(params: Readonly<Record<string, string>>, duplicate: string | undefined, error: RedirectError['error'], description: string, deps: AuthorizeDeps): Promise<Validated> {
  const clientId = params.client_id;
  const client = clientId === undefined || clientId.length > 512 || duplicate === 'client_id' ? undefined : await deps.findClient(clientId);
  const redirectUri = params.redirect_uri;
  if (!client || client.status !== 'active' || redirectUri === undefined || duplicate === 'redirect_uri' || !client.redirectUris.includes(redirectUri)) return { kind: 'page', description };
  const mode = duplicate === 'response_mode' ? undefined : jwtResponseOf(params.response_mode, client, deps);
  return { kind: 'redirect', redirectUri, state: duplicate === 'state' ? undefined : params.state, error, description, ...mode };
}

/**
 * The response mode of a request refused before its parameters are read (outerError, a request
 * object that does not verify), as a RedirectError carries it: a JWT mode the client can be
 * answered in, else the query. The polar mount reads none (JARM-06).
 */
function jwtResponseOf(value: string | undefined, client: ClientRecord, deps: AuthorizeDeps): { jwtResponse?: JwtResponse } {
  if (deps.ignoresResponseMode === true) return {};
  const read = readResponseMode(value, client, deps.settings.alg);
  return read.ok && read.jwt ? { jwtResponse: read.jwt } : {};
}

async function authorizeGet(req: HttpRequest, path: string, deps: AuthorizeDeps): Promise<HttpResponse> {
  const { params, duplicate } = readParams(req.query);
  const { v, form, pushed, madeAt } = await requestOf(params, duplicate, false, deps);
  if (v.kind === 'page') return html(400, errorPage(v.description));
  if (v.kind === 'redirect') return redirectError(v, deps);
  const { prompt, maxAge } = v.request;
  const session = await currentSession(req, deps);
  // OIDC Core §3.1.2.1: `prompt=login` (or `select_account`) and a sign-in older than `max_age` ask for
  // a new sign-in, as no session does; `prompt=none` asks for no page at all, so it gets the error.
  // A pushed request or a request object cannot be sent back without them: a sign-in since the request
  // was made (the push; the object's iat or nbf) answers `prompt=login`.
  const signedInSince = madeAt !== undefined && session !== undefined && session.createdAt >= madeAt;
  const signInAgain = session !== undefined && (([...prompt].some(asksSignIn) && !signedInSince) || (maxAge !== undefined && ageSeconds(session, deps.now()) > maxAge));
  if (!session || signInAgain) {
    if (prompt.has('none') || deps.settings.loginUrl === undefined) {
      return redirectError(errorOf(v.request, 'login_required', session ? 'The user must sign in again.' : 'The user is not logged in.'), deps, pushed);
    }
    const login = new URL(deps.settings.loginUrl);
    // Back here once signed in, without what asked for the sign-in: the new session answers it (the
    // client checks auth_time against its max_age), and asking again would send the user round forever.
    const back = form !== 'plain' ? new URLSearchParams(formFields(params, form)).toString() : signInAgain ? withoutSignInDemand(params) : req.query;
    login.searchParams.set('return_to', `${deps.settings.issuer}${path}?${back}`);
    if (signInAgain) login.searchParams.set('prompt', 'login');
    return redirect(login.href);
  }
  if (v.request.client.trusted && !prompt.has('consent')) return approve(v.request, session, deps, pushed);
  // Remembered consent: asked for nothing beyond what the user approved, the page is not shown again.
  if (!prompt.has('consent') && (await consented(v.request, session, deps))) return approve(v.request, session, deps, pushed);
  if (prompt.has('none')) return redirectError(errorOf(v.request, 'consent_required', 'The user has not approved this application.'), deps, pushed);
  // Showing the page does not use a pushed request: the user may reload it; the decision uses it.
  const fields = formFields(params, form);
  fields.csrf_token = formToken(deps.keyring.pepper().key, CSRF_PURPOSE, session.id, CSRF_FIELDS, fields);
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

/**
 * A form post: the consent page's answer (it carries `decision` and `csrf_token`), or an app's
 * authorization request sent as a form (OIDC Core §3.1.2.1: GET and POST; mod_auth_openidc's
 * `OIDCProviderAuthRequestMethod POST`). The latter is checked as a GET is (a bad one: the error
 * page, or the error at the redirect URI) and sent on to GET with the same parameters (303, SES-02):
 * a cross-site POST carries no `SameSite=Lax` session cookie, a top-level GET does.
 */
async function authorizePost(req: HttpRequest, path: string, deps: AuthorizeDeps): Promise<HttpResponse> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return html(400, errorPage('The form could not be read.'));
  const body = req.body.toString('utf8');
  const { params, duplicate } = readParams(body);
  const request = params.decision === undefined && params.csrf_token === undefined;
  const { v, form, pushed } = await requestOf(params, duplicate, !request, deps);
  if (v.kind === 'page') return html(400, errorPage(v.description));
  if (v.kind === 'redirect') return redirectError(v, deps);
  // Re-encoded, duplicates and all: the GET reads what the form said, and nothing raw reaches the header.
  if (request) return { ...redirect(`${deps.settings.issuer}${path}?${new URLSearchParams(body)}`), status: 303 };
  const session = await currentSession(req, deps);
  const fields = formFields(params, form);
  // CSRF: the token is an HMAC over the session id and the request, checked under every live pepper.
  const presented = params.csrf_token ?? '';
  const valid = session !== undefined && formTokenValid(deps.keyring, presented, CSRF_PURPOSE, session.id, CSRF_FIELDS, fields);
  if (!session || !valid) return html(403, errorPage('This consent form has expired. Please start again from the application.'));
  if (params.decision === 'approve') {
    // A pushed request is used by the first decision on it: a second post of the form gets no code.
    if (pushed && !(await consumePushed(pushed, deps.now(), deps))) return redirectError(errorOf(v.request, 'invalid_request_uri', 'The request_uri has expired or has already been used.'), deps);
    await rememberConsent(v.request, session, deps.now(), deps);
    return approve(v.request, session, deps);
  }
  return redirectError(errorOf(v.request, 'access_denied', 'The user denied the request.'), deps, pushed);
}

/** The request's fields a consent form carries and its CSRF token binds: a pushed request's client_id and request_uri, a request object's client_id and request. */
function formFields(params: Readonly<Record<string, string>>, form: Form): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const f of form === 'pushed' ? PUSHED_FIELDS : form === 'signed' ? SIGNED_FIELDS : REQUEST_FIELDS) if (params[f] !== undefined) fields[f] = params[f];
  return fields;
}

/** Issues the code and redirects; a pushed request is used first, by one atomic write that exactly one caller wins (PAR-03). */
async function approve(request: AuthorizationRequest, session: SessionRecord, deps: AuthorizeDeps, pushed?: PushedRequestRecord): Promise<HttpResponse> {
  if (pushed && !(await consumePushed(pushed, deps.now(), deps))) return redirectError(errorOf(request, 'invalid_request_uri', 'The request_uri has expired or has already been used.'), deps);
  const code = await issueCode(request, session, deps.now(), deps);
  return respond(request.redirectUri, { code, ...(request.state === undefined ? {} : { state: request.state }) }, request.jwtResponse, deps);
}

const errorOf = (r: AuthorizationRequest, error: RedirectError['error'], description: string): RedirectError => ({
  kind: 'redirect', redirectUri: r.redirectUri, state: r.state, error, description, ...(r.jwtResponse ? { jwtResponse: r.jwtResponse } : {}),
});

/** The error at the client's redirect URI; an answer to a pushed request uses it up (RFC 9126 §4: one-time use). */
async function redirectError(e: RedirectError, deps: AuthorizeDeps, pushed?: PushedRequestRecord): Promise<HttpResponse> {
  if (pushed) await consumePushed(pushed, deps.now(), deps);
  const params = { error: e.error, error_description: e.description, ...(e.state === undefined ? {} : { state: e.state }) };
  return respond(e.redirectUri, params, e.jwtResponse, deps);
}

/**
 * The authorization response at the redirect URI: its parameters in the query with RFC 9207's `iss`
 * or, in JARM's query.jwt mode, the one `response` parameter, a JWT of them with `iss`, `aud`, `exp`.
 */
function respond(redirectUri: string, params: Readonly<Record<string, string>>, jwt: JwtResponse | undefined, deps: AuthorizeDeps): HttpResponse {
  const url = new URL(redirectUri);
  if (jwt) url.searchParams.set('response', signAuthorizationResponse(deps.keyring, jwt, deps.settings.issuer, deps.now(), params));
  else {
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.set('iss', deps.settings.issuer);
  }
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


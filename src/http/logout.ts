/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0), `GET|POST <mount>/logout`. An
 * app sends the browser here to end the user's Keymint session (the one the platform session cookie
 * names, as at the authorization endpoint). The request is checked first (protocol/end-session.ts):
 * a bad id_token_hint or an unregistered post_logout_redirect_uri is an error page, never a redirect.
 * With a live session: an id_token_hint for that session's user and that session (its `sid`) ends it
 * at once; anything else asks the user on a confirmation page, whose form carries a
 * CSRF token bound to the session and the request. Then the browser goes to the platform's logout
 * page (`--logout-url`, only after a session was ended, with `return_to` back here), or to the app's
 * post_logout_redirect_uri with its state, or to a "signed out" page. Without a session there is
 * nothing to end or confirm, and the browser goes on at once (§2 allows it).
 */
import type { SessionService } from '../credentials/sessions.ts';
import { checkLogoutRequest, LOGOUT_PARAMETERS, type LogoutDeps, type LogoutHint, type LogoutRequest } from '../protocol/end-session.ts';
import type { SessionRecord } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { Logger } from '../util/log.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import { currentSession, guardedPage, html, readParams, redirect } from './authorize.ts';
import { errorPage, logoutPage, messagePage } from './consent-page.ts';
import { formToken, formTokenValid } from './csrf.ts';
import type { Route } from './router.ts';

export interface LogoutEndpointDeps extends LogoutDeps {
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly sessions: Pick<SessionService, 'resolve' | 'end'>;
  readonly settings: { readonly issuer: string; readonly sessionCookie: string; readonly logoutUrl: string | undefined };
}

const CSRF_PURPOSE = 'keymint-logout';

type Ok = Extract<LogoutRequest, { kind: 'ok' }>;

export function logoutRoutes(owner: string, path: string, deps: LogoutEndpointDeps, log: Logger): Route[] {
  const guarded = guardedPage(log, 'logout request failed', 503, 'Something went wrong. Please try again in a moment.');
  const url = `${deps.settings.issuer}${path}`;
  return [
    // A GET may end the session (a hint of it): HEAD does not.
    { method: 'GET', path, owner, label: 'The end-session endpoint', acts: true, handler: guarded((req) => logoutGet(req, url, deps)) },
    { method: 'POST', path, owner, handler: guarded((req) => logoutPost(req, url, deps)) },
  ];
}

async function logoutGet(req: HttpRequest, url: string, deps: LogoutEndpointDeps): Promise<HttpResponse> {
  const { params, duplicate } = readParams(req.query);
  const r = await checkLogoutRequest(params, duplicate, deps);
  if (r.kind === 'page') return html(400, errorPage(r.description));
  const session = await currentSession(req, deps);
  if (!session) return onwards(r, false, url, deps);
  if (r.hint && isHintFor(r.hint, session)) return endAndGo(session, r, true, url, deps);
  const fields = formFields(params);
  fields.csrf_token = formToken(deps.keyring.pepper().key, CSRF_PURPOSE, session.id, LOGOUT_PARAMETERS, fields);
  // Named only while active: an app the operator disabled does not get its name on Keymint's page.
  const client = r.clientId === undefined ? undefined : await deps.findClient(r.clientId);
  return html(200, logoutPage({ action: new URL(url).pathname, ...(client?.status === 'active' ? { clientName: client.name } : {}), fields }));
}

/**
 * A form post: the confirmation page's answer (it carries `decision` and `csrf_token`), or an app's
 * logout request sent as a form (§2 allows POST). The latter is checked and sent on to GET: a
 * cross-site POST carries no `SameSite=Lax` session cookie, a top-level GET does (303 See Other).
 */
async function logoutPost(req: HttpRequest, url: string, deps: LogoutEndpointDeps): Promise<HttpResponse> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return html(400, errorPage('The form could not be read.'));
  const { params, duplicate } = readParams(req.body.toString('utf8'));
  const r = await checkLogoutRequest(params, duplicate, deps);
  if (r.kind === 'page') return html(400, errorPage(r.description));
  if (params.decision === undefined && params.csrf_token === undefined) {
    return { ...redirect(`${url}?${new URLSearchParams(formFields(params))}`), status: 303 };
  }
  const session = await currentSession(req, deps);
  // Signed out meanwhile (another tab): nothing left to confirm.
  if (!session) return onwards(r, false, url, deps);
  const fields = formFields(params);
  if (!formTokenValid(deps.keyring, params.csrf_token ?? '', CSRF_PURPOSE, session.id, LOGOUT_PARAMETERS, fields)) {
    return html(403, errorPage('This sign-out form has expired. Please start again from the application.'));
  }
  // "Stay signed in": the app has signed the user out of itself; Keymint's session stays.
  if (params.decision !== 'logout') return onwards(r, false, url, deps);
  return endAndGo(session, r, false, url, deps);
}

/**
 * The hint names this session's user and this very session (its `sid`; a device grant's ID token
 * carries the session its request was approved in). One without a `sid` (issued before Keymint kept
 * it) could be of any session of the user, and an ID
 * token outlives its session (§2 takes expired ones): matched by user alone, one leaked from a CLI's
 * disk would end every later session of that user from any page. It gets the confirmation page.
 */
const isHintFor = (hint: LogoutHint, session: SessionRecord): boolean => hint.subject === session.subject && hint.sid === session.id;

/** Ends the session (audited as the user's, naming the client and how it was decided), then onwards. */
async function endAndGo(session: SessionRecord, r: Ok, byHint: boolean, url: string, deps: LogoutEndpointDeps): Promise<HttpResponse> {
  await deps.sessions.end(session.id, `session:${session.id}`, { via: 'end_session', client_id: r.clientId ?? null, confirmed_by: byHint ? 'id_token_hint' : 'user' });
  return onwards(r, true, url, deps);
}

/**
 * Where the browser goes next: the platform's logout page once a session was ended (it comes back
 * here, signed out, with the app's client_id, post_logout_redirect_uri and state, and goes on from
 * here: the platform never redirects to an app itself); the app's registered URI with its state; or
 * a page saying the user is signed out.
 */
function onwards(r: Ok, ended: boolean, url: string, deps: LogoutEndpointDeps): HttpResponse {
  if (ended && deps.settings.logoutUrl !== undefined) {
    const back = new URLSearchParams();
    if (r.redirect) {
      back.set('client_id', r.clientId!);
      back.set('post_logout_redirect_uri', r.redirect.uri);
      if (r.redirect.state !== undefined) back.set('state', r.redirect.state);
    }
    const logout = new URL(deps.settings.logoutUrl);
    logout.searchParams.set('return_to', back.size === 0 ? url : `${url}?${back}`);
    return redirect(logout.href);
  }
  if (r.redirect) {
    const target = new URL(r.redirect.uri);
    if (r.redirect.state !== undefined) target.searchParams.set('state', r.redirect.state);
    return redirect(target.href);
  }
  return html(200, messagePage('Signed out', ended ? 'You have been signed out. You can close this page.' : 'You are signed out. You can close this page.'));
}

/** The request's logout parameters: what the confirmation form carries and its CSRF token binds. */
function formFields(params: Readonly<Record<string, string>>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const f of LOGOUT_PARAMETERS) if (params[f] !== undefined) fields[f] = params[f];
  return fields;
}

/**
 * The device authorization grant's HTTP side (RFC 8628): the device authorization endpoint
 * (§3.1–3.2, a dialect endpoint run through the pipeline, its client authenticated as at the token
 * endpoint) and the verification page (§3.3), where a signed-in user (the platform session cookie, as
 * at the authorization endpoint) types or confirms the user code, sees the consent page with that
 * code on it, and allows or denies. Wrong codes are counted per session and per address and locked
 * out past a few (`limits/`), so the code space cannot be searched; every outcome is a page, never a
 * 5xx. The approval is remembered as consent for the client (protocol/consent.ts).
 */
import { createHmac, type KeyObject } from 'node:crypto';
import type { Dialect } from '../dialects/types.ts';
import { authenticateClient, type ClientAuthDeps } from '../protocol/client-auth/index.ts';
import { rememberConsent } from '../protocol/consent.ts';
import { decideDevice, DEVICE_CODE_GRANT, findUserCode, normaliseUserCode, displayUserCode, startDeviceAuthorization, type DeviceAuthorization, type DeviceDeps } from '../protocol/device.ts';
import type { ClientLookup } from '../protocol/authorize.ts';
import type { TokenRequest } from '../protocol/token-request.ts';
import { addressKey } from '../limits/address-key.ts';
import type { ClientIp } from '../limits/client-ip.ts';
import type { RequestLimiter } from '../limits/limiter.ts';
import type { LockoutRule } from '../limits/types.ts';
import type { ClientRecord, SessionRecord, Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { SessionService } from '../credentials/sessions.ts';
import type { Maybe } from '../util/maybe.ts';
import type { Logger } from '../util/log.ts';
import { OAuthError } from '../wire/errors.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import { currentSession, guardedPage, html, HTML_HEADERS, redirect } from './authorize.ts';
import { safeEqual } from './csrf.ts';
import { consentPage, errorPage, messagePage, userCodePage } from './consent-page.ts';
import type { Operation } from './pipeline.ts';
import type { Route } from './router.ts';

export interface DeviceEndpointDeps extends ClientAuthDeps, DeviceDeps {
  /** The client's own rate limit, once it is authenticated (as at the token endpoint). */
  readonly admit?: (client: ClientRecord) => Maybe<void>;
}

/** §3.1–3.2: authenticates the client, checks it may use the grant, and answers the two codes. */
export function deviceAuthorizationOperation(dialect: Dialect, verificationUri: string, deps: DeviceEndpointDeps): Operation<TokenRequest, DeviceAuthorization> {
  return {
    name: 'device_authorization',
    decode: (req) => dialect.decode(req),
    presented: (request) => ({ clientId: request.client.clientId }),
    async run(request, now) {
      const { client } = await authenticateClient(request.client, deps, { allowPublic: true });
      if (!client.grants.includes(DEVICE_CODE_GRANT)) {
        throw new OAuthError('unauthorized_client', 'The client is not allowed to use the device authorization grant.');
      }
      if (client.dialects.length > 0 && !client.dialects.includes(dialect.name)) {
        throw new OAuthError('unauthorized_client', 'The client is not allowed to use this endpoint.');
      }
      await deps.admit?.(client);
      return startDeviceAuthorization(client, request.params.scope, now, deps);
    },
    encode: (a) =>
      json(200, {
        device_code: a.deviceCode,
        user_code: a.userCode,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: a.userCode })}`,
        expires_in: a.expiresIn,
        interval: a.interval,
      }, NO_STORE),
  };
}

export interface VerificationDeps extends DeviceDeps {
  readonly store: Pick<Store, 'deviceCodes' | 'consents' | 'audit'>;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly findClient: ClientLookup;
  readonly sessions: Pick<SessionService, 'resolve'>;
  readonly settings: { readonly issuer: string; readonly loginUrl: string | undefined; readonly sessionCookie: string };
  /** Counts wrong user codes (always on: the code space is small). */
  readonly limiter: RequestLimiter;
  readonly clientIp: ClientIp;
  readonly now: () => number;
}

/** Wrong user codes one session may type before it waits (a minute, doubling, at most 15). */
export const USER_CODE_SESSION_RULE: LockoutRule = { threshold: 5, baseMs: 60_000, maxMs: 900_000, windowMs: 900_000 };
/** Wrong user codes one address (IPv6: its /64) may send, over all its sessions. */
export const USER_CODE_ADDRESS_RULE: LockoutRule = { threshold: 20, baseMs: 60_000, maxMs: 900_000, windowMs: 900_000 };

const WRONG_CODE = 'That code is not valid. Check the code your device shows and type it again.';

export function verificationRoutes(owner: string, path: string, deps: VerificationDeps, log: Logger): Route[] {
  const guarded = guardedPage(log, 'device verification failed', 503, 'Something went wrong. Please try again in a moment.');
  const action = `${new URL(deps.settings.issuer).pathname.replace(/\/$/, '')}${path}`;
  return [
    { method: 'GET', path, owner, handler: guarded((req) => verifyGet(req, path, action, deps)) },
    { method: 'POST', path, owner, handler: guarded((req) => verifyPost(req, action, deps)) },
  ];
}

async function verifyGet(req: HttpRequest, path: string, action: string, deps: VerificationDeps): Promise<HttpResponse> {
  const session = await currentSession(req, deps);
  if (!session) return signIn(req, path, deps);
  const typed = new URLSearchParams(req.query).get('user_code');
  if (typed === null || typed.trim() === '') return html(200, userCodePage({ action }));
  const limits = bruteForce(req, session, deps);
  const locked = await limits.lockedFor();
  if (locked > 0) return tooMany(locked, action);
  const now = deps.now();
  const record = await findUserCode(typed, deps);
  if (!record) {
    const lockout = await limits.failed();
    if (lockout > 0) return tooMany(lockout, action);
    // The typed text back in the field only when it is plain (letters, digits, spaces, dashes): nothing else is repeated.
    return html(400, userCodePage({ action, message: WRONG_CODE, ...(/^[A-Za-z0-9 -]{1,32}$/.test(typed) ? { value: typed } : {}) }));
  }
  const settled = settledPage(record.status, record.expiresAt <= now);
  if (settled) return settled;
  const client = await deps.findClient(record.clientId);
  if (!client || client.status !== 'active') return html(400, errorPage('The application is unknown or disabled.'));
  const userCode = displayUserCode(normaliseUserCode(typed)!);
  const fields = { user_code: userCode, csrf_token: csrfToken(deps.keyring.pepper().key, session, record.digest) };
  return html(200, consentPage({ action, clientName: client.name, scopes: record.scope.split(' ').filter(Boolean), userCode, fields }));
}

async function verifyPost(req: HttpRequest, action: string, deps: VerificationDeps): Promise<HttpResponse> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return html(400, errorPage('The form could not be read.'));
  const form = new URLSearchParams(req.body.toString('utf8'));
  const session = await currentSession(req, deps);
  const expired = () => html(403, errorPage('This form has expired. Open the verification page again and type the code your device shows.'));
  if (!session) return expired();
  const record = await findUserCode(form.get('user_code') ?? '', deps);
  // CSRF: an HMAC over the session id and the request, checked under every live pepper. A form of
  // another session or request is refused before its code is even looked at.
  const presented = form.get('csrf_token') ?? '';
  if (!record || !deps.keyring.peppers().some((p) => safeEqual(presented, csrfToken(p.key, session, record.digest)))) return expired();
  const now = deps.now();
  const settled = settledPage(record.status, record.expiresAt <= now);
  if (settled) return settled;
  const client = await deps.findClient(record.clientId);
  if (!client || client.status !== 'active') return html(400, errorPage('The application is unknown or disabled.'));
  const approve = form.get('decision') === 'approve';
  const scopes = record.scope.split(' ').filter(Boolean);
  // The consent first: the token endpoint's redemption requires it for a client that is not trusted.
  if (approve) await rememberConsent({ client, scopes }, session, now, deps);
  if (!(await decideDevice(record, session, approve, now, deps))) {
    const again = await findUserCode(form.get('user_code') ?? '', deps);
    return settledPage(again?.status ?? 'redeemed', again === undefined || again.expiresAt <= now) ?? expired();
  }
  return approve
    ? html(200, messagePage('Device connected', `${client.name} on your device now has access. You can close this page and return to your device.`))
    : html(200, messagePage('Request denied', `${client.name} was not given access. You can close this page.`));
}

/** The page for a request the user can no longer answer: expired, or already answered; undefined while pending. */
function settledPage(status: string, expired: boolean): HttpResponse | undefined {
  if (status === 'pending' && !expired) return undefined;
  if (status === 'pending') return html(400, errorPage('This code has expired. Start again on your device to get a new one.'));
  return html(400, errorPage('This code has already been used. Start again on your device if it is still waiting.'));
}

/** Without a session, as the authorization endpoint: to the platform's login page and back here. */
function signIn(req: HttpRequest, path: string, deps: VerificationDeps): HttpResponse {
  if (deps.settings.loginUrl === undefined) return html(401, errorPage('Sign in first, then open this page again.'));
  const login = new URL(deps.settings.loginUrl);
  login.searchParams.set('return_to', `${deps.settings.issuer}${path}${req.query === '' ? '' : `?${req.query}`}`);
  return redirect(login.href);
}

function tooMany(ms: number, action: string): HttpResponse {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return {
    status: 429,
    headers: { ...HTML_HEADERS, 'Retry-After': String(seconds) },
    body: userCodePage({ action, message: `Too many wrong codes. Wait ${seconds} seconds, then try again.` }),
  };
}

/** The wrong-code counters of this session and this address. */
function bruteForce(req: HttpRequest, session: SessionRecord, deps: VerificationDeps) {
  const bySession = `device-code:s:${session.id}`;
  const byAddress = `device-code:a:${addressKey(deps.clientIp(req))}`;
  return {
    lockedFor: async () => Math.max(await deps.limiter.subjectLockedFor(bySession), await deps.limiter.subjectLockedFor(byAddress)),
    failed: async () => Math.max(await deps.limiter.subjectFailed(bySession, USER_CODE_SESSION_RULE), await deps.limiter.subjectFailed(byAddress, USER_CODE_ADDRESS_RULE)),
  };
}

function csrfToken(key: KeyObject, session: SessionRecord, digest: string): string {
  return createHmac('sha256', key).update(`keymint-device\0${session.id}\0${digest}`).digest('base64url');
}

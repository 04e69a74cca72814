/** Helpers for the user-grant suites: a server with the oauth2 and polar dialects, admin calls, sessions. */
import assert from 'node:assert/strict';
import type { RawConfig } from '../../src/config/index.ts';
import type { KeymintCore, OpenOptions } from '../../src/service.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';

export const USER = '8b4f1c1e-3a55-4d2b-9a57-0d7f0c5e1a11';
export const ORG = '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09';
export const OTHER_ORG = 'a1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d';

export interface GrantServer extends TestServer {
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  session(input?: Record<string, unknown>): Promise<{ id: string; session_token: string; expires_at: string }>;
  json(res: Response): Promise<Record<string, unknown>>;
}

export async function startGrantServer(flags: RawConfig = {}, options: OpenOptions & { dataDir?: string } = {}): Promise<GrantServer> {
  const server = await startServer({ dialects: ['oauth2', 'polar'], issuer: 'http://localhost:8080', ...flags }, options);
  const admin = await server.client({ admin: true, scopes: [] });
  let adminToken: string | undefined;
  const call = async (method: string, path: string, body?: unknown) => {
    adminToken ??= String((await server.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
    return fetch(`${server.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  return {
    ...server,
    admin: call,
    async session(input = {}) {
      const res = await call('POST', '/sessions', { subject: USER, subject_type: 'user', organizations: [ORG], ...input });
      if (res.status !== 201) throw new Error(`session create failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; session_token: string; expires_at: string };
    },
    json: async (res) => (await res.json()) as Record<string, unknown>,
  };
}

export { basic };

import { storedDigest } from '../../src/tokens/digest.ts';
import { KEYMINT_REFRESH, opaqueFormat, type OpaqueFormat } from '../../src/tokens/opaque.ts';
import { randomBase62 } from '../../src/tokens/random.ts';

/**
 * Stores a refresh token as the code flow would have issued it (fixture for grant-level tests);
 * resolves the token and its family id.
 */
export async function seedRefreshToken(
  s: { readonly keymint: Pick<KeymintCore, 'store' | 'keyring'> },
  clientId: string,
  options: { scope?: string; now?: number; format?: OpaqueFormat; familyExpiresAt?: number; expiresAt?: number; audience?: string[] } = {},
): Promise<{ token: string; familyId: string }> {
  const now = options.now ?? Date.now();
  const token = (options.format ?? opaqueFormat(KEYMINT_REFRESH)).mint();
  const familyId = `fam_${randomBase62(16)}`;
  const scope = options.scope ?? 'openid read write';
  await s.keymint.store.tokens.insert({
    digest: storedDigest(s.keymint.keyring.pepper(), token),
    kind: 'refresh_token',
    clientId,
    subject: USER,
    scope,
    audience: options.audience ?? ['http://localhost:8080'],
    issuedAt: now,
    expiresAt: options.expiresAt ?? now + 3_600_000,
    revokedAt: null,
    familyId,
    jti: randomBase62(22),
    meta: { subjectType: 'user', authTime: Math.floor(now / 1000), familyExpiresAt: options.familyExpiresAt ?? now + 86_400_000, grantedScope: scope },
  });
  return { token, familyId };
}

/** 20 parallel uses of one kept token: 20 distinct access tokens, no refresh_token, and it works after. */
export async function parallelKeptRefreshes(s: GrantServer, c: { id: string; secret: string }, now = Date.now()): Promise<void> {
  const { token } = await seedRefreshToken(s, c.id, { now, scope: 'read' });
  const send = () => s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token }, { authorization: basic(c.id, c.secret) });
  const responses = await Promise.all(Array.from({ length: 20 }, send));
  const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, unknown>>));
  assert.deepEqual(responses.map((r) => r.status), Array(20).fill(200), JSON.stringify(bodies.find((b) => b.error)));
  assert.equal(new Set(bodies.map((b) => b.access_token)).size, 20);
  assert.ok(bodies.every((b) => b.refresh_token === undefined));
  const after = await send();
  const body = (await after.json()) as Record<string, unknown>;
  assert.equal(after.status, 200, JSON.stringify(body));
  assert.equal(body.scope, 'read');
}

import { createHash, randomBytes } from 'node:crypto';
import * as openid from 'openid-client';

export const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** GET /authorize without following redirects. */
export const authorizeGet = (s: TestServer, query: Record<string, string>, cookie?: string, path = '/oauth2/authorize') =>
  fetch(`${s.url}${path}?${new URLSearchParams(query)}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/**
 * Whether the session behind `cookie` still works at the authorization endpoint: a `prompt=none`
 * request of `clientId` (a trusted client with `redirectUri` and `openid`) gets a code, or login_required.
 */
export async function sessionAlive(s: TestServer, clientId: string, redirectUri: string, cookie: string): Promise<boolean> {
  const q = { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid', state: 'probe', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' };
  const res = await authorizeGet(s, q, cookie);
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get('location')!);
  if (location.searchParams.get('code') !== null) return true;
  assert.equal(location.searchParams.get('error'), 'login_required');
  return false;
}

/** Reads the consent form's fields (hidden inputs) from the page. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) out[unescape(m[1]!)] = unescape(m[2]!);
  return out;
}

/**
 * Answers the consent page: POSTs the form read from `page` (the 200 answer to GET /authorize) with
 * `decision`, as the user's browser does, without following the redirect.
 */
export async function answerConsent(s: TestServer, page: Response, cookie: string, decision = 'approve', path = '/oauth2/authorize'): Promise<Response> {
  return fetch(`${s.url}${path}`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...formFields(await page.text()), decision }).toString(),
  });
}

/** The device verification page (RFC 8628 §3.3) as the user's browser opens it (`query`: `?user_code=…` or empty). */
export const devicePage = (s: TestServer, query: string, cookie?: string) =>
  fetch(`${s.url}/oauth2/device${query}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** The verification page's form posted as the user's browser does. */
export const devicePost = (s: TestServer, form: Record<string, string>, cookie: string) =>
  fetch(`${s.url}/oauth2/device`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

/** The user's part of the device flow: the verification page with the code (200), then its consent form answered. */
export async function answerDevice(s: TestServer, userCode: string, decision: 'approve' | 'deny', cookie: string): Promise<Response> {
  const shown = await devicePage(s, `?${new URLSearchParams({ user_code: userCode })}`, cookie);
  assert.equal(shown.status, 200);
  return devicePost(s, { ...formFields(await shown.text()), decision }, cookie);
}

/** Runs authorize (+ consent when shown) and resolves the code from the redirect. */
export async function obtainCode(
  s: GrantServer,
  client: { id: string },
  options: { redirectUri?: string; scope?: string; nonce?: string; state?: string; path?: string; pkce?: boolean; cookie?: string; extra?: Record<string, string> } = {},
): Promise<{ code: string; verifier: string; redirectUri: string }> {
  const { verifier, challenge } = pkce();
  const redirectUri = options.redirectUri ?? 'https://app.example/cb';
  const cookie = options.cookie ?? `keymint_session=${(await s.session()).session_token}`;
  const query: Record<string, string> = {
    response_type: 'code', client_id: client.id, redirect_uri: redirectUri,
    ...(options.pkce === false ? {} : { code_challenge: challenge, code_challenge_method: 'S256' }),
    ...(options.scope ? { scope: options.scope } : {}), ...(options.nonce ? { nonce: options.nonce } : {}), state: options.state ?? 'st',
    ...options.extra,
  };
  const path = options.path ?? '/oauth2/authorize';
  let res = await authorizeGet(s, query, cookie, path);
  if (res.status === 200) res = await answerConsent(s, res, cookie, 'approve', path);
  if (res.status !== 302) throw new Error(`authorize failed: ${res.status} ${await res.text()}`);
  const location = new URL(String(res.headers.get('location')));
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.href}`);
  return { code, verifier, redirectUri };
}

/**
 * An app's login through openid-client (`config` says how: its response mode, its expected algs):
 * PKCE S256, state and nonce, to https://app.example/cb; `subject` approves. Resolves the redirect,
 * the consent form's fields (when it was shown) and the checks `authorizationCodeGrant` takes.
 */
export async function openidLogin(s: GrantServer, config: openid.Configuration, subject: string, scope = 'openid read') {
  const pkceCodeVerifier = openid.randomPKCECodeVerifier();
  const expectedState = openid.randomState();
  const expectedNonce = openid.randomNonce();
  const url = openid.buildAuthorizationUrl(config, {
    redirect_uri: 'https://app.example/cb', scope, state: expectedState, nonce: expectedNonce,
    code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
  });
  const { location, fields } = await browseApproving(s, url, subject);
  return { url, location, fields, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

/**
 * The browser of a relying-party library's authorization URL: `subject`'s new session cookie, the
 * consent page (when shown) approved with the fields it carries; resolves the redirect.
 */
export async function browseApproving(s: GrantServer, url: URL, subject: string): Promise<{ location: URL; fields: Record<string, string> | undefined }> {
  const cookie = `keymint_session=${(await s.session({ subject })).session_token}`;
  let res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  let fields: Record<string, string> | undefined;
  if (res.status === 200) {
    fields = formFields(await res.text());
    res = await fetch(new URL(url.pathname, url), {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, decision: 'approve' }).toString(),
    });
  }
  if (res.status !== 302) throw new Error(`authorize failed: ${res.status} ${await res.text()}`);
  return { location: new URL(String(res.headers.get('location'))), fields };
}

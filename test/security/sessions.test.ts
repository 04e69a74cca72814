/**
 * What a platform session is to Keymint: the cookie that carries it, and what ending it ends
 * (docs/user-grants.md, "Sessions").
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authorizeGet, basic, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer({ sessionCookie: '__Host-keymint_session' });
});
after(() => s.close());

const introspect = async (c: { id: string; secret: string }, token: unknown) =>
  s.json(await s.postForm('/oauth2/introspect', { token: String(token) }, { authorization: basic(c.id, c.secret) }));

/** The code flow of a trusted (consent-free) app, started in the session whose cookie is `cookie`. */
async function codeFlow(app: { id: string; secret: string }, cookie: string) {
  const { verifier, challenge } = pkce();
  const res = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: 'https://app.example/cb', scope: 'read', state: 'st', code_challenge: challenge, code_challenge_method: 'S256' }, cookie);
  assert.equal(res.status, 302, await res.text());
  const code = new URL(String(res.headers.get('location'))).searchParams.get('code')!;
  const token = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier }, { authorization: basic(app.id, app.secret) });
  assert.equal(token.status, 200);
  return s.json(token);
}

test('SES-01 the session cookie named as docs/user-grants.md recommends (__Host- prefix) is the one the authorization endpoint reads', async () => {
  const app = await s.client({ grants: ['authorization_code'], scopes: ['read'], redirectUris: ['https://app.example/cb'], trusted: true });
  const { session_token } = await s.session();
  const withHostCookie = await codeFlow(app, `__Host-keymint_session=${session_token}`);
  assert.equal(typeof withHostCookie.access_token, 'string');
  // The unprefixed name is another cookie: a sibling subdomain could set that one, so it is not read.
  const { challenge } = pkce();
  const other = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: 'https://app.example/cb', state: 'st', code_challenge: challenge, code_challenge_method: 'S256' }, `keymint_session=${session_token}`);
  assert.equal(other.status, 302);
  assert.equal(new URL(String(other.headers.get('location'))).searchParams.get('error'), 'login_required');
});

test('RT-08 ending a session revokes what the web grant issued from it, and leaves the code flow\'s refresh family to the app it was delegated to', async () => {
  const dashboard = await s.client({ grants: ['web'], scopes: ['read'] });
  const app = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'], trusted: true });
  const { id, session_token } = await s.session();
  const web = await s.json(await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(dashboard.id, dashboard.secret) }));
  const delegated = await codeFlow(app, `__Host-keymint_session=${session_token}`);
  assert.equal((await introspect(dashboard, web.access_token)).active, true);

  assert.equal((await s.admin('DELETE', `/sessions/${id}`)).status, 204);

  assert.deepEqual(await introspect(dashboard, web.access_token), { active: false }, 'the session\'s own token ends with it');
  assert.equal((await introspect(app, delegated.access_token)).active, true, 'the delegation does not');
  const refreshed = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(delegated.refresh_token) }, { authorization: basic(app.id, app.secret) });
  assert.equal(refreshed.status, 200);
  // The session itself is over: no new code and no new web token from it.
  const again = await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(dashboard.id, dashboard.secret) });
  assert.equal((await s.json(again)).error, 'invalid_grant');
  // Ending the app's access is the revocation endpoint's job (or disabling the app).
  assert.equal((await s.postForm('/oauth2/revoke', { token: String((await s.json(refreshed)).refresh_token) }, { authorization: basic(app.id, app.secret) })).status, 200);
  assert.deepEqual(await introspect(app, delegated.access_token), { active: false });
});

/**
 * A client's scopes narrowed after a refresh token was granted: the next refresh returns only the
 * scopes both originally granted and still allowed, and the new refresh token carries the same
 * (SECURITY CE-02); a code authorized before the change grants only what is still allowed. The
 * change is made through the admin API, as an operator would.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, obtainCode, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer();
});
after(() => s.close());

const refresh = (c: { id: string; secret: string }, token: string, extra: Record<string, string> = {}) =>
  s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, ...extra }, { authorization: basic(c.id, c.secret) });

test('CE-02 narrowing the scopes of a client makes its next refresh return only the remaining scopes, and the new refresh token keeps only those', async () => {
  const c = await s.client({ grants: ['refresh_token', 'authorization_code'], scopes: ['openid', 'read', 'write'] });
  const { token } = await seedRefreshToken(s, c.id, { scope: 'openid read write' });
  const patched = await s.admin('PATCH', `/clients/${c.id}`, { scopes: ['openid', 'read'] });
  assert.equal(patched.status, 200);

  const first = await refresh(c, token);
  const body = await s.json(first);
  assert.equal(first.status, 200, JSON.stringify(body));
  assert.equal(body.scope, 'openid read');

  // The successor carries the narrowed grant: asking it for `write` is beyond what it holds.
  const next = String(body.refresh_token);
  const beyond = await refresh(c, next, { scope: 'write' });
  assert.equal(beyond.status, 400);
  assert.deepEqual(await s.json(beyond), { error: 'invalid_scope', error_description: 'The requested scope exceeds the scope originally granted.' });

  // Widening the client again does not bring `write` back into the family: it was dropped for good.
  assert.equal((await s.admin('PATCH', `/clients/${c.id}`, { scopes: ['openid', 'read', 'write'] })).status, 200);
  const again = await refresh(c, next);
  const againBody = await s.json(again);
  assert.equal(again.status, 200, JSON.stringify(againBody));
  assert.equal(againBody.scope, 'openid read');

  // With none of the granted scopes left, the refresh is refused (and the family is not otherwise harmed).
  assert.equal((await s.admin('PATCH', `/clients/${c.id}`, { scopes: ['write'] })).status, 200);
  const none = await refresh(c, String(againBody.refresh_token));
  assert.equal(none.status, 400);
  assert.deepEqual(await s.json(none), { error: 'invalid_scope', error_description: 'None of the scopes originally granted is still allowed for this client.' });
});

test('CE-02 a code authorized before the client lost a scope grants only the remaining ones, and its refresh token carries the same', async () => {
  const c = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read', 'write'], redirectUris: ['https://app.example/cb'], trusted: true });
  const { code, verifier, redirectUri } = await obtainCode(s, c, { scope: 'read write' });
  assert.equal((await s.admin('PATCH', `/clients/${c.id}`, { scopes: ['openid', 'read'] })).status, 200);
  const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, { authorization: basic(c.id, c.secret) });
  const body = await s.json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.scope, 'read');
  const next = await refresh(c, String(body.refresh_token));
  const nextBody = await s.json(next);
  assert.equal(next.status, 200, JSON.stringify(nextBody));
  assert.equal(nextBody.scope, 'read');
});

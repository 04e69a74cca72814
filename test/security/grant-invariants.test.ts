/**
 * The non-standard grants keep the standard grants' invariants (SECURITY D-04): Polar's `web` grant
 * and Polygon's API-key exchange.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, startGrantServer, type GrantServer } from '../grants/support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer({ dialects: ['oauth2', 'polar', 'polygon-oms'] });
});
after(() => s.close());

test('D-04 the web grant: one authentication method, equal answers for unknown client and wrong secret, invalid_grant for a bad session, unauthorized_client without the grant', async () => {
  const web = await s.client({ grants: ['web'], scopes: ['read'] });
  const plain = await s.client({ grants: ['client_credentials'], scopes: ['read'] });
  const { id: sessionId, session_token } = await s.session();
  for (const path of ['/oauth2/token', '/v1/oauth2/token']) {
    const both = await s.postForm(path, { grant_type: 'web', session_token, client_secret: web.secret }, { authorization: basic(web.id, web.secret) });
    assert.equal(both.status, 400, path);
    assert.equal((await s.json(both)).error, 'invalid_request');

    const wrong = await s.postForm(path, { grant_type: 'web', session_token }, { authorization: basic(web.id, `${web.secret.slice(0, -8)}AAAAAAAA`) });
    const unknown = await s.postForm(path, { grant_type: 'web', session_token }, { authorization: basic(`${web.id.slice(0, -4)}zzzz`, web.secret) });
    assert.equal(wrong.status, 401);
    assert.equal(await wrong.text(), await unknown.text(), `${path}: an unknown client and a wrong secret answer alike`);

    for (const bad of ['km_st_nope', `${session_token.slice(0, -1)}${session_token.endsWith('A') ? 'B' : 'A'}`]) {
      const res = await s.postForm(path, { grant_type: 'web', session_token: bad }, { authorization: basic(web.id, web.secret) });
      assert.equal((await s.json(res)).error, 'invalid_grant', path);
    }
    const notAllowed = await s.postForm(path, { grant_type: 'web', session_token }, { authorization: basic(plain.id, plain.secret) });
    assert.equal((await s.json(notAllowed)).error, 'unauthorized_client');
  }
  assert.equal((await s.admin('DELETE', `/sessions/${sessionId}`)).status, 204);
  const ended = await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(web.id, web.secret) });
  assert.equal((await s.json(ended)).error, 'invalid_grant', 'an ended session');
});

test('D-04 the API-key exchange: equal answers for unknown key and wrong secret, and a key without the grant is refused', async () => {
  const post = (body: unknown) => fetch(`${s.url}/v0.9/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const key = await s.client({ scopes: ['read'] });
  const wrong = await post({ apiKey: key.id, apiSecret: `${key.secret.slice(0, -8)}AAAAAAAA` });
  const unknown = await post({ apiKey: `${key.id.slice(0, -4)}zzzz`, apiSecret: key.secret });
  assert.equal(wrong.status, 401);
  assert.equal(await wrong.text(), await unknown.text());
  const codeOnly = await s.client({ grants: ['authorization_code'], scopes: ['read'], redirectUris: ['https://app.example/cb'] });
  assert.equal((await post({ apiKey: codeOnly.id, apiSecret: codeOnly.secret })).status, 403);
  assert.equal((await post({ apiKey: key.id, apiSecret: key.secret })).status, 200);
});

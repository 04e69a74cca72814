/**
 * RFC 7009 §2.2.1's two error answers: `unsupported_token_type` (which Keymint never needs) and 503
 * while the store is away (which tells the client the token still exists, and to retry).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, eventually } from '../support/cluster.ts';
import { DATABASE_URL, needService } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { basic, obtainCode, startGrantServer } from '../grants/support.ts';

test('V-08 every token type RFC 7009 covers is revocable, whatever the hint, so unsupported_token_type is never answered; other credentials sent there are left alone', async (t) => {
  const s = await startGrantServer({ dialects: ['oauth2', 'polar', 'fuuffy'] });
  t.after(() => s.close());
  const app = await s.client({ grants: ['client_credentials', 'authorization_code', 'refresh_token', 'web'], scopes: ['openid', 'read'], redirectUris: ['https://app.example/cb'], trusted: true });
  const auth = { authorization: basic(app.id, app.secret) };
  const revoke = async (token: string, hint?: string) => {
    const res = await s.postForm('/oauth2/revoke', { token, ...(hint ? { token_type_hint: hint } : {}) }, auth);
    const text = await res.text();
    assert.ok(!text.includes('unsupported_token_type'), text);
    return res.status;
  };
  const active = async (token: string) => (await s.json(await s.postForm('/oauth2/introspect', { token }, auth))).active === true;
  const redeem = async () => {
    const { code, verifier, redirectUri } = await obtainCode(s, app, { scope: 'openid read' });
    return s.json(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, auth));
  };

  const kinds: Array<[string, () => Promise<string>]> = [
    ['JWT access token', async () => String((await s.token(app.id, app.secret)).access_token)],
    ['opaque access token', async () => String(((await s.json(await s.postForm('/v1/auth/token', { client_id: app.id, client_secret: app.secret }))).data as { access_token: string }).access_token)],
    ['refresh token', async () => String((await redeem()).refresh_token)],
  ];
  for (const [kind, mint] of kinds) {
    for (const hint of [undefined, 'access_token', 'refresh_token', 'id_token', 'nonsense']) {
      const token = await mint();
      assert.equal(await active(token), true, kind);
      assert.equal(await revoke(token, hint), 200, `${kind}, hint ${hint}`);
      assert.equal(await active(token), false, `${kind} revoked with hint ${hint}`);
    }
  }

  // Not tokens of RFC 7009: an ID token, the user's session token, an unredeemed code, the client's
  // own secret. Each is answered like an unknown token (200, V-04) and keeps working.
  const { id_token: idToken, access_token: withIdToken } = await redeem();
  const { session_token } = await s.session();
  const { code, verifier, redirectUri } = await obtainCode(s, app, { scope: 'read' });
  for (const other of [String(idToken), session_token, code, app.secret]) assert.equal(await revoke(other), 200);
  assert.equal(await active(String(withIdToken)), true, 'revoking the ID token left its access token alone');
  assert.equal((await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, auth)).status, 200, 'the session still works');
  assert.equal((await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, auth)).status, 200, 'the code still redeems');
  assert.equal(typeof (await s.token(app.id, app.secret)).access_token, 'string', 'the secret still authenticates');
});

test('V-09 with the store away, revocation answers 503 + Retry-After, the token stays valid, and the retry succeeds', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const u = new URL(DATABASE_URL);
  const proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
  t.after(() => proxy.close());
  // The cluster's long PostgreSQL waits: the cut refuses connections, so the store fails at once.
  const c = cluster({ redisUrl: undefined, dialects: ['oauth2', 'fuuffy'] });
  t.after(() => c.close());
  const via = new URL(DATABASE_URL);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  const node = await c.start({ databaseUrl: via.toString() });
  const { client, clientSecret } = await node.keymint.clients.create({ name: 'rs' }, 'test');
  const auth = { authorization: basic(client.client_id, clientSecret!), 'content-type': 'application/x-www-form-urlencoded' };
  const post = (path: string, form: Record<string, string>) => fetch(`${node.url}${path}`, { method: 'POST', headers: auth, body: new URLSearchParams(form).toString() });
  const jwt = String(((await (await node.token(client.client_id, clientSecret!)).json()) as { access_token: string }).access_token);
  const opaque = String(((await (await post('/v1/auth/token', { client_id: client.client_id, client_secret: clientSecret! })).json()) as { data: { access_token: string } }).data.access_token);

  proxy.cut();
  for (const token of [jwt, opaque]) {
    const res = await post('/oauth2/revoke', { token });
    assert.equal(res.status, 503);
    assert.match(String(res.headers.get('retry-after')), /^[1-9]\d*$/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(((await res.json()) as { error: string }).error, 'temporarily_unavailable');
  }
  proxy.resume();
  const introspect = async (token: string) => ((await (await post('/oauth2/introspect', { token })).json()) as { active: boolean }).active;
  assert.ok(await eventually(async () => (await post('/oauth2/introspect', { token: jwt })).status === 200, 10_000), 'the store is back');
  for (const token of [jwt, opaque]) {
    assert.equal(await introspect(token), true, 'a 503 revoked nothing: the token still exists');
    assert.equal((await post('/oauth2/revoke', { token })).status, 200);
    assert.equal(await introspect(token), false);
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RevokedEvent } from '../../src/protocol/revocation.ts';
import { basic, seedRefreshToken, startGrantServer, USER, type GrantServer } from './support.ts';

describe('introspection (RFC 7662, I-*), revocation (RFC 7009, V-*), userinfo, revocation feed', () => {
  let s: GrantServer;
  const now = Date.now(); // the admin API (sessions) checks its bearer token against the real clock
  let a: { id: string; secret: string };
  let b: { id: string; secret: string };
  const events: RevokedEvent[] = [];
  before(async () => {
    s = await startGrantServer({}, { now: () => now, onRevoked: (e) => void events.push(e) });
    a = await s.client({ grants: ['client_credentials', 'web', 'refresh_token'], scopes: ['openid', 'read'] });
    b = await s.client({ grants: ['client_credentials', 'web', 'refresh_token'], scopes: ['openid', 'read', 'keymint:revocations'] });
  });
  after(() => s.close());

  const call = (path: string, form: Record<string, string>, c = a) => s.postForm(path, form, { authorization: basic(c.id, c.secret) });
  const introspect = async (token: string, c = a, path = '/oauth2/introspect') => {
    const res = await call(path, { token }, c);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store'); // I-06
    assert.equal(res.headers.get('pragma'), 'no-cache');
    return s.json(res);
  };
  const webToken = async (path: string, c = a) => {
    const { session_token } = await s.session();
    const res = await call(path, { grant_type: 'web', session_token }, c);
    assert.equal(res.status, 200);
    return s.json(res);
  };

  test('I-03 I-06 an active JWT access token: RFC 7662 fields', async () => {
    const { access_token } = await s.token(a.id, a.secret, { scope: 'read' });
    const body = await introspect(String(access_token));
    assert.deepEqual(Object.keys(body).sort(), ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'token_type']);
    assert.equal(body.active, true);
    assert.equal(body.client_id, a.id);
    assert.equal(body.sub, a.id);
    assert.equal(body.scope, 'read');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.iss, 'http://localhost:8080');
  });

  test('I-03 polar: opaque polar_at_u_ token introspects with sub_type and sub, at Polar\'s path', async () => {
    const { access_token } = await webToken('/v1/oauth2/token');
    const body = await introspect(String(access_token), a, '/v1/oauth2/introspect');
    assert.equal(body.active, true);
    assert.equal(body.sub_type, 'user');
    assert.equal(body.sub, USER);
    assert.equal(body.scope, 'openid read');
  });

  test('I-04 unknown, malformed, expired and revoked tokens → exactly {"active":false}', async () => {
    const { access_token } = await webToken('/v1/oauth2/token');
    assert.equal((await call('/oauth2/revoke', { token: String(access_token) })).status, 200);
    for (const token of ['nope', `polar_at_u_${'A'.repeat(43)}`, 'a.b.c', String(access_token)]) {
      assert.deepEqual(await introspect(token), { active: false });
    }
  });

  test('I-05 a caller learns nothing about another client\'s token', async () => {
    const { access_token } = await s.token(a.id, a.secret);
    assert.deepEqual(await introspect(String(access_token), b), { active: false });
    const polar = await webToken('/v1/oauth2/token');
    assert.deepEqual(await introspect(String(polar.access_token), b, '/v1/oauth2/introspect'), { active: false });
  });

  test('I-04 an expired token is inactive', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now: now - 10_000, expiresAt: now - 1 });
    assert.deepEqual(await introspect(token), { active: false });
  });

  test('I-01 V-01 the token parameter is required', async () => {
    for (const path of ['/oauth2/introspect', '/oauth2/revoke', '/v1/oauth2/introspect', '/v1/oauth2/revoke']) {
      const res = await call(path, {});
      assert.equal(res.status, 400);
      assert.deepEqual(await s.json(res), { error: 'invalid_request', error_description: 'The token parameter is required.' });
    }
  });

  test('I-02 V-02 the caller must authenticate: 401 invalid_client (WWW-Authenticate after Basic)', async () => {
    for (const path of ['/oauth2/introspect', '/oauth2/revoke', '/v1/oauth2/introspect']) {
      const none = await s.postForm(path, { token: 'x' });
      assert.equal(none.status, 401);
      assert.equal((await s.json(none)).error, 'invalid_client');
      const wrong = await s.postForm(path, { token: 'x' }, { authorization: basic(a.id, `${a.secret}x`) });
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.headers.get('www-authenticate')), /^Basic realm=/);
      assert.equal(wrong.headers.get('cache-control'), 'no-store');
    }
  });

  test('I-07 V-07 V-10 a revoked JWT is inactive at once and appears in the revocation feed', async () => {
    const { access_token } = await s.token(a.id, a.secret);
    const jti = String((await introspect(String(access_token))).jti);
    const start = await s.json(await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(b.id, b.secret) } }));
    const res = await call('/oauth2/revoke', { token: String(access_token), token_type_hint: 'access_token' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.deepEqual(await introspect(String(access_token)), { active: false });
    const feed = await fetch(`${s.url}/oauth2/revocations?after=${start.cursor}`, { headers: { authorization: basic(b.id, b.secret) } });
    assert.equal(feed.status, 200);
    const page = await s.json(feed);
    assert.deepEqual(page.revocations, [{ jti, exp: Math.floor(now / 1000) + 3600 }]);
    assert.match(String(page.cursor), /^\d+$/);
    const empty = await s.json(await fetch(`${s.url}/oauth2/revocations?after=${page.cursor}`, { headers: { authorization: basic(b.id, b.secret) } }));
    assert.deepEqual(empty, { revocations: [], cursor: page.cursor });
    assert.ok(events.some((e) => e.jti === jti && e.kind === 'access_token'));
  });

  test('revocation feed: client authentication required, cursor validated', async () => {
    const anon = await fetch(`${s.url}/oauth2/revocations`);
    assert.equal(anon.status, 401);
    const bad = await fetch(`${s.url}/oauth2/revocations?after=abc`, { headers: { authorization: basic(b.id, b.secret) } });
    assert.equal(bad.status, 400);
    assert.equal((await s.json(bad)).error, 'invalid_request');
  });

  test('V-03 another client\'s token is not revoked: 400 for a confidential caller', async () => {
    const { access_token } = await s.token(a.id, a.secret);
    const res = await call('/oauth2/revoke', { token: String(access_token) }, b);
    assert.equal(res.status, 400);
    assert.deepEqual(await s.json(res), { error: 'invalid_request', error_description: 'The token was not issued to this client.' });
    assert.equal((await introspect(String(access_token))).active, true);
  });

  test('V-04 unknown and already revoked tokens → 200', async () => {
    for (const token of ['garbage', `km_rt_${'B'.repeat(43)}`]) {
      const res = await call('/oauth2/revoke', { token });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
  });

  test('V-05 a wrong or unknown hint is ignored', async () => {
    const { access_token } = await webToken('/v1/oauth2/token');
    assert.equal((await call('/v1/oauth2/revoke', { token: String(access_token), token_type_hint: 'refresh_token' })).status, 200);
    assert.deepEqual(await introspect(String(access_token)), { active: false });
    const { access_token: other } = await webToken('/v1/oauth2/token');
    assert.equal((await call('/v1/oauth2/revoke', { token: String(other), token_type_hint: 'weird' })).status, 200);
    assert.deepEqual(await introspect(String(other)), { active: false });
  });

  test('V-06 revoking a refresh token revokes its family (its access tokens too)', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now, scope: 'openid read' });
    const res = await call('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token });
    const body = await s.json(res);
    assert.equal(res.status, 200);
    assert.equal((await introspect(String(body.refresh_token))).token_type, 'refresh_token');
    assert.equal((await introspect(String(body.access_token))).active, true);
    assert.equal((await call('/oauth2/revoke', { token: String(body.refresh_token) })).status, 200);
    assert.deepEqual(await introspect(String(body.refresh_token)), { active: false });
    assert.deepEqual(await introspect(String(body.access_token)), { active: false });
  });

  test('B-02 B-03 userinfo: a user token → {sub, sub_type}; RFC 6750 errors otherwise, no token in the query', async () => {
    const polar = await webToken('/v1/oauth2/token');
    const ok = await fetch(`${s.url}/v1/oauth2/userinfo`, { headers: { authorization: `Bearer ${polar.access_token}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await s.json(ok), { sub: USER, sub_type: 'user' });
    const jwt = await webToken('/oauth2/token');
    const viaJwt = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${jwt.access_token}` } });
    assert.deepEqual(await s.json(viaJwt), { sub: USER, sub_type: 'user' });
    const none = await fetch(`${s.url}/oauth2/userinfo`);
    assert.equal(none.status, 401);
    // Without credentials: both schemes' challenges, neither with an error code (RFC 6750 §3, RFC 9449 §7.1).
    const bare = 'Bearer realm="keymint", DPoP realm="keymint", algs="ES256 ES384 ES512 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512"';
    assert.equal(none.headers.get('www-authenticate'), bare);
    const { access_token: cc } = await s.token(a.id, a.secret);
    const client = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${cc}` } });
    assert.equal(client.status, 401);
    assert.equal(client.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_token"');
    const queryOnly = await fetch(`${s.url}/v1/oauth2/userinfo?access_token=${polar.access_token}`);
    assert.equal(queryOnly.status, 401);
    assert.equal(queryOnly.headers.get('www-authenticate'), bare);
    // Another scheme is no access token: the bare challenges, as without credentials (RFC 6750 §3).
    const basic = await fetch(`${s.url}/v1/oauth2/userinfo`, { headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
    assert.equal(basic.headers.get('www-authenticate'), bare);
    // The DPoP scheme without a proof is refused in that scheme's words.
    const unproven = await fetch(`${s.url}/v1/oauth2/userinfo`, { headers: { authorization: `DPoP ${polar.access_token}` } });
    assert.equal(unproven.status, 401);
    assert.match(unproven.headers.get('www-authenticate') ?? '', /^DPoP realm="keymint", algs="[^"]+", error="invalid_dpop_proof"$/);
    const malformed = await fetch(`${s.url}/v1/oauth2/userinfo`, { headers: { authorization: 'Bearer a b' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_request"');
    const both = await fetch(`${s.url}/v1/oauth2/userinfo?access_token=${polar.access_token}`, { headers: { authorization: `Bearer ${polar.access_token}` } });
    assert.equal(both.status, 400);
    assert.equal((await s.json(both)).error, 'invalid_request');
  });

  test('B-06 userinfo by POST (OIDC Core §5.3.1): the header, or access_token in a form body, gets the same answer; both ways, or the body twice, is 400 invalid_request', async () => {
    const jwt = await webToken('/oauth2/token');
    const post = (body: string | undefined, headers: Record<string, string> = {}, path = '/oauth2/userinfo') =>
      fetch(`${s.url}${path}`, { method: 'POST', headers: { ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...headers }, ...(body === undefined ? {} : { body }) });
    for (const res of [
      await post(undefined, { authorization: `Bearer ${jwt.access_token}` }),
      await post(`access_token=${jwt.access_token}`),
      await post(`access_token=${(await webToken('/v1/oauth2/token')).access_token}`, {}, '/v1/oauth2/userinfo'),
    ]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await s.json(res), { sub: USER, sub_type: 'user' });
    }
    const bare = 'Bearer realm="keymint", DPoP realm="keymint", algs="ES256 ES384 ES512 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512"';
    // Not a form: the body is not read, so there is no token.
    const json = await post(undefined, { 'content-type': 'application/json' });
    assert.deepEqual([json.status, json.headers.get('www-authenticate')], [401, bare]);
    const revoked = await webToken('/oauth2/token');
    assert.equal((await s.postForm('/oauth2/revoke', { token: String(revoked.access_token) }, { authorization: basic(a.id, a.secret) })).status, 200);
    const dead = await post(`access_token=${revoked.access_token}`);
    assert.deepEqual([dead.status, dead.headers.get('www-authenticate')], [401, 'Bearer realm="keymint", error="invalid_token"']);
    for (const res of [
      await post(`access_token=${jwt.access_token}`, { authorization: `Bearer ${jwt.access_token}` }),
      await post(`access_token=${jwt.access_token}&access_token=${jwt.access_token}`),
      await post(`access_token=${jwt.access_token}`, {}, `/oauth2/userinfo?access_token=${jwt.access_token}`),
    ]) {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_request"');
      assert.deepEqual(await s.json(res), { error: 'invalid_request', error_description: 'The access token must be sent one way, once.' });
    }
  });
});

test('I-03 V-07 fuuffy sk-… opaque tokens introspect and revoke at /oauth2/* (found by format, not by dialect name)', async (t) => {
  const s = await startGrantServer({ dialects: ['oauth2', 'fuuffy'] });
  t.after(() => s.close());
  const c = await s.client({ scopes: [] });
  const res = await s.postForm('/v1/auth/token', { client_id: c.id, client_secret: c.secret });
  assert.equal(res.status, 200);
  const token = String(((await res.json()) as { data: { access_token: string } }).data.access_token);
  assert.match(token, /^sk-[0-9a-f]{32}$/);
  const introspect = async () => (await s.postForm('/oauth2/introspect', { token }, { authorization: basic(c.id, c.secret) })).json();
  assert.equal(((await introspect()) as { active: boolean }).active, true);
  assert.equal((await s.postForm('/oauth2/revoke', { token }, { authorization: basic(c.id, c.secret) })).status, 200);
  assert.deepEqual(await introspect(), { active: false });
});


test('A-08 I-07 introspection and revocation are behind the same lockout as the token endpoint', async (t) => {
  const s = await startGrantServer({ trustedProxies: ['127.0.0.1'], lockoutThreshold: '3', lockoutBaseMs: '60000', rateLimitIp: '1000' });
  t.after(() => s.close());
  const c = await s.client({ scopes: [] });
  const wrong = `${c.secret.slice(0, -8)}AAAAAAAA`;
  const from = (path: string, secret: string) => s.postForm(path, { token: 'x' }, { authorization: basic(c.id, secret), 'x-forwarded-for': '198.51.100.7' });
  const attack: number[] = [];
  for (const path of ['/oauth2/introspect', '/oauth2/revoke', '/v1/oauth2/introspect', '/oauth2/introspect']) attack.push((await from(path, wrong)).status);
  assert.deepEqual(attack, [401, 401, 401, 429]);
  const locked = await from('/oauth2/revoke', c.secret);
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get('retry-after'), '60');
  assert.equal(locked.headers.get('cache-control'), 'no-store');
});

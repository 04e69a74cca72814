import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { atHash } from '../../src/protocol/id-token.ts';
import { basic, ORG, OTHER_ORG, startGrantServer, USER, type GrantServer } from './support.ts';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

describe('sessions API and the web grant (SECURITY D-05)', () => {
  let s: GrantServer;
  let now = Date.now(); // the admin API checks its bearer token against the real clock
  let client: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({}, { now: () => now });
    client = await s.client({ grants: ['web'], scopes: ['openid', 'read', 'write'] });
  });
  after(() => s.close());

  const web = (path: string, form: Record<string, string>, c = client) =>
    s.postForm(path, { grant_type: 'web', ...form }, { authorization: basic(c.id, c.secret) });

  test('POST /admin/v1/sessions returns a prefixed token once; only its digest is stored', async () => {
    const res = await s.admin('POST', '/sessions', { subject: USER, subject_type: 'user', ttl: 600 });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await s.json(res);
    assert.deepEqual(Object.keys(body).sort(), ['expires_at', 'id', 'session_token']);
    assert.match(String(body.session_token), /^km_st_[0-9A-Za-z]{43}$/);
    assert.equal(body.expires_at, new Date(now + 600_000).toISOString());
    const stored = await s.keymint.store.sessions.get(String(body.id));
    assert.match(stored!.digest, /^p[0-9A-Za-z]+:[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(stored).includes(String(body.session_token)));
  });

  test('POST /admin/v1/sessions validates its input', async () => {
    for (const bad of [{}, { subject: USER, subject_type: 'robot' }, { subject: 'x y' }, { subject: USER, ttl: 10 ** 9 }, { subject: USER, organizations: ['nope'] }]) {
      const res = await s.admin('POST', '/sessions', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal((await s.json(res)).error, 'invalid_request');
    }
  });

  test('D-05 user: oauth2 dialect returns a JWT for the session user, no refresh token', async () => {
    const { session_token } = await s.session();
    const res = await web('/oauth2/token', { session_token, scope: 'read' });
    assert.equal(res.status, 200);
    const body = await s.json(res);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
    const { payload } = await jwtVerify(String(body.access_token), jwks, { issuer: 'http://localhost:8080', currentDate: new Date(now) });
    assert.equal(payload.sub, USER);
    assert.equal(payload.client_id, client.id);
  });

  test('D-05 polar dialect: all six fields, refresh_token null, polar_at_u_ token, RS256 id_token', async () => {
    const { session_token } = await s.session();
    const res = await web('/v1/oauth2/token', { session_token });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await s.json(res);
    assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token']);
    assert.match(String(body.access_token), /^polar_at_u_[0-9A-Za-z]{43}$/);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.refresh_token, null);
    assert.equal(body.scope, 'openid read write');
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(String(body.id_token), jwks, { issuer: 'http://localhost:8080', audience: client.id, currentDate: new Date(now) });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, USER);
    assert.equal(payload.at_hash, atHash(String(body.access_token)));
    assert.equal(payload.auth_time, Math.floor(now / 1000));
  });

  test('D-05 organization: sub required, must be one of the session user\'s organizations; polar_at_o_', async () => {
    const { session_token } = await s.session();
    const ok = await web('/v1/oauth2/token', { session_token, sub_type: 'organization', sub: ORG });
    assert.equal(ok.status, 200);
    assert.match(String((await s.json(ok)).access_token), /^polar_at_o_/);
    const other = await web('/v1/oauth2/token', { session_token, sub_type: 'organization', sub: OTHER_ORG });
    assert.equal(other.status, 400);
    assert.deepEqual(await s.json(other), { error: 'invalid_grant', error_description: 'The session is invalid or has expired.' });
  });

  test('D-05 parameter errors use Polar\'s texts', async () => {
    const { session_token } = await s.session();
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "Missing 'session_token' in request."],
      [{ session_token, sub_type: 'robot' }, 'Invalid sub_type'],
      [{ session_token, sub_type: 'organization' }, "Missing 'sub' for organization sub_type"],
      [{ session_token, sub: ORG }, "Can't specify 'sub' for user sub_type"],
      [{ session_token, sub_type: 'organization', sub: 'not-a-uuid' }, "Invalid 'sub' UUID"],
    ];
    for (const [form, description] of cases) {
      for (const path of ['/oauth2/token', '/v1/oauth2/token']) {
        const res = await web(path, form);
        assert.equal(res.status, 400);
        assert.deepEqual(await s.json(res), { error: 'invalid_request', error_description: description });
        assert.equal(res.headers.get('pragma'), NO_STORE.pragma);
      }
    }
  });

  test('D-05 unknown, malformed, expired and ended sessions → invalid_grant', async () => {
    const expired = await s.session({ ttl: 60 });
    const ended = await s.session();
    assert.equal((await s.admin('DELETE', `/sessions/${ended.id}`)).status, 204);
    assert.equal((await s.admin('DELETE', `/sessions/${ended.id}`)).status, 404);
    const byToken = await s.session();
    assert.equal((await s.admin('DELETE', `/sessions/${byToken.session_token}`)).status, 204);
    now += 61_000;
    try {
      for (const session_token of ['km_st_garbage', `km_st_${'A'.repeat(43)}`, expired.session_token, ended.session_token, byToken.session_token]) {
        const res = await web('/v1/oauth2/token', { session_token });
        assert.equal(res.status, 400);
        assert.equal((await s.json(res)).error, 'invalid_grant');
      }
    } finally {
      now -= 61_000;
    }
  });

  test('D-05 scope beyond the client, grant not allowed, no client auth, client_credentials in polar', async () => {
    const { session_token } = await s.session();
    assert.equal((await s.json(await web('/v1/oauth2/token', { session_token, scope: 'admin' }))).error, 'invalid_scope');
    const ccOnly = await s.client({ scopes: ['read'] });
    const denied = await web('/v1/oauth2/token', { session_token }, ccOnly);
    assert.equal(denied.status, 400);
    assert.equal((await s.json(denied)).error, 'unauthorized_client');
    const anon = await s.postForm('/v1/oauth2/token', { grant_type: 'web', session_token, client_id: client.id });
    assert.equal(anon.status, 401);
    assert.equal((await s.json(anon)).error, 'invalid_client');
    const cc = await s.postForm('/v1/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(client.id, client.secret) });
    assert.equal(cc.status, 400);
    assert.equal((await s.json(cc)).error, 'unsupported_grant_type');
  });

  test('RT-08 ending a session revokes the tokens the web grant issued from it (JWT and opaque)', async () => {
    const { id, session_token } = await s.session();
    const polar = await s.json(await web('/v1/oauth2/token', { session_token }));
    const jwt = await s.json(await web('/oauth2/token', { session_token }));
    const introspect = async (token: unknown) =>
      s.json(await s.postForm('/oauth2/introspect', { token: String(token) }, { authorization: basic(client.id, client.secret) }));
    assert.equal((await introspect(polar.access_token)).active, true);
    assert.equal((await introspect(jwt.access_token)).active, true);
    assert.equal((await s.admin('DELETE', `/sessions/${id}`)).status, 204);
    assert.deepEqual(await introspect(polar.access_token), { active: false });
    assert.deepEqual(await introspect(jwt.access_token), { active: false });
  });

  test('polar dialect is form only', async () => {
    const res = await fetch(`${s.url}/v1/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(client.id, client.secret) }, body: '{"grant_type":"web"}' });
    assert.equal(res.status, 400);
    assert.equal((await s.json(res)).error, 'invalid_request');
  });
});

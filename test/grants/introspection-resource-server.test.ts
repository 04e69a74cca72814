/**
 * Resource servers at the introspection endpoint (RFC 7662 §2.1: the protected resource asks): a
 * client an operator gave `introspection_audiences` learns about another client's active access
 * tokens whose `aud` includes one of them (I-17), never another client's refresh token nor revokes it
 * (I-18); the setting is operator-only, validated, and ignored from registration and metadata
 * documents (I-19); opaque Fuuffy tokens carry the client's default audience and go through too (I-20).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientFromDocument } from '../../src/credentials/client-documents.ts';
import { decodeJwt as decodeJwtPayload } from 'jose';
import { registrarOf } from '../support/harness.ts';
import { basic, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';

describe('introspection by a resource server', () => {
  let s: GrantServer;
  let customer: { id: string; secret: string };
  let rs: { id: string; secret: string };
  let plain: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ dialects: ['oauth2', 'polar', 'fuuffy'], registration: 'token', resources: [`${API}=read`] });
    customer = await s.client({ grants: ['client_credentials', 'web', 'refresh_token'], scopes: ['openid', 'read'], audiences: [API, OTHER] });
    rs = await s.client({ scopes: [], introspectionAudiences: [API] });
    plain = await s.client({ scopes: [] });
  });
  after(() => s.close());

  const introspect = async (token: string, c: { id: string; secret: string }, headers: Record<string, string> = {}) => {
    const res = await s.postForm('/oauth2/introspect', { token }, { authorization: basic(c.id, c.secret), ...headers });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return res;
  };
  const answer = async (token: string, c: { id: string; secret: string }) => (await introspect(token, c)).json();

  test('I-17 a resource server sees another client\'s access token for its audience: the owner\'s own answer, byte for byte', async () => {
    const token = String((await s.token(customer.id, customer.secret, { scope: 'read', resource: API })).access_token);
    const body = (await answer(token, rs)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'token_type']);
    assert.deepEqual({ active: body.active, client_id: body.client_id, scope: body.scope, aud: body.aud, sub: body.sub, token_type: body.token_type, iss: body.iss },
      { active: true, client_id: customer.id, scope: 'read', aud: API, sub: customer.id, token_type: 'Bearer', iss: 'http://localhost:8080' });
    assert.deepEqual(await answer(token, customer), body);
    // Without the setting: today's answer.
    assert.deepEqual(await answer(token, plain), { active: false });
  });

  test('I-17 a token for another audience, or without one the resource server serves, is {"active":false}', async () => {
    const other = String((await s.token(customer.id, customer.secret, { scope: 'read', resource: OTHER })).access_token);
    assert.deepEqual(await answer(other, rs), { active: false });
    assert.equal(((await answer(other, customer)) as { active: boolean }).active, true);
    const bare = await s.client({ scopes: [] });
    const none = String((await s.token(bare.id, bare.secret)).access_token);
    assert.notEqual(decodeJwtPayload(none).aud, API);
    assert.deepEqual(await answer(none, rs), { active: false });
  });

  test('I-17 I-08 the RFC 9701 answer to a resource server is signed for it (aud) and holds the same object', async () => {
    const token = String((await s.token(customer.id, customer.secret, { scope: 'read', resource: API })).access_token);
    const res = await introspect(token, rs, { accept: 'application/token-introspection+jwt' });
    assert.equal(res.headers.get('content-type'), 'application/token-introspection+jwt');
    const claims = decodeJwtPayload(await res.text());
    assert.equal(claims.aud, rs.id);
    assert.deepEqual(claims.token_introspection, await answer(token, rs));
  });

  test('I-18 another client\'s refresh token is {"active":false} to a resource server, and it cannot revoke the client\'s tokens', async () => {
    const { token: refresh } = await seedRefreshToken(s, customer.id, { scope: 'read', audience: [API] });
    const access = String((await s.token(customer.id, customer.secret, { scope: 'read', resource: API })).access_token);
    assert.equal(((await answer(refresh, customer)) as { active: boolean }).active, true);
    assert.deepEqual(await answer(refresh, rs), { active: false });
    for (const token of [access, refresh]) {
      const res = await s.postForm('/oauth2/revoke', { token }, { authorization: basic(rs.id, rs.secret) });
      assert.equal(res.status, 400); // V-03, unchanged for a resource server
      assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'The token was not issued to this client.' });
    }
    assert.equal(((await answer(access, rs)) as { active: boolean }).active, true);
    assert.equal(((await answer(refresh, customer)) as { active: boolean }).active, true);
  });

  test('I-20 an opaque Fuuffy sk- token carries its client\'s default audience and a resource server for it introspects it', async () => {
    const res = await s.postForm('/v1/auth/token', { client_id: customer.id, client_secret: customer.secret });
    assert.equal(res.status, 200);
    const token = String(((await res.json()) as { data: { access_token: string } }).data.access_token);
    assert.match(token, /^sk-[0-9a-f]{32}$/);
    const body = (await answer(token, rs)) as Record<string, unknown>;
    assert.deepEqual({ active: body.active, client_id: body.client_id, aud: body.aud, sub: body.sub }, { active: true, client_id: customer.id, aud: API, sub: customer.id });
    const elsewhere = await s.client({ scopes: [], introspectionAudiences: [OTHER] });
    assert.deepEqual(await answer(token, elsewhere), { active: false });
  });

  test('I-20 an opaque Polar polar_at_ token carries its client\'s default audience and a resource server introspects it at Polar\'s path', async () => {
    const { session_token } = await s.session();
    const res = await s.postForm('/v1/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(customer.id, customer.secret) });
    assert.equal(res.status, 200);
    const token = String((await s.json(res)).access_token);
    assert.match(token, /^polar_at_u_/);
    const polar = async (c: { id: string; secret: string }) => s.json(await s.postForm('/v1/oauth2/introspect', { token }, { authorization: basic(c.id, c.secret) }));
    const body = await polar(rs);
    assert.deepEqual({ active: body.active, client_id: body.client_id, aud: body.aud, sub_type: body.sub_type }, { active: true, client_id: customer.id, aud: API, sub_type: 'user' });
    assert.deepEqual(body, await polar(customer));
    assert.deepEqual(await polar(plain), { active: false });
  });

  test('I-19 the admin API sets and shows introspection_audiences, refusing a relative URI, a fragment and more than 20', async () => {
    const created = await s.admin('POST', '/clients', { name: 'API', introspection_audiences: [API, API] });
    assert.equal(created.status, 201);
    const view = await s.json(created);
    assert.deepEqual(view.introspection_audiences, [API]);
    const many = Array.from({ length: 21 }, (_, i) => `${API}/${i}`);
    for (const [value, message] of [
      [['/relative'], 'an introspection audience is an absolute URI of at most 2048 characters without a fragment'],
      [[`${API}#x`], 'an introspection audience is an absolute URI of at most 2048 characters without a fragment'],
      [many, 'a client has at most 20 introspection audiences'],
    ] as const) {
      const res = await s.admin('PATCH', `/clients/${String(view.client_id)}`, { introspection_audiences: value });
      assert.equal(res.status, 400);
      const err = await s.json(res);
      assert.equal(err.error, 'invalid_request');
      assert.match(String(err.error_description), new RegExp(message));
    }
    const cleared = await s.admin('PATCH', `/clients/${String(view.client_id)}`, { introspection_audiences: null });
    assert.deepEqual((await s.json(cleared)).introspection_audiences, []);
  });

  test('I-19 dynamic registration ignores introspection_audiences: the client is not a resource server', async () => {
    const register = await registrarOf(s);
    const { status, body: reg } = await register({ client_name: 'Sneaky', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', introspection_audiences: [API] });
    assert.equal(status, 201, JSON.stringify(reg));
    assert.equal('introspection_audiences' in reg, false);
    assert.equal((await s.keymint.store.clients.get(String(reg.client_id)))?.introspectionAudiences, undefined);
    const token = String((await s.token(customer.id, customer.secret, { scope: 'read', resource: API })).access_token);
    assert.deepEqual(await answer(token, { id: String(reg.client_id), secret: String(reg.client_secret) }), { active: false });
  });
});

test('I-19 a client ID metadata document\'s introspection_audiences is ignored', () => {
  const id = 'https://app.example/oauth/client.json';
  const record = clientFromDocument(id, { client_id: id, redirect_uris: ['https://app.example/cb'], introspection_audiences: [API] },
    { environment: 'prod', dialects: ['oauth2'], policy: { scopes: [], audiences: [API] }, now: () => 1_800_000_000_000 });
  assert.equal(record.introspectionAudiences, undefined);
});

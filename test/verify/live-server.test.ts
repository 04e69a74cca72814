/**
 * Both ends against a real Keymint (oauth2, fuuffy and polar dialects mounted), no stubs: tokens
 * fetched by `keymint/client` where its dialect allows, checked by `keymint/verify`. A JWT revoked at /oauth2/revoke reaches the verifier through `pollRevocations` reading the real
 * /oauth2/revocations; opaque Fuuffy `sk-…` and Polar `polar_at_…` tokens verify through the real
 * introspection endpoint and are refused once revoked. Keymint answers introspection about the
 * caller's own tokens and, for a resource server (a client with introspection audiences), about other
 * clients' access tokens for those audiences (src/protocol/introspection.ts): the verifier introspects
 * with the credentials of the client the token was issued to, or of the API's resource-server client.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTokenSource } from '../../src/client/index.ts';
import { createVerifier, pollRevocations, VerifyError, type VerifyErrorCode } from '../../src/verify/index.ts';
import { eventually } from '../support/cluster.ts';
import { basic, startGrantServer, USER } from '../grants/support.ts';
import { clock, countingFetch, ISSUER } from './fixtures.ts';

const server = await startGrantServer({ dialects: ['oauth2', 'fuuffy', 'polar'] });
after(() => server.close());

const rejectsWith = (p: Promise<unknown>, code: VerifyErrorCode) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VerifyError, `not a VerifyError: ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });

/** Outcome of one verification: 'ok' or the VerifyError code (anything else is rethrown). */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => {
      if (e instanceof VerifyError) return e.code;
      throw e;
    },
  );

const revoke = async (path: string, token: string, client: { id: string; secret: string }) => {
  const res = await server.postForm(path, { token }, { authorization: basic(client.id, client.secret) });
  assert.equal(res.status, 200, `revoke answered ${res.status}: ${await res.text()}`);
};

test('a JWT revoked at /oauth2/revoke is refused once pollRevocations reads the real feed; another token still verifies', async () => {
  const app = await server.client({ scopes: ['read'] });
  const rs = await server.client({ scopes: ['keymint:revocations'] }); // the resource server's own credentials for the feed
  const token = String((await server.token(app.id, app.secret)).access_token);
  const other = String((await server.token(app.id, app.secret)).access_token);
  const errors: unknown[] = [];
  const poller = pollRevocations({
    url: `${server.url}/oauth2/revocations`,
    clientId: rs.id,
    clientSecret: rs.secret,
    intervalMs: 20,
    onError: (e) => errors.push(e),
  });
  after(() => poller.stop());
  await poller.ready;
  assert.deepEqual(errors, []);
  assert.notEqual(poller.lastSuccessAt, undefined, 'the feed accepted the client credentials');
  const f = countingFetch(ISSUER, server.url);
  const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, revocations: poller, requiredScopes: ['read'] });
  assert.equal((await verifier.verify(`Bearer ${token}`)).client_id, app.id);

  await revoke('/oauth2/revoke', token, app);
  // Wait for the condition itself; the guard only stops a hang (the documented bound is intervalMs + one request).
  assert.ok(await eventually(async () => (await outcome(verifier.verify(token))) === 'revoked', 10_000), 'hang guard: revocation never seen');
  await rejectsWith(verifier.verify(`Bearer ${token}`), 'revoked');
  assert.equal(poller.isRevoked(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti), true);
  const claims = await verifier.verify(`Bearer ${other}`);
  assert.equal(claims.client_id, app.id);
  assert.deepEqual(errors, []);
});

test('`headers` works; without credentials, with a wrong secret or without keymint:revocations, the real feed refuses the poller and onError says so', async () => {
  const rs = await server.client({ scopes: ['keymint:revocations'] });
  const ok = pollRevocations({ url: `${server.url}/oauth2/revocations`, headers: { Authorization: basic(rs.id, rs.secret) }, start: false });
  await ok.poll();
  assert.notEqual(ok.lastSuccessAt, undefined, 'a hand-made authorization header through `headers` works too');
  for (const auth of [{}, { clientId: rs.id, clientSecret: `${rs.secret}x` }]) {
    const errors: unknown[] = [];
    const poller = pollRevocations({ url: `${server.url}/oauth2/revocations`, ...auth, start: false, onError: (e) => errors.push(e) });
    await poller.poll();
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as Error).message), /answered 401/);
    assert.equal(poller.lastSuccessAt, undefined);
  }
  const stranger = await server.client({ scopes: ['read'] });
  const errors: unknown[] = [];
  const refused = pollRevocations({ url: `${server.url}/oauth2/revocations`, clientId: stranger.id, clientSecret: stranger.secret, start: false, onError: (e) => errors.push(e) });
  await refused.poll();
  assert.match(String((errors[0] as Error).message), /answered 403/, 'ADM-04: a client without keymint:revocations');
  assert.throws(() => pollRevocations({ url: `${server.url}/oauth2/revocations`, clientId: rs.id }), TypeError);
});

test('an opaque Fuuffy token verifies through the real /oauth2/introspect; after /oauth2/revoke it is refused (cache as documented)', async () => {
  const app = await server.client({ scopes: ['read', 'write'] });
  const source = createTokenSource({ tokenUrl: `${server.url}/v1/auth/token`, dialect: 'fuuffy', clientId: app.id, clientSecret: app.secret });
  const token = await source.getToken();
  assert.match(token, /^sk-[0-9a-f]{32}$/);

  const c = clock();
  const f = countingFetch(ISSUER, server.url);
  const introspection = { endpoint: `${server.url}/oauth2/introspect`, clientId: app.id, clientSecret: app.secret };
  const cached = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, now: c.now, introspection: { ...introspection, cacheTtlMs: 10_000 } });
  const uncached = createVerifier({ issuer: ISSUER, audience: ISSUER, introspection: { ...introspection, cacheTtlMs: 0 } });

  const claims = await cached.verify(`Bearer ${token}`, { requiredScopes: ['write'] });
  assert.equal(claims.active, true);
  assert.equal(claims.client_id, app.id);
  assert.equal(claims.iss, ISSUER);
  assert.equal((await uncached.verify(token)).client_id, app.id);
  await rejectsWith(cached.verify(token, { requiredScopes: ['admin'] }), 'insufficient_scope');
  // Keymint's rule: a caller learns only about its own tokens, so another client's verifier sees it inactive.
  const stranger = await server.client({ scopes: [] });
  const strangers = createVerifier({ issuer: ISSUER, audience: ISSUER, introspection: { ...introspection, clientId: stranger.id, clientSecret: stranger.secret } });
  await rejectsWith(strangers.verify(token), 'invalid_token');
  const wrongSecret = createVerifier({ issuer: ISSUER, audience: ISSUER, introspection: { ...introspection, clientSecret: `${app.secret}x` } });
  await rejectsWith(wrongSecret.verify(token), 'introspection_unavailable');

  const asked = f.count('/oauth2/introspect');
  await revoke('/oauth2/revoke', token, app);
  await rejectsWith(uncached.verify(token), 'invalid_token'); // no cache: refused at once
  // With a cache the revocation shows once the entry (≤ cacheTtlMs) has expired, not before.
  assert.equal((await cached.verify(token)).client_id, app.id);
  assert.equal(f.count('/oauth2/introspect'), asked, 'answered from the cache');
  c.advance(10_000);
  await rejectsWith(cached.verify(token), 'invalid_token');
  assert.equal(f.count('/oauth2/introspect'), asked + 1);
  await rejectsWith(cached.verify(token), 'invalid_token');
  assert.equal(f.count('/oauth2/introspect'), asked + 1, 'an inactive answer is kept for inactiveCacheTtlMs');
  c.advance(5_000);
  await rejectsWith(cached.verify(token), 'invalid_token');
  assert.equal(f.count('/oauth2/introspect'), asked + 2);
});

test('a Polar web-grant polar_at_ token verifies through the real /v1/oauth2/introspect; revoked, it is refused', async () => {
  const app = await server.client({ grants: ['web'], scopes: ['openid', 'read'] });
  const { session_token } = await server.session();
  const source = createTokenSource({
    tokenUrl: `${server.url}/v1/oauth2/token`,
    dialect: 'polar',
    clientId: app.id,
    clientSecret: app.secret,
    grant: { type: 'web', sessionToken: session_token },
  });
  const token = await source.getToken();
  assert.match(token, /^polar_at_u_/);

  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    introspection: { endpoint: `${server.url}/v1/oauth2/introspect`, clientId: app.id, clientSecret: app.secret, cacheTtlMs: 0 },
  });
  const claims = await verifier.verify(`Bearer ${token}`, { requiredScopes: ['read'] });
  assert.equal(claims.sub, USER);
  assert.equal(claims.sub_type, 'user');
  assert.equal(claims.client_id, app.id);
  await rejectsWith(verifier.verify(token, { requiredScopes: ['write'] }), 'insufficient_scope');

  await revoke('/v1/oauth2/revoke', token, app);
  await rejectsWith(verifier.verify(token), 'invalid_token');
});

test('I-21 an API verifies other clients\' opaque Fuuffy tokens with its resource-server client (introspection audiences), and refuses one for another audience', async () => {
  const API = 'https://orders.example.com';
  const rs = await server.client({ scopes: [], introspectionAudiences: [API] });
  const customers = [await server.client({ scopes: ['read'], audiences: [API] }), await server.client({ scopes: ['read'], audiences: [API] })];
  const elsewhere = await server.client({ scopes: ['read'], audiences: ['https://billing.example.com'] });
  const fuuffy = (c: { id: string; secret: string }) => createTokenSource({ tokenUrl: `${server.url}/v1/auth/token`, dialect: 'fuuffy', clientId: c.id, clientSecret: c.secret }).getToken();
  const verifier = createVerifier({ issuer: ISSUER, audience: API, introspection: { endpoint: `${server.url}/oauth2/introspect`, clientId: rs.id, clientSecret: rs.secret, cacheTtlMs: 0 } });
  for (const customer of customers) {
    const token = await fuuffy(customer);
    assert.match(token, /^sk-[0-9a-f]{32}$/);
    const claims = await verifier.verify(`Bearer ${token}`, { requiredScopes: ['read'] });
    assert.deepEqual([claims.active, claims.client_id, claims.aud, claims.sub], [true, customer.id, API, customer.id]);
  }
  await rejectsWith(verifier.verify(await fuuffy(elsewhere)), 'invalid_token');
  // Without introspection audiences the same API client sees nothing but its own tokens (today's rule).
  const plain = await server.client({ scopes: [] });
  const unprivileged = createVerifier({ issuer: ISSUER, audience: API, introspection: { endpoint: `${server.url}/oauth2/introspect`, clientId: plain.id, clientSecret: plain.secret, cacheTtlMs: 0 } });
  await rejectsWith(unprivileged.verify(await fuuffy(customers[0]!)), 'invalid_token');
});

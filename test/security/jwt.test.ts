/** docs/requirements.md, JWT access tokens (RFC 9068) and CC-03: the access tokens themselves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { basic, startServer } from '../support/harness.ts';

const ISSUER = 'http://localhost:8080';

for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
  test(`J-01 J-02 J-05 ${alg}: at+jwt header with kid, RFC 9068 claims, verifies against the JWKS`, async (t) => {
    const server = await startServer({ alg, issuer: ISSUER });
    t.after(() => server.close());
    const { id, secret } = await server.client({ scopes: ['read'] });
    const body = await server.token(id, secret, { scope: 'read' });
    const token = String(body.access_token);
    const header = decodeProtectedHeader(token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, alg);
    assert.equal(header.typ, 'at+jwt');
    const jwks = (await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet;
    assert.ok(jwks.keys.some((k) => k.kid === header.kid && k.alg === alg && k.use === 'sig'));
    assert.ok(jwks.keys.every((k) => !('d' in k) && !('p' in k)), 'no private parts in the JWKS');
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: [alg] });
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'env', 'exp', 'iat', 'iss', 'jti', 'mode', 'scope', 'sub']);
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.equal(payload.scope, 'read');
    assert.match(String(payload.jti), /^[0-9A-Za-z]{22}$/);
  });
}

test('J-01 a token with alg "none" or a forged signature does not verify', async (t) => {
  const server = await startServer({ issuer: ISSUER });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  const token = String((await server.token(id, secret)).access_token);
  const [h, p] = token.split('.');
  const jwks = createLocalJWKSet((await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
  await assert.rejects(jwtVerify(none, jwks, { issuer: ISSUER }));
  await assert.rejects(jwtVerify(`${h}.${p}.${'A'.repeat(342)}`, jwks, { issuer: ISSUER }));
});

test('CC-03 J-04 client_credentials sub is the client id (a namespace user UUIDs cannot collide with)', async (t) => {
  const server = await startServer({ issuer: ISSUER });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  const token = String((await server.token(id, secret)).access_token);
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(payload.sub, id);
  assert.equal(payload.client_id, id);
  assert.match(id, /^sk_live_/); // never UUID-shaped, unlike user and organization subjects
});

test('J-03 BCP-07 aud: the default resource, a registered one on request, anything else invalid_target', async (t) => {
  const server = await startServer({ issuer: ISSUER, audience: 'https://api.example.com' });
  t.after(() => server.close());
  const plain = await server.client();
  const multi = await server.client({ audiences: ['https://payments.example.com', 'https://ledger.example.com'] });
  const aud = async (c: { id: string; secret: string }, form: Record<string, string> = {}) => {
    const res = await server.postForm('/oauth2/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(c.id, c.secret) });
    const body = (await res.json()) as Record<string, string>;
    return res.status === 200 ? JSON.parse(Buffer.from(body.access_token!.split('.')[1]!, 'base64url').toString()).aud : body;
  };
  assert.equal(await aud(plain), 'https://api.example.com');
  assert.equal(await aud(multi), 'https://payments.example.com');
  assert.equal(await aud(multi, { resource: 'https://ledger.example.com' }), 'https://ledger.example.com');
  assert.deepEqual(await aud(multi, { resource: 'https://evil.example.com' }), {
    error: 'invalid_target',
    error_description: 'The requested resource is not allowed for this client.',
  });
});

test('J-07 the payload holds no secret and no personal data', async (t) => {
  const server = await startServer({ issuer: ISSUER });
  t.after(() => server.close());
  const { id, secret } = await server.client({ name: 'Jane Doe personal app' });
  const token = String((await server.token(id, secret)).access_token);
  const payload = Buffer.from(token.split('.')[1]!, 'base64url').toString();
  assert.ok(!payload.includes(secret) && !payload.includes('Jane'));
});

test('a per-client ttl overrides the deployment default', async (t) => {
  const server = await startServer({ issuer: ISSUER, tokenTtl: '900' });
  t.after(() => server.close());
  const std = await server.client();
  const short = await server.client({ ttl: 60 });
  assert.equal((await server.token(std.id, std.secret)).expires_in, 900);
  assert.equal((await server.token(short.id, short.secret)).expires_in, 60);
});

test('R-07 token sizes stay within what docs/architecture.md documents', async (t) => {
  const server = await startServer({ issuer: 'https://auth.example.com' });
  t.after(() => server.close());
  const scopes = Array.from({ length: 10 }, (_, i) => `scope-number-${i}:read`);
  const { id, secret } = await server.client({ scopes });
  const token = String((await server.token(id, secret)).access_token);
  const scope = scopes.join(' ');
  // Documented: an RS256 access token is at most 900 bytes plus the issuer, audience and scope lengths.
  assert.ok(token.length <= 900 + Math.ceil((4 / 3) * (2 * 'https://auth.example.com'.length + scope.length)), String(token.length));
});

/**
 * Opaque tokens through RFC 7662 introspection, against a stub serving the RFC's contract so that
 * every kind of answer (other audience, refresh token, outage) can be set up: the contract is under
 * test. Against Keymint's real introspection endpoints: live-server.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createVerifier, VerifyError } from '../../src/verify/index.ts';
import { randomBase62, withChecksum } from '../../src/tokens/random.ts';
import { clock } from './fixtures.ts';
import { stubServer, type StubAnswer } from './stub.ts';

const ISSUER = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const exp = Math.floor(Date.now() / 1000) + 600;
const OTHER = withChecksum(`polar_at_u_${randomBase62(37)}`);
const REFRESH = withChecksum(`polar_at_u_${randomBase62(37)}`);
const DOWN = `sk-${'0d'.repeat(16)}`;
const answers = new Map<string, StubAnswer>([
  ['sk-0123456789abcdef0123456789abcdef', { status: 200, body: { active: true, client_id: 'c1', scope: 'read write', exp, iss: ISSUER, aud: AUD, jti: 'o1' } }],
  ['sk-ffffffffffffffffffffffffffffffff', { status: 200, body: { active: false } }],
  [OTHER, { status: 200, body: { active: true, client_id: 'c2', aud: 'https://elsewhere', exp } }],
  [REFRESH, { status: 200, body: { active: true, token_type: 'refresh_token', exp } }],
  [DOWN, { status: 503, body: { error: 'temporarily_unavailable' } }],
]);
const stub = await stubServer((req) => answers.get(new URLSearchParams(req.body).get('token') ?? '') ?? { status: 200, body: { active: false } });
after(() => stub.close());
const c = clock();
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUD,
  jwksUri: `${ISSUER}/jwks`,
  now: c.now,
  introspection: { endpoint: `${stub.url}/oauth2/introspect`, clientId: 'rs:api', clientSecret: 's3cr+t', cacheTtlMs: 10_000 },
});
const code = (p: Promise<unknown>, expected: string) => assert.rejects(p, (e: unknown) => e instanceof VerifyError && e.code === expected);

test('an active opaque token returns the introspection claims; the request follows RFC 7662 §2.1', async () => {
  const claims = await verifier.verify('Bearer sk-0123456789abcdef0123456789abcdef', { requiredScopes: ['write'] });
  assert.equal(claims.client_id, 'c1');
  const req = stub.requests.at(-1)!;
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/oauth2/introspect');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  // client_secret_basic, each half form-urlencoded first (RFC 6749 §2.3.1): ':' → %3A, '+' → %2B.
  assert.equal(req.headers.authorization, `Basic ${Buffer.from('rs%3Aapi:s3cr%2Bt').toString('base64')}`);
  assert.equal(req.body, 'token=sk-0123456789abcdef0123456789abcdef&token_type_hint=access_token');
});

test('active answers are cached for cacheTtlMs; concurrent checks share one call', async () => {
  const token = 'sk-0123456789abcdef0123456789abcdef';
  c.advance(20_000);
  const before = stub.requests.length;
  await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
  assert.equal(stub.requests.length, before + 1);
  c.advance(9_999);
  await verifier.verify(token);
  assert.equal(stub.requests.length, before + 1);
  c.advance(1);
  await verifier.verify(token);
  assert.equal(stub.requests.length, before + 2);
});

test('inactive, other audience, refresh tokens, missing scope and outages', async () => {
  await code(verifier.verify('sk-ffffffffffffffffffffffffffffffff'), 'invalid_token');
  await code(verifier.verify(OTHER), 'invalid_token');
  await code(verifier.verify(REFRESH), 'invalid_token');
  await code(verifier.verify('sk-0123456789abcdef0123456789abcdef', { requiredScopes: ['admin'] }), 'insufficient_scope');
  await code(verifier.verify(DOWN), 'introspection_unavailable');
  await code(createVerifier({ issuer: ISSUER, audience: AUD }).verify('sk-0123456789abcdef0123456789abcdef'), 'invalid_token');
});

test('VER-02 an inactive answer is kept for inactiveCacheTtlMs (default 5 s); an active one never beyond exp', async () => {
  const UNKNOWN = `sk-${'e'.repeat(32)}`; // the stub answers {active:false}
  const before = stub.requests.length;
  await code(verifier.verify(UNKNOWN), 'invalid_token');
  await code(verifier.verify(UNKNOWN), 'invalid_token');
  assert.equal(stub.requests.length, before + 1);
  c.advance(4_999);
  await code(verifier.verify(UNKNOWN), 'invalid_token');
  assert.equal(stub.requests.length, before + 1);
  c.advance(1);
  await code(verifier.verify(UNKNOWN), 'invalid_token');
  assert.equal(stub.requests.length, before + 2);
  c.set(exp * 1000 + 5_000); // cached entry (until ≤ exp) is gone, the claims say expired
  await code(verifier.verify('sk-0123456789abcdef0123456789abcdef'), 'expired');
  assert.equal(stub.requests.length, before + 3);
});

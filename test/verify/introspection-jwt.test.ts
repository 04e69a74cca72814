/**
 * `keymint/verify` asking a real Keymint for signed introspection answers (RFC 9701,
 * `introspection.signedAnswers`): an opaque Fuuffy token verifies through the JWT answer, checked
 * with the issuer's JWKS; an answer that is not signed (Polar's mount, which ignores Accept), altered,
 * for another client or too old is `introspection_unavailable`, never taken.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTokenSource } from '../../src/client/index.ts';
import { createVerifier, VerifyError, type VerifyErrorCode } from '../../src/verify/index.ts';
import { startGrantServer } from '../grants/support.ts';
import { clock, countingFetch, ISSUER } from './fixtures.ts';

const server = await startGrantServer({ dialects: ['oauth2', 'fuuffy', 'polar'] });
after(() => server.close());

const rejectsWith = (p: Promise<unknown>, code: VerifyErrorCode, message?: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VerifyError, `not a VerifyError: ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });

test('I-16 verify with signedAnswers: a Fuuffy token verifies through a signed answer; unsigned, altered, another client\'s or stale answers are introspection_unavailable', async () => {
  const app = await server.client({ scopes: ['read'] });
  const token = await createTokenSource({ tokenUrl: `${server.url}/v1/auth/token`, dialect: 'fuuffy', clientId: app.id, clientSecret: app.secret }).getToken();
  const f = countingFetch(ISSUER, server.url);
  const accepts: Array<string | null> = [];
  const seen: typeof fetch = async (url, init) => {
    accepts.push(new Headers(init?.headers).get('accept'));
    return f.fetch(url, init);
  };
  const c = clock();
  const introspection = { endpoint: `${server.url}/oauth2/introspect`, clientId: app.id, clientSecret: app.secret, cacheTtlMs: 0, signedAnswers: true };
  const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: seen, now: c.now, introspection });
  const claims = await verifier.verify(`Bearer ${token}`, { requiredScopes: ['read'] });
  assert.equal(claims.active, true);
  assert.equal(claims.client_id, app.id);
  assert.equal(accepts[0], 'application/token-introspection+jwt');
  await rejectsWith(verifier.verify('sk-' + '0'.repeat(32)), 'invalid_token');

  // An endpoint that answers in plain JSON (Polar's mount ignores Accept): refused, not taken unsigned.
  const polar = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, introspection: { ...introspection, endpoint: `${server.url}/v1/oauth2/introspect` } });
  await rejectsWith(polar.verify(token), 'introspection_unavailable', /did not sign/);

  // The answer altered on the way (its claims swapped, the signature kept): refused.
  const altering: typeof fetch = async (url, init) => {
    const res = await f.fetch(url, init);
    if (!String(url).endsWith('/oauth2/introspect')) return res;
    const [h, , sig] = (await res.text()).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: ISSUER, aud: app.id, iat: Math.floor(Date.now() / 1000), token_introspection: { active: true, scope: 'read admin' } })).toString('base64url');
    return new Response(`${h}.${forged}.${sig}`, { status: 200, headers: res.headers });
  };
  await rejectsWith(createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: altering, introspection }).verify(token), 'introspection_unavailable', /not signed as expected/);

  // An answer addressed to another client (aud), as a verifier configured with the wrong id would get.
  const other = await server.client({ scopes: ['read'] });
  const swapped: typeof fetch = async (url, init) => {
    if (!String(url).endsWith('/oauth2/introspect')) return f.fetch(url, init);
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Basic ${Buffer.from(`${other.id}:${other.secret}`).toString('base64')}`);
    return f.fetch(url, { ...init, headers });
  };
  await rejectsWith(createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: swapped, introspection }).verify(token), 'introspection_unavailable', /not signed as expected/);

  // A replayed old answer: iat more than maxAnswerAgeSeconds (default 60) before the verifier's now.
  c.advance(120_000);
  await rejectsWith(verifier.verify(token), 'introspection_unavailable', /not signed as expected/);
  const lenient = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, now: c.now, introspection: { ...introspection, maxAnswerAgeSeconds: 300 } });
  assert.equal((await lenient.verify(token)).client_id, app.id);
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createVerifier, VerifyError } from '../../src/verify/index.ts';
import type { TestServer } from '../support/harness.ts';
import { clock, countingFetch, ISSUER, startIssuer } from './fixtures.ts';

const rejects = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => e instanceof VerifyError && e.code === code);

describe('createVerifier against a real Keymint (oauth2 dialect)', () => {
  let server: TestServer;
  let client: { id: string; secret: string };
  before(async () => {
    server = await startIssuer();
    client = await server.client({ scopes: ['payments:read', 'payments:write'] });
  });
  after(() => server.close());
  const token = async (scope = 'payments:read') => String((await server.token(client.id, client.secret, { scope })).access_token);

  test('discovers jwks_uri from RFC 8414 metadata and returns the claims', async () => {
    const f = countingFetch(ISSUER, server.url);
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch });
    const at = await token();
    const claims = await verifier.verify(`Bearer ${at}`);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.client_id, client.id);
    assert.equal(claims.scope, 'payments:read');
    assert.equal(claims.mode, 'live');
    assert.equal(claims.env, 'prod');
    assert.deepEqual(await verifier.verify(at), claims, 'a bare token works as well as a header');
    assert.equal(f.count('/.well-known/oauth-authorization-server'), 1);
    assert.equal(f.count('/oauth2/jwks'), 1);
  });

  test('refuses another audience, another issuer, a missing scope, another mode or environment', async () => {
    const f = countingFetch(ISSUER, server.url);
    const base = { issuer: ISSUER, audience: ISSUER, fetch: f.fetch };
    const at = await token();
    await rejects(createVerifier({ ...base, audience: 'https://other.example' }).verify(at), 'invalid_token');
    await rejects(createVerifier({ ...base, jwksUri: `${ISSUER}/oauth2/jwks`, issuer: 'http://localhost:9999' }).verify(at), 'invalid_token');
    await assert.rejects(createVerifier({ ...base, requiredScopes: ['payments:read', 'payments:write', 'x'] }).verify(at), (e: unknown) => {
      assert.ok(e instanceof VerifyError);
      assert.equal(e.code, 'insufficient_scope');
      assert.deepEqual(e.scopes, ['payments:write', 'x']);
      return true;
    });
    await rejects(createVerifier(base).verify(at, { requiredScopes: ['payments:write'] }), 'insufficient_scope');
    await rejects(createVerifier({ ...base, mode: 'sandbox' }).verify(at), 'invalid_token');
    await rejects(createVerifier({ ...base, environment: 'dev' }).verify(at), 'invalid_token');
    const ok = await createVerifier({ ...base, mode: 'live', environment: 'prod', requiredScopes: ['payments:read'] }).verify(at);
    assert.equal(ok.client_id, client.id);
  });

  test('a token is expired from exp plus the clock tolerance on, not before', async () => {
    const at = await token();
    const c = clock();
    const f = countingFetch(ISSUER, server.url);
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, now: c.now, clockTolerance: 5 });
    const { exp } = await verifier.verify(at);
    c.set((exp! + 5) * 1000 - 1);
    await verifier.verify(at);
    c.set((exp! + 5) * 1000);
    await rejects(verifier.verify(at), 'expired');
  });

  test('a rotated signing key never fails a verification; unknown kids refetch at most once per cooldown', async () => {
    const f = countingFetch(ISSUER, server.url);
    const c = clock();
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, now: c.now, jwksCooldownMs: 30_000 });
    const before = await token();
    await verifier.verify(before);
    assert.equal(f.count('/oauth2/jwks'), 1);
    // One rotation promotes the already-published `next` key: no refetch needed.
    await server.keymint.keyring.rotate();
    const afterOne = await token();
    await verifier.verify(afterOne);
    await verifier.verify(before);
    assert.equal(f.count('/oauth2/jwks'), 1);
    // A second rotation inside the cooldown: the signing key is one the verifier never saw.
    await server.keymint.keyring.rotate();
    const afterTwo = await token();
    c.advance(30_000);
    const storm = await Promise.all(Array.from({ length: 200 }, () => verifier.verify(afterTwo)));
    assert.equal(storm.length, 200);
    assert.equal(f.count('/oauth2/jwks'), 2, 'one refetch for the whole storm');
    await verifier.verify(before);
    await verifier.verify(afterOne);
    // A storm of tokens under a kid nobody publishes: one refetch per cooldown, the rest refused locally.
    const [h, p, s] = afterTwo.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...header, kid: 'rs256-unknown' })).toString('base64url')}.${p}.${s}`;
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => verifier.verify(forged)));
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as VerifyError).code === 'invalid_token'));
    assert.equal(f.count('/oauth2/jwks'), 2, 'still inside the cooldown of the last fetch');
    c.advance(30_000);
    await Promise.allSettled(Array.from({ length: 200 }, () => verifier.verify(forged)));
    assert.equal(f.count('/oauth2/jwks'), 3);
  });

  test('a stale JWKS is refreshed in the background; if the issuer is down the cached keys keep serving', async () => {
    const f = countingFetch(ISSUER, server.url);
    let down = false;
    const flaky = ((input: string, init?: RequestInit) => (down ? Promise.reject(new TypeError('fetch failed')) : f.fetch(input, init))) as typeof fetch;
    const c = clock();
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: flaky, now: c.now, jwksMaxAgeMs: 300_000, jwksCooldownMs: 30_000 });
    const at = await token();
    await verifier.verify(at);
    c.advance(300_001);
    await verifier.verify(at);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(f.count('/oauth2/jwks'), 2, 'one background refresh');
    down = true;
    c.advance(300_001);
    assert.equal((await verifier.verify(at)).client_id, client.id);
    c.advance(30_000);
    assert.equal((await verifier.verify(at)).client_id, client.id);
  });

  test('EdDSA and ES256 tokens verify with the default algorithm list; an excluded one is refused', async () => {
    for (const alg of ['EdDSA', 'ES256']) {
      const s = await startIssuer({ alg });
      try {
        const c = await s.client({ scopes: ['a'] });
        const at = String((await s.token(c.id, c.secret)).access_token);
        const f = countingFetch(ISSUER, s.url);
        assert.equal((await createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch }).verify(at)).client_id, c.id);
        await rejects(createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, algorithms: ['RS256'] }).verify(at), 'invalid_token');
      } finally {
        await s.close();
      }
    }
  });

  test('unreachable metadata or JWKS is jwks_unavailable, not invalid_token', async () => {
    const at = await token();
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await rejects(createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: down }).verify(at), 'jwks_unavailable');
    const notFound = (async () => new Response('no', { status: 404 })) as typeof fetch;
    await rejects(createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: notFound }).verify(at), 'jwks_unavailable');
  });

  test('metadata naming another issuer is refused (RFC 8414 §3.3)', async () => {
    const at = await token();
    const f = countingFetch('http://127.0.0.1:1', server.url);
    // The server says its issuer is ISSUER; a verifier configured with the bound URL must not trust it.
    await rejects(createVerifier({ issuer: server.url, audience: ISSUER, fetch: f.fetch }).verify(at), 'jwks_unavailable');
  });
});

test('construction refuses HS*, none, an empty list and a missing audience', () => {
  for (const alg of ['HS256', 'none', 'HS512']) {
    assert.throws(() => createVerifier({ issuer: ISSUER, audience: ISSUER, algorithms: [alg as 'RS256'] }), TypeError);
  }
  assert.throws(() => createVerifier({ issuer: ISSUER, audience: ISSUER, algorithms: [] }), TypeError);
  assert.throws(() => createVerifier({ issuer: ISSUER, audience: [] }), TypeError);
});

/**
 * The token source against a real Keymint (oauth2 dialect), and both ends together: a small API
 * guarded by `keymint/verify`, called through `authorizedFetch`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authorizedFetch, createTokenSource, TokenSourceError } from '../../src/client/index.ts';
import { createVerifier, protectNode } from '../../src/verify/index.ts';
import type { TestServer } from '../support/harness.ts';
import { clock, countingFetch, ISSUER, startIssuer } from '../verify/fixtures.ts';

let server: TestServer;
let client: { id: string; secret: string };
before(async () => {
  server = await startIssuer();
  client = await server.client({ scopes: ['payments:read'], ttl: 100 });
});
after(() => server.close());
const source = (extra: Parameters<typeof createTokenSource>[0] extends infer O ? Partial<O> : never = {}) => {
  const f = countingFetch(ISSUER, server.url);
  const s = createTokenSource({ tokenUrl: `${server.url}/oauth2/token`, clientId: client.id, clientSecret: client.secret, scope: 'payments:read', fetch: f.fetch, ...extra });
  return { source: s, requests: () => f.count('/oauth2/token') };
};
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

test('1,000 concurrent getToken() calls cause exactly one token request, and the token verifies', async () => {
  const { source: s, requests } = source();
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => s.getToken()));
  assert.equal(requests(), 1);
  assert.equal(new Set(tokens).size, 1);
  const f = countingFetch(ISSUER, server.url);
  const claims = await createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, requiredScopes: ['payments:read'] }).verify(tokens[0]);
  assert.equal(claims.client_id, client.id);
  assert.equal(await s.getToken(), tokens[0], 'cached');
  assert.equal(requests(), 1);
});

test('refreshed at the refresh point (before expiry), never handed out after it can no longer be used', async () => {
  const c = clock();
  let failing = false;
  const f = countingFetch(ISSUER, server.url);
  const flaky = ((input: string, init?: RequestInit) =>
    failing ? Promise.resolve(new Response('{"error":"temporarily_unavailable"}', { status: 503 })) : f.fetch(input, init)) as typeof fetch;
  const s = createTokenSource({
    tokenUrl: `${server.url}/oauth2/token`,
    clientId: client.id,
    clientSecret: client.secret,
    fetch: flaky,
    now: c.now,
    random: () => 1, // full jitter: refresh at (0.8 - 0.1) of the lifetime
    sleep: async () => {},
    maxAttempts: 2,
  });
  const start = c.now();
  const a = await s.getToken();
  assert.equal(claimsOf(a).exp! as number - (claimsOf(a).iat as number), 100);
  c.set(start + 70_000 - 1);
  assert.equal(await s.getToken(), a);
  c.set(start + 70_000);
  const b = await s.getToken();
  assert.notEqual(b, a);
  assert.equal(f.count('/oauth2/token'), 2);
  // Now the endpoint fails: a refresh due before expiry keeps serving b until 10 s before its expiry.
  failing = true;
  const bornB = start + 70_000;
  c.set(bornB + 80_000);
  assert.equal(await s.getToken(), b);
  c.set(bornB + 90_000 - 1);
  assert.equal(await s.getToken(), b);
  c.set(bornB + 90_000);
  await assert.rejects(s.getToken(), (e: unknown) => e instanceof TokenSourceError && e.code === 'unavailable' && e.status === 503);
  c.set(bornB + 100_000 + 1);
  await assert.rejects(s.getToken(), (e: unknown) => e instanceof TokenSourceError && e.code === 'unavailable');
});

test('wrong credentials: invalid_client at once, no retry', async () => {
  const { source: s, requests } = source({ clientSecret: `${client.secret.slice(0, -1)}${client.secret.endsWith('x') ? 'y' : 'x'}` });
  await assert.rejects(s.getToken(), (e: unknown) => {
    assert.ok(e instanceof TokenSourceError);
    assert.equal(e.code, 'invalid_client');
    assert.equal(e.status, 401);
    assert.equal(e.providerCode, 'invalid_client');
    assert.ok(!e.message.includes(client.secret.slice(0, 12)));
    return true;
  });
  assert.equal(requests(), 1);
});

describe('authorizedFetch against an API guarded by keymint/verify', () => {
  let api: Server;
  let apiUrl = '';
  const revoked = new Set<string>();
  let apiCalls = 0;
  before(async () => {
    const f = countingFetch(ISSUER, server.url);
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, revocations: { isRevoked: (jti) => revoked.has(jti) } });
    const guard = protectNode(verifier, { realm: 'api' });
    api = createServer(async (req, res) => {
      apiCalls++;
      const claims = await guard(req, res);
      if (claims) res.end(JSON.stringify({ jti: claims.jti }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => api.close(() => resolve())));

  test('adds the bearer header; on 401 invalidates once and retries once, however many calls see the 401', async () => {
    const { source: s, requests } = source();
    const call = authorizedFetch(s);
    const first = await call(`${apiUrl}/x`);
    assert.equal(first.status, 200);
    const { jti } = (await first.json()) as { jti: string };
    revoked.add(jti);
    apiCalls = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(`${apiUrl}/x`, { method: 'POST', body: 'same body' })));
    assert.deepEqual(answers.map((r) => r.status), Array(20).fill(200));
    const jtis = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as { jti: string }).jti)));
    assert.equal(jtis.size, 1);
    assert.ok(!jtis.has(jti));
    assert.equal(requests(), 2, 'one forced refresh');
    assert.equal(apiCalls, 40, 'each call retried exactly once');
  });

  test('a Request with its own body is replayed with that body', async () => {
    const { source: s } = source();
    const seen: Array<[string | null, string]> = [];
    let calls = 0;
    const api = (async (input: Request, init: RequestInit) => {
      const auth = new Headers(init.headers).get('authorization');
      seen.push([auth, await input.text()]);
      return new Response(null, { status: ++calls === 1 ? 401 : 204 });
    }) as unknown as typeof fetch;
    const res = await authorizedFetch(s, { fetch: api })(new Request(`${apiUrl}/x`, { method: 'POST', body: 'payload' }));
    assert.equal(res.status, 204);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]![1], 'payload');
    assert.equal(seen[1]![1], 'payload');
    assert.notEqual(seen[0]![0], seen[1]![0], 'a fresh token on the retry');
  });

  test('a second 401 goes back to the caller; a stream body is not replayed', async () => {
    const { source: s } = source();
    const call = authorizedFetch(s);
    const always401 = authorizedFetch(s, { fetch: (async () => new Response(null, { status: 401 })) as typeof fetch });
    assert.equal((await always401(`${apiUrl}/x`)).status, 401);
    const t = await s.getToken();
    revoked.add(String(claimsOf(t).jti));
    apiCalls = 0;
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x')), c.close()) });
    const res = await call(`${apiUrl}/x`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 401);
    assert.equal(apiCalls, 1);
  });
});

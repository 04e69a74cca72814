/**
 * pollRevocations against the revocation-feed contract (`GET <url>?after=<cursor>` →
 * `{"revocations":[{"jti","exp"}],"cursor"}`), served by a stub so that pages, cursors, expiry and
 * outages can be set up exactly. Against Keymint's real /oauth2/revocations: live-server.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createVerifier, pollRevocations, VerifyError } from '../../src/verify/index.ts';
import { clock, countingFetch, ISSUER, startIssuer } from './fixtures.ts';
import { stubServer } from './stub.ts';

const server = await startIssuer();
after(() => server.close());
const pages: Array<{ revocations: Array<{ jti: string; exp: number }>; cursor: string }> = [];
const feed = await stubServer((req) => {
  const after = new URL(req.url, 'http://x').searchParams.get('after');
  const index = after === null ? 0 : Number(after);
  const page = pages[index];
  return { status: 200, body: page ?? { revocations: [], cursor: String(index) } };
});
after(() => feed.close());

test('a revoked jti from the feed is refused; the cursor is followed; expired entries are dropped', async () => {
  const client = await server.client({ scopes: ['a'] });
  const token = String((await server.token(client.id, client.secret)).access_token);
  const other = String((await server.token(client.id, client.secret)).access_token);
  const { jti, exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number };
  const c = clock();
  const poller = pollRevocations({ url: `${feed.url}/revocations`, start: false, now: c.now });
  const f = countingFetch(ISSUER, server.url);
  const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, revocations: poller, now: c.now });
  await verifier.verify(token);

  pages.push({ revocations: [{ jti: 'old', exp: 1 }], cursor: '1' }, { revocations: [{ jti, exp }], cursor: '2' });
  await poller.poll();
  assert.deepEqual(
    feed.requests.map((r) => r.url),
    ['/revocations', '/revocations?after=1', '/revocations?after=2'],
    'pages are followed while non-empty',
  );
  assert.equal(poller.size, 1, 'the already-expired entry is dropped');
  await assert.rejects(verifier.verify(token), (e: unknown) => e instanceof VerifyError && e.code === 'revoked');
  assert.equal((await verifier.verify(other)).client_id, client.id);
  assert.equal(poller.lastSuccessAt, c.now());

  await poller.poll();
  assert.equal(feed.requests.at(-1)!.url, '/revocations?after=2');
  c.set(exp * 1000 + 1);
  await poller.poll();
  assert.equal(poller.size, 0, 'kept until exp, then forgotten');
});

test('a failing feed keeps what it knew and reports the error', async () => {
  const errors: unknown[] = [];
  let fail = false;
  const flaky = (async (url: string | URL | Request) => {
    if (fail) throw new TypeError('fetch failed');
    return fetch(url);
  }) as typeof fetch;
  pages.length = 0;
  pages.push({ revocations: [{ jti: 'j9', exp: Math.floor(Date.now() / 1000) + 60 }], cursor: '1' });
  const poller = pollRevocations({ url: `${feed.url}/revocations`, fetch: flaky, onError: (e) => errors.push(e), intervalMs: 60_000 });
  after(() => poller.stop());
  await poller.ready;
  assert.equal(poller.isRevoked('j9'), true);
  const ok = poller.lastSuccessAt;
  fail = true;
  await poller.poll();
  assert.equal(poller.isRevoked('j9'), true);
  assert.equal(errors.length, 1);
  assert.equal(poller.lastSuccessAt, ok);
});

test('on its timer the poller keeps asking from the last cursor', async () => {
  pages.length = 0;
  pages.push({ revocations: [{ jti: 't1', exp: Math.floor(Date.now() / 1000) + 60 }], cursor: '1' });
  const seen: string[] = [];
  let enough: () => void;
  const done = new Promise<void>((resolve) => (enough = resolve));
  const watching = (async (url: string | URL | Request) => {
    seen.push(String(url).replace(feed.url, ''));
    if (seen.length === 4) enough();
    return fetch(url);
  }) as typeof fetch;
  const poller = pollRevocations({ url: `${feed.url}/revocations`, fetch: watching, intervalMs: 5 });
  await done; // event-driven: the fourth request, whenever it comes
  poller.stop();
  assert.deepEqual(seen, ['/revocations', '/revocations?after=1', '/revocations?after=1', '/revocations?after=1']);
  assert.equal(poller.isRevoked('t1'), true);
});

test('clientId/clientSecret become client_secret_basic; `headers` are sent and win', async () => {
  const poller = pollRevocations({ url: `${feed.url}/revocations`, clientId: 'rs:api', clientSecret: 's3cr+t', start: false });
  await poller.poll();
  // each half form-urlencoded first (RFC 6749 §2.3.1): ':' → %3A, '+' → %2B
  assert.equal(feed.requests.at(-1)!.headers.authorization, `Basic ${Buffer.from('rs%3Aapi:s3cr%2Bt').toString('base64')}`);
  const custom = pollRevocations({
    url: `${feed.url}/revocations`,
    clientId: 'rs',
    clientSecret: 's',
    headers: { Authorization: 'Bearer feed-token', 'x-trace': '1' },
    start: false,
  });
  await custom.poll();
  assert.equal(feed.requests.at(-1)!.headers.authorization, 'Bearer feed-token');
  assert.equal(feed.requests.at(-1)!.headers['x-trace'], '1');
  assert.throws(() => pollRevocations({ url: `${feed.url}/revocations`, clientSecret: 's' }), /clientId and clientSecret go together/);
});

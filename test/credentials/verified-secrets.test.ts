/**
 * A secret proven once is not re-checked with the peppered HMAC while the client's record is the
 * same (ClientService.verifySecret keeps proven secrets per record): these check that nothing a
 * full check would refuse gets through that way — a rotated-out secret, an expired overlap, a
 * disabled client, a wrong secret after a right one — on a real server whose client cache keeps
 * records for a minute, so the second request of each pair meets the same record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, startServer, type TestServer } from '../support/harness.ts';

let server: TestServer;
let now = Date.now();
before(async () => {
  server = await startServer({ clientCacheMs: '60000' }, { now: () => now });
});
after(() => server.close());

const status = async (id: string, secret: string) =>
  (await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret) })).status;

test('a proven secret keeps working; a wrong one after it is still refused', async () => {
  const { id, secret } = await server.client();
  assert.equal(await status(id, secret), 200);
  assert.equal(await status(id, secret), 200);
  const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(await status(id, wrong), 401);
  assert.equal(await status(id, secret), 200);
});

test('after a rotation without overlap the old secret is refused at once, though it was proven', async () => {
  const { id, secret } = await server.client();
  assert.equal(await status(id, secret), 200);
  const { clientSecret } = await server.keymint.clients.rotateSecret(id, 0, 'test');
  assert.equal(await status(id, secret), 401);
  assert.equal(await status(id, clientSecret), 200);
});

test('an old secret proven during its overlap is refused once the overlap ends', async () => {
  const { id, secret } = await server.client();
  const { clientSecret } = await server.keymint.clients.rotateSecret(id, 2, 'test');
  assert.equal(await status(id, secret), 200, 'within the overlap');
  assert.equal(await status(id, secret), 200, 'proven, same record');
  now += 3000; // past the overlap, within the client cache's lifetime: the same record
  assert.equal(await status(id, secret), 401);
  assert.equal(await status(id, clientSecret), 200);
});

test('a disabled client is refused with a proven secret; enabled again, it authenticates', async () => {
  const { id, secret } = await server.client();
  assert.equal(await status(id, secret), 200);
  await server.keymint.clients.setStatus(id, 'disabled', 'test');
  assert.equal(await status(id, secret), 401);
  await server.keymint.clients.setStatus(id, 'active', 'test');
  assert.equal(await status(id, secret), 200);
});

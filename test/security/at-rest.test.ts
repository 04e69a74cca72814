/** SECURITY S-01, S-06, D-01, D-02: nothing secret at rest or in logs; outages answer 503 + Retry-After. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UnavailableError } from '../../src/wire/errors.ts';
import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { basic, startServer } from '../support/harness.ts';

test('S-01 D-01 the data directory holds digests (kid:hex), never a client secret or a private key in clear', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const secrets: string[] = [];
  for (let i = 0; i < 5; i++) secrets.push((await server.client()).secret);
  const stored = (await server.keymint.store.clients.list()).flatMap((c) => c.secrets);
  for (const s of stored) {
    assert.match(s.pepperKid, /^p[0-9A-Za-z]{7}$/);
    assert.match(s.digest, /^[0-9a-f]{64}$/);
  }
  await server.keymint.store.close(); // flush WAL into the files we read
  const bytes = Buffer.concat(readdirSync(server.dataDir).map((f) => readFileSync(join(server.dataDir, f))));
  for (const secret of secrets) assert.equal(bytes.indexOf(secret), -1);
  assert.equal(bytes.indexOf('BEGIN PRIVATE KEY'), -1);
  assert.equal(bytes.indexOf('"d":"'), -1, 'no private JWK member');
});

test('D-02 a store outage answers 503 with Retry-After in the dialect shape, never 500; readyz says unavailable', async (t) => {
  const store = createMemoryStore();
  const server = await startServer({}, { store });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  store.clients.get = async () => {
    throw new UnavailableError('database unreachable');
  };
  const res = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' });
  store.keys.version = async () => {
    throw new UnavailableError('database unreachable');
  };
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.headers.get('retry-after'), '1');
});

test('an unexpected failure is a generic 500 server_error with no detail', async (t) => {
  const store = createMemoryStore();
  const server = await startServer({}, { store });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  store.clients.get = async () => {
    throw new TypeError(`boom with ${secret}`);
  };
  const res = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.equal(text, '{"error":"server_error","error_description":"An internal error occurred."}');
});

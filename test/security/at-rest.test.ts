/** SECURITY S-01, S-06, D-01, D-02: nothing secret at rest or in logs; outages answer 503 + Retry-After. */
import assert from 'node:assert/strict';
import { fdatasync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { UnavailableError } from '../../src/wire/errors.ts';
import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { createLogger } from '../../src/util/log.ts';
import { basic, startServer, tempDir } from '../support/harness.ts';

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

test('D-02 after an fsync of the SQLite log fails, every write is a 503 until a restart, readyz says unavailable, and the log says why once', async (t) => {
  let failing = false;
  const dir = tempDir();
  const store = openSqliteStore({
    dir,
    fdatasync: async (fd) => {
      if (failing) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      await promisify(fdatasync)(fd);
    },
  });
  const lines: string[] = [];
  const server = await startServer({ dataDir: dir }, { store, log: createLogger('info', (line) => lines.push(line)) });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  const { access_token: token } = await server.token(id, secret);
  failing = true;
  const revoke = () => server.postForm('/oauth2/revoke', { token: String(token) }, { authorization: basic(id, secret) });
  for (let i = 0; i < 2; i++) {
    const res = await revoke();
    assert.equal(res.status, 503, `revocation #${i + 1}`);
    assert.equal(res.headers.get('retry-after'), '1');
  }
  await assert.rejects(server.keymint.clients.create({ name: 'later' }, 'test'), UnavailableError);
  assert.equal((await server.keymint.clients.list()).length, 1, 'the refused create wrote nothing');
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 503);
  const errors = lines.filter((l) => l.includes('could not make commits durable'));
  assert.equal(errors.length, 1, 'said once');
  assert.match(errors[0]!, /restarted/);
  assert.ok(!lines.join('').includes(secret));
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

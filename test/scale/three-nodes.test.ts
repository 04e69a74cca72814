/**
 * Three nodes on one PostgreSQL schema and one Redis behave as one service. Cache lifetimes and
 * keyring polling are set to an hour, so only the Redis feed can make a change reach the other nodes.
 * The waits below are hang guards, not timing assertions (the machine may be busy); the observed
 * propagation times are reported as diagnostics (typically a few ms against the documented 1 s).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { loadConfig } from '../../src/config/index.ts';
import { createKeymint } from '../../src/service.ts';
import { seedRefreshToken } from '../grants/support.ts';
import { cluster, eventually } from '../support/cluster.ts';
import { basic } from '../support/harness.ts';
import { DATABASE_URL, needService } from '../support/services.ts';

/** Hang guard: far above the documented 1 s bound, so a busy machine cannot fail the test. */
const GUARD_MS = 15_000;

test('three nodes: clients, key rotation and disabling reach every node through the feed', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster({ clientCacheMs: '3600000', keyringRefreshMs: '3600000' });
  t.after(() => c.close());
  const a = await c.start();
  const b = await c.start();
  const d = await c.start();
  const nodes = [a, b, d];

  // A client created through one node authenticates at every other.
  const { client, clientSecret } = await a.keymint.clients.create({ name: 'shared' }, 'test');
  const secret = clientSecret!;
  for (const n of nodes) assert.equal((await n.token(client.client_id, secret)).status, 200);

  // Keys rotated on one node are published and used by all.
  const kidOf = async (n: (typeof nodes)[number]) => {
    const res = await n.token(client.client_id, secret);
    return decodeProtectedHeader(String(((await res.json()) as { access_token: string }).access_token)).kid;
  };
  const before = await kidOf(b);
  await a.keymint.keyring.rotate();
  const after = await kidOf(a);
  assert.notEqual(after, before);
  const rotatedAt = performance.now();
  for (const n of [b, d]) {
    assert.ok(await eventually(async () => (await kidOf(n)) === after, GUARD_MS), 'rotated key used by every node');
    t.diagnostic(`rotated key in use on another node after ${Math.round(performance.now() - rotatedAt)} ms`);
    const jwks = (await (await fetch(`${n.url}/oauth2/jwks`)).json()) as { keys: Array<{ kid: string }> };
    assert.ok(jwks.keys.some((k) => k.kid === after));
  }

  // A client disabled on one node is refused by all (they had it cached).
  await b.keymint.clients.setStatus(client.client_id, 'disabled', 'test');
  const disabledAt = performance.now();
  for (const n of nodes) {
    assert.ok(await eventually(async () => (await n.token(client.client_id, secret)).status === 401, GUARD_MS), 'disabled everywhere');
  }
  t.diagnostic(`disabled client refused by every node after ${Math.round(performance.now() - disabledAt)} ms`);

  // The audit trail holds the life-cycle events, in PostgreSQL.
  const actions = (await a.keymint.store.audit.list(10)).map((e) => e.action);
  assert.ok(actions.includes('client.create') && actions.includes('client.disable'));
});

test('shared limits: a per-client limit holds across nodes (counters in Redis)', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster({ rateLimitClient: '4' });
  t.after(() => c.close());
  const a = await c.start();
  const b = await c.start();
  const { client, clientSecret } = await a.keymint.clients.create({ name: 'limited' }, 'test');
  const started = Date.now();
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await (i % 2 === 0 ? a : b).token(client.client_id, clientSecret!)).status);
  // The bucket refills at 4 a minute: one more 200 for every 15 s the six requests took (none, unless
  // a loaded machine stretched them; then [200 ×4, 429 ×2] would fail for the refill, not the sharing).
  const refilled = Math.floor(((Date.now() - started) * 4) / 60_000);
  assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
  assert.ok(statuses.every((s) => s === 200 || s === 429), JSON.stringify(statuses));
  assert.ok(statuses.filter((s) => s === 200).length <= 4 + refilled, JSON.stringify(statuses));
  assert.ok(statuses.includes(429), JSON.stringify(statuses));
});

test('V-10 revocations published on one node reach the feed subscribers of every node', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster();
  t.after(() => c.close());
  const a = await c.start();
  const b = await c.start();
  const seen: string[] = [];
  b.keymint.feed.subscribe((event) => {
    if (event.type === 'revocation' && event.jti !== undefined) seen.push(event.jti);
  });
  await a.keymint.feed.publish({ type: 'revocation', jti: 'jti-123', expiresAt: Date.now() + 60_000 });
  assert.ok(await eventually(async () => seen.includes('jti-123'), GUARD_MS));
});

test('a node with another KEK refuses to start, naming the KEK', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster();
  t.after(() => c.close());
  await c.start();
  const config = loadConfig(
    { port: '0', logLevel: 'silent', databaseUrl: DATABASE_URL, databaseSchema: c.schema, redisUrl: undefined, dataDir: ':memory:' },
    { KEYMINT_KEK: randomBytes(32).toString('base64') },
  );
  await assert.rejects(createKeymint(config), /config kek: .*same KEYMINT_KEK/);
});

test('RT-05 a refresh token used at once through three nodes rotates exactly once', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster({ issuer: 'http://localhost:8080' });
  t.after(() => c.close());
  const nodes = [await c.start(), await c.start(), await c.start()];
  const { client, clientSecret } = await nodes[0]!.keymint.clients.create(
    { name: 'app', grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'] },
    'test',
  );
  const { token } = await seedRefreshToken(nodes[0]!, client.client_id, { scope: 'read' });
  const responses = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      fetch(`${nodes[i % 3]!.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, clientSecret!) },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      }),
    ),
  );
  const statuses = await Promise.all(responses.map(async (r) => (await r.arrayBuffer(), r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 400).length, 29, JSON.stringify(statuses));
});

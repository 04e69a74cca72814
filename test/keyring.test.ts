/** Signing-key life cycle: next → active → retired → removed, sealed at rest, shared across processes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createMemoryStore } from '../src/storage/memory/index.ts';
import { openSqliteStore } from '../src/storage/sqlite/index.ts';
import { Keyring } from '../src/tokens/keyring.ts';
import { seal, unseal } from '../src/tokens/seal.ts';
import { readFileSync } from 'node:fs';
import { startServer } from './support/harness.ts';

const HOUR = 3600_000;
const open = (store = createMemoryStore(), now = () => 0, kek = randomBytes(32)) =>
  Keyring.open(store.keys, { kek, algs: ['RS256'], maxTokenTtl: 3600, now }).then((ring) => ({ ring, store, kek }));

test('first start: one active and one published next key per algorithm, and one pepper', async () => {
  const { ring } = await open();
  const keys = ring.describe();
  assert.deepEqual(keys.filter((k) => k.use === 'sig').map((k) => k.state).sort(), ['active', 'next']);
  assert.equal(keys.filter((k) => k.use === 'hmac').length, 1);
  assert.equal((JSON.parse(ring.jwksJson()) as JSONWebKeySet).keys.length, 2);
});

test('rotation promotes the key that was already published, and keeps the retired one published until its tokens expire', async () => {
  let now = 1_000 * HOUR;
  const { ring } = await open(createMemoryStore(), () => now);
  const before = ring.describe().filter((k) => k.use === 'sig');
  const next = before.find((k) => k.state === 'next')!;
  const active = before.find((k) => k.state === 'active')!;
  await ring.rotate();
  assert.equal(ring.signer('RS256').kid, next.kid, 'the published next key signs now');
  const published = () => (JSON.parse(ring.jwksJson()) as JSONWebKeySet).keys.map((k) => k.kid);
  assert.ok(published().includes(active.kid), 'the retired key is still published');
  assert.equal(published().length, 3, 'retired + active + new next');
  const kids = published().map(String);
  assert.deepEqual(kids, [...kids].sort(), 'the document lists its keys in kid order (code units), whatever the store returned');
  const retired = ring.describe().find((k) => k.kid === active.kid)!;
  assert.equal(retired.state, 'retired');
  assert.equal(retired.publishUntil, now + 3600_000 + 5 * 60_000);
  now += 2 * HOUR; // past every token the retired key signed
  await ring.rotate();
  assert.ok(!published().includes(active.kid), 'removed once every token it signed has expired');
});

test('rotation generates its RSA pairs off the event loop: the loop keeps turning while they are made', async () => {
  for (const next of [true, false]) {
    const store = createMemoryStore();
    const ring = await Keyring.open(store.keys, { kek: randomBytes(32), algs: ['RS256'], maxTokenTtl: 3600, next });
    // On the memory store the rest of a rotation is promises alone: an immediate runs during it only
    // if the key generation waited for the thread pool (generateKeyPairSync would hold the loop and
    // the rotation would end before the first immediate).
    let turns = 0;
    let rotating = true;
    const turn = () => {
      turns++;
      if (rotating) setImmediate(turn);
    };
    setImmediate(turn);
    await ring.rotate();
    rotating = false;
    assert.ok(turns > 0, `next: ${next}: the event loop did not turn during the rotation`);
    const sig = ring.describe().filter((k) => k.use === 'sig');
    assert.deepEqual(sig.map((k) => k.state).sort(), ['active', 'next', 'retired']);
    assert.equal(ring.signer('RS256').kid, sig.find((k) => k.state === 'active')!.kid);
  }
});

test('private key material is sealed at rest and bound to its row', async () => {
  const { store, kek } = await open();
  const records = await store.keys.list();
  for (const r of records) {
    assert.match(r.sealed, /^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.ok(!r.sealed.includes('PRIVATE'));
  }
  // A sealed blob moved onto another row does not open there: that row is refused, the rest serve.
  const [a, b] = records.filter((r) => r.use === 'sig');
  await store.keys.mutate(() => ({ put: [{ ...a!, sealed: b!.sealed }], remove: [] }));
  const reopened = await Keyring.open(store.keys, { kek, algs: ['RS256'], maxTokenTtl: 3600 });
  assert.ok(!reopened.describe().some((k) => k.kid === a!.kid));
  assert.ok(!reopened.jwksJson().includes(a!.kid));
  // Under another KEK nothing opens: that is a configuration error, not a row to skip.
  const fresh = await open();
  await assert.rejects(Keyring.open(fresh.store.keys, { kek: randomBytes(32), algs: ['RS256'], maxTokenTtl: 3600 }), /unable to authenticate data/);
});

test('a token signed before a rotation still verifies after it, and a server picks up a rotation made elsewhere', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', keyringRefreshMs: '100' });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  const old = String((await server.token(id, secret)).access_token);
  // Another process (the CLI) rotates through its own connection and Keyring on the same data.
  const otherStore = openSqliteStore({ dir: server.dataDir });
  t.after(() => otherStore.close());
  const other = await Keyring.open(otherStore.keys, { kek: readKek(server.dataDir), algs: ['RS256'], maxTokenTtl: 86400 });
  const expected = other.describe().find((k) => k.use === 'sig' && k.state === 'next')!.kid;
  await other.rotate();
  // The server's own refresh (every 100 ms here) may have seen the rotation already, while the
  // rotation's commit waited for its fsync: then this one finds nothing new. Either way the next
  // token is signed with the rotated key.
  await server.keymint.keyring.refresh();
  const fresh = String((await server.token(id, secret)).access_token);
  assert.equal(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid, expected);
  const jwks = createLocalJWKSet((await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
  for (const token of [old, fresh]) await jwtVerify(token, jwks, { issuer: 'http://localhost:8080' });
});

test('pepper rotation: secrets made under the old pepper still verify; new ones use the new pepper (D-01)', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const before = await server.client();
  const oldKid = server.keymint.keyring.pepper().kid;
  await server.keymint.keyring.rotate({ algs: [], pepper: true });
  const after = await server.client();
  assert.notEqual(server.keymint.keyring.pepper().kid, oldKid);
  for (const c of [before, after]) assert.equal(typeof (await server.token(c.id, c.secret)).access_token, 'string');
  const stored = (await server.keymint.store.clients.get(after.id))!.secrets[0]!;
  assert.equal(stored.pepperKid, server.keymint.keyring.pepper().kid);
  assert.match(stored.digest, /^[0-9a-f]{64}$/);
});

function readKek(dir: string): Buffer {
  return Buffer.from(readFileSync(`${dir}/kek`, 'utf8'), 'base64');
}


test('rows sealed in the v1 form (bound to the kid alone) still load, and their use and alg are checked against the material', async () => {
  const { store, kek, ring } = await open();
  const binding = (k: { kid: string; use: string; alg: string }) => `keymint-key:${k.use}:${k.alg}:${k.kid}`;
  const v1 = (k: Awaited<ReturnType<typeof store.keys.list>>[number]) => ({
    ...k,
    sealed: seal(kek, unseal(kek, k.sealed, binding(k)), k.kid).replace(/^v2\./, 'v1.'),
  });
  const records = await store.keys.list();
  await store.keys.mutate(() => ({ put: records.map(v1), remove: [] }));
  const legacy = await Keyring.open(store.keys, { kek, algs: ['RS256'], maxTokenTtl: 3600 });
  assert.equal(legacy.jwksJson(), ring.jwksJson());
  assert.equal(legacy.pepper().kid, ring.pepper().kid);
  // A v1 RSA row re-labelled as EdDSA opens (its AAD is only the kid) but does not fit the label.
  const next = (await store.keys.list()).find((k) => k.use === 'sig' && k.state === 'next')!;
  await store.keys.mutate(() => ({ put: [{ ...next, alg: 'EdDSA' }], remove: [] }));
  const relabelled = await Keyring.open(store.keys, { kek, algs: ['RS256'], maxTokenTtl: 3600 });
  assert.ok(!relabelled.jwksJson().includes(next.kid));
});

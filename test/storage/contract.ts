/**
 * The storage contract, run unchanged against every backend (memory, SQLite, PostgreSQL): what each
 * method of `src/storage/types.ts` promises, including atomicity under concurrency.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ConflictError, type ClientRecord, type KeyRecord, type Store, type TokenRecord } from '../../src/storage/types.ts';

/** Builds a fresh, empty store for one test and returns it with its cleanup; undefined = skipped. */
export type MakeStore = (t: TestContext) => Promise<Store | undefined>;

export const clientRecord = (id: string, over: Partial<ClientRecord> = {}): ClientRecord => ({
  id,
  name: 'contract',
  mode: 'live',
  environment: 'prod',
  type: 'confidential',
  status: 'active',
  grants: ['client_credentials'],
  scopes: ['a', 'b'],
  audiences: [],
  dialects: [],
  redirectUris: [],
  trusted: false,
  accessTokenTtl: null,
  secrets: [{ id: 'sec_1', pepperKid: 'p1', digest: 'ab'.repeat(32), createdAt: 1, expiresAt: null, lastUsedAt: null }],
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

const keyRecord = (kid: string, over: Partial<KeyRecord> = {}): KeyRecord => ({
  kid,
  use: 'sig',
  alg: 'RS256',
  state: 'next',
  publicJwk: '{"kty":"RSA"}',
  sealed: 'sealed',
  createdAt: 1,
  activatedAt: null,
  retiredAt: null,
  publishUntil: null,
  ...over,
});

const tokenRecord = (digest: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
  digest,
  kind: 'refresh_token',
  clientId: 'c1',
  subject: 's',
  scope: 'a b',
  audience: ['https://api.example'],
  issuedAt: 1000,
  expiresAt: 5000,
  revokedAt: null,
  familyId: 'fam1',
  jti: `j-${digest}`,
  ...over,
});

export function runStoreContract(name: string, makeStore: MakeStore): void {
  const withStore = (title: string, fn: (store: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async (t) => {
      const store = await makeStore(t);
      if (!store) return;
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore('clients: insert, get, list, duplicate id conflicts', async (store) => {
    await store.clients.insert(clientRecord('c2'));
    await store.clients.insert(clientRecord('c1'));
    assert.deepEqual(await store.clients.get('c1'), clientRecord('c1'));
    assert.equal(await store.clients.get('nope'), undefined);
    assert.deepEqual((await store.clients.list()).map((c) => c.id).sort(), ['c1', 'c2']);
    await assert.rejects(store.clients.insert(clientRecord('c1', { name: 'other' })), ConflictError);
    assert.equal((await store.clients.get('c1'))?.name, 'contract');
  });

  withStore('clients: update returns the stored result; missing → undefined; a throwing change writes nothing', async (store) => {
    await store.clients.insert(clientRecord('c1'));
    const next = await store.clients.update('c1', (c) => ({ ...c, status: 'disabled', updatedAt: 2000 }));
    assert.equal(next?.status, 'disabled');
    assert.deepEqual(await store.clients.get('c1'), clientRecord('c1', { status: 'disabled', updatedAt: 2000 }));
    assert.equal(await store.clients.update('missing', (c) => c), undefined);
    await assert.rejects(
      store.clients.update('c1', () => {
        throw new RangeError('no');
      }),
      RangeError,
    );
    assert.equal((await store.clients.get('c1'))?.status, 'disabled');
  });

  withStore('clients: 50 concurrent updates lose nothing', async (store) => {
    await store.clients.insert(clientRecord('c1', { accessTokenTtl: 0 }));
    await Promise.all(
      Array.from({ length: 50 }, () => store.clients.update('c1', (c) => ({ ...c, accessTokenTtl: (c.accessTokenTtl ?? 0) + 1 }))),
    );
    assert.equal((await store.clients.get('c1'))?.accessTokenTtl, 50);
  });

  withStore('clients: delete, touchSecret', async (store) => {
    await store.clients.insert(clientRecord('c1'));
    await store.clients.touchSecret('c1', 'sec_1', 4242);
    await store.clients.touchSecret('missing', 'sec_1', 4242);
    assert.equal((await store.clients.get('c1'))?.secrets[0]?.lastUsedAt, 4242);
    assert.equal(await store.clients.delete('c1'), true);
    assert.equal(await store.clients.delete('c1'), false);
    assert.equal(await store.clients.get('c1'), undefined);
  });

  withStore('keys: mutate upserts and removes, version changes only on change', async (store) => {
    const v0 = await store.keys.version();
    const none = await store.keys.mutate(() => ({ put: [], remove: [] }));
    assert.deepEqual(none, []);
    assert.equal(await store.keys.version(), v0);
    await store.keys.mutate(() => ({ put: [keyRecord('k1'), keyRecord('k2')], remove: [] }));
    const v1 = await store.keys.version();
    assert.notEqual(v1, v0);
    const after = await store.keys.mutate((keys) => {
      assert.deepEqual(keys.map((k) => k.kid).sort(), ['k1', 'k2']);
      return { put: [keyRecord('k1', { state: 'active', activatedAt: 5 })], remove: ['k2'] };
    });
    assert.deepEqual(after, [keyRecord('k1', { state: 'active', activatedAt: 5 })]);
    assert.deepEqual(await store.keys.list(), after);
    assert.notEqual(await store.keys.version(), v1);
  });

  withStore('keys: concurrent mutations serialise (each sees the previous one)', async (store) => {
    await store.keys.mutate(() => ({ put: [keyRecord('k0')], remove: [] }));
    // Each mutation adds one key named after how many it saw: serialised → k0..k20 all present.
    await Promise.all(
      Array.from({ length: 20 }, () => store.keys.mutate((keys) => ({ put: [keyRecord(`k${keys.length}`)], remove: [] }))),
    );
    const kids = (await store.keys.list()).map((k) => k.kid).sort();
    assert.deepEqual(kids, Array.from({ length: 21 }, (_, i) => `k${i}`).sort());
  });

  withStore('tokens: insert, find by candidate digests, duplicate rejects', async (store) => {
    await store.tokens.insert(tokenRecord('p1:aa'));
    assert.deepEqual(await store.tokens.find(['p2:aa', 'p1:aa']), tokenRecord('p1:aa'));
    assert.equal(await store.tokens.find(['p9:zz']), undefined);
    assert.equal(await store.tokens.find([]), undefined);
    await assert.rejects(store.tokens.insert(tokenRecord('p1:aa')));
  });

  withStore('tokens: revoke is single-use under concurrency; revokeFamily; purgeExpired', async (store) => {
    await store.tokens.insert(tokenRecord('d1'));
    await store.tokens.insert(tokenRecord('d2'));
    await store.tokens.insert(tokenRecord('d3', { familyId: 'other', expiresAt: 100 }));
    const wins = await Promise.all(Array.from({ length: 20 }, () => store.tokens.revoke('d1', 777)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await store.tokens.find(['d1']))?.revokedAt, 777);
    assert.equal(await store.tokens.revoke('missing', 1), false);
    assert.equal(await store.tokens.revokeFamily('fam1', 888), 1);
    assert.equal((await store.tokens.find(['d2']))?.revokedAt, 888);
    assert.equal(await store.tokens.revokeFamily('fam1', 999), 0);
    assert.equal(await store.tokens.purgeExpired(1000), 1);
    assert.equal(await store.tokens.find(['d3']), undefined);
  });

  withStore('audit: append and list newest first', async (store) => {
    for (let i = 0; i < 3; i++) {
      await store.audit.append({ at: 1000 + i, actor: 'cli', action: `a${i}`, target: 't', detail: { n: i, ok: true, none: null } });
    }
    const events = await store.audit.list(2);
    assert.deepEqual(events.map((e) => e.action), ['a2', 'a1']);
    assert.deepEqual(events[0], { at: 1002, actor: 'cli', action: 'a2', target: 't', detail: { n: 2, ok: true, none: null } });
  });
}

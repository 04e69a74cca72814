import assert from 'node:assert/strict';
import type { StoreTest } from './index.ts';
import { keyRecord } from './records.ts';

export function keysContract(test: StoreTest): void {
  test('mutate upserts and removes; the version changes only on change', async (store) => {
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

  test('concurrent mutations serialise (each sees the previous one)', async (store) => {
    await store.keys.mutate(() => ({ put: [keyRecord('k0')], remove: [] }));
    // Each mutation adds one key named after how many it saw: serialised → k0..k20 all present.
    await Promise.all(
      Array.from({ length: 20 }, () => store.keys.mutate((keys) => ({ put: [keyRecord(`k${keys.length}`)], remove: [] }))),
    );
    const kids = (await store.keys.list()).map((k) => k.kid).sort();
    assert.deepEqual(kids, Array.from({ length: 21 }, (_, i) => `k${i}`).sort());
  });
}

import assert from 'node:assert/strict';
import { ConflictError } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { clientRecord } from './records.ts';

export function clientsContract(test: StoreTest): void {
  test('insert, get, list; a duplicate id conflicts', async (store) => {
    await store.clients.insert(clientRecord('c2'));
    await store.clients.insert(clientRecord('c1'));
    assert.deepEqual(await store.clients.get('c1'), clientRecord('c1'));
    assert.equal(await store.clients.get('nope'), undefined);
    assert.deepEqual((await store.clients.list()).map((c) => c.id).sort(), ['c1', 'c2']);
    await assert.rejects(store.clients.insert(clientRecord('c1', { name: 'other' })), ConflictError);
    assert.equal((await store.clients.get('c1'))?.name, 'contract');
  });

  test('update returns the stored result; missing → undefined; a throwing change writes nothing', async (store) => {
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

  test('50 concurrent updates lose nothing', async (store) => {
    await store.clients.insert(clientRecord('c1', { accessTokenTtl: 0 }));
    await Promise.all(
      Array.from({ length: 50 }, () => store.clients.update('c1', (c) => ({ ...c, accessTokenTtl: (c.accessTokenTtl ?? 0) + 1 }))),
    );
    assert.equal((await store.clients.get('c1'))?.accessTokenTtl, 50);
  });

  test('delete, touchSecret', async (store) => {
    await store.clients.insert(clientRecord('c1'));
    await store.clients.touchSecret('c1', 'sec_1', 4242);
    await store.clients.touchSecret('missing', 'sec_1', 4242);
    assert.equal((await store.clients.get('c1'))?.secrets[0]?.lastUsedAt, 4242);
    assert.equal(await store.clients.delete('c1'), true);
    assert.equal(await store.clients.delete('c1'), false);
    assert.equal(await store.clients.get('c1'), undefined);
  });
}

import assert from 'node:assert/strict';
import { ConflictError, type PushedRequestRecord } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';

export const pushedRecord = (digest: string, over: Partial<PushedRequestRecord> = {}): PushedRequestRecord => ({
  digest,
  clientId: 'sk_test_client',
  params: { response_type: 'code', redirect_uri: 'https://app.example/cb', scope: 'openid read', state: 's t', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
  issuedAt: 1_000,
  arriveBy: 61_000,
  expiresAt: 661_000,
  consumedAt: null,
  ...over,
});

export function pushedRequestsContract(test: StoreTest): void {
  test('PAR-03 a pushed request is stored by digest with its parameters, and used exactly once, even when raced', async (s) => {
    await s.pushedRequests.insert(pushedRecord('p1:r'));
    await assert.rejects(s.pushedRequests.insert(pushedRecord('p1:r')), ConflictError);
    assert.deepEqual(await s.pushedRequests.find(['p0:none', 'p1:r']), pushedRecord('p1:r'));
    const wins = await Promise.all(Array.from({ length: 50 }, () => s.pushedRequests.consume('p1:r', 5_000)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await s.pushedRequests.find(['p1:r']))?.consumedAt, 5_000);
    assert.equal(await s.pushedRequests.consume('p1:r', 6_000), false, 'used');
    assert.equal(await s.pushedRequests.consume('p1:unknown', 5_000), false, 'unknown');
  });

  test('PAR-03 a pushed request past its expiresAt cannot be used', async (s) => {
    await s.pushedRequests.insert(pushedRecord('p1:old'));
    assert.equal(await s.pushedRequests.consume('p1:old', 661_000), false, 'expired at expiresAt');
    assert.equal((await s.pushedRequests.find(['p1:old']))?.consumedAt, null);
    assert.equal(await s.pushedRequests.consume('p1:old', 660_999), true, 'just before');
  });

  test('GROW-01 pushed requests are purged once expired, used or not', async (s) => {
    await s.pushedRequests.insert(pushedRecord('p1:a', { expiresAt: 500 }));
    await s.pushedRequests.insert(pushedRecord('p1:b', { expiresAt: 600, consumedAt: 100 }));
    await s.pushedRequests.insert(pushedRecord('p1:c', { expiresAt: 5_000 }));
    const removed = await s.purge.exclusive((batch) => batch('pushed_requests', 1_000, 10));
    assert.equal(removed, 2);
    assert.equal(await s.pushedRequests.find(['p1:a']), undefined);
    assert.equal(await s.pushedRequests.find(['p1:b']), undefined);
    assert.ok(await s.pushedRequests.find(['p1:c']));
  });
}

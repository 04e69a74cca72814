import assert from 'node:assert/strict';
import type { StoreTest } from './index.ts';

export function replaysContract(test: StoreTest): void {
  test('claim is won exactly once while the record lives, even when raced; expired records are claimable again', async (s) => {
    const wins = await Promise.all(Array.from({ length: 50 }, () => s.replays.claim('dpop:a', 2_000, 1_000)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal(await s.replays.claim('dpop:a', 2_000, 1_999), false, 'live until its expiry');
    assert.equal(await s.replays.claim('pkjwt:b', 2_000, 1_000), true, 'another key');
    assert.equal(await s.replays.claim('dpop:a', 5_000, 2_000), true, 'expired: a new claim wins');
    assert.equal(await s.replays.claim('dpop:a', 5_000, 3_000), false);
  });
}

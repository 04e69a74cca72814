import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PURGE_SPREAD, startPurger, type PurgerOptions, type PurgeSettings } from '../../src/storage/purger.ts';
import type { PurgeRepo } from '../../src/storage/types.ts';

/**
 * A purger over a store whose `tokens` table holds `backlog` expired rows and whose every batch takes
 * `batchMs` on a fake clock; `pauses` records each pause the pass asks for, in ms. No schedule runs
 * (the tests call `run`), but `purgeIntervalMs` still sets the spread.
 */
function fakePurger(settings: Partial<PurgeSettings> & { backlog: number; batchMs: number; maxBatch?: number }, more: Partial<PurgerOptions> = {}) {
  let now = 0;
  let left = settings.backlog;
  const batches: number[] = [];
  const pauses: number[] = [];
  const repo: PurgeRepo = {
    ...(settings.maxBatch ? { maxBatch: settings.maxBatch } : {}),
    exclusive: (pass) =>
      pass(async (table, _before, limit) => {
        if (table !== 'tokens') return 0;
        now += settings.batchMs;
        const n = Math.min(limit, left);
        left -= n;
        batches.push(n);
        return n;
      }),
  };
  const purger = startPurger(repo, { purgeIntervalMs: 0, purgeBatchSize: 1000, purgeMaxBatches: 100, purgeGrace: 0, ...settings }, {
    now: () => 1_000_000,
    onReport: () => {},
    onError: (err) => assert.fail(String(err)),
    clock: () => now,
    sleep: async (ms) => {
      pauses.push(ms);
      now += ms;
    },
    ...more,
  });
  return { purger, batches, pauses, elapsed: () => now };
}

test('GROW-01 a scheduled pass of a backlog spreads its batches over three quarters of the purge interval, removing as many rows as a burst would', async () => {
  const { purger, batches, pauses, elapsed } = fakePurger({ purgeIntervalMs: 60_000, purgeBatchSize: 1000, purgeMaxBatches: 100, backlog: 1_000_000, batchMs: 40 });
  const report = await purger.run();
  assert.equal(report.rows.tokens, 100_000);
  assert.equal(report.behind, true);
  assert.equal(batches.length, 100);
  // Each batch's share of the spread is 60 s × 0.75 / 100 = 450 ms: 40 ms deleting, 410 ms paused.
  assert.equal(PURGE_SPREAD, 0.75);
  assert.deepEqual(new Set(pauses), new Set([410]));
  assert.equal(pauses.length, 99); // between batches: none after the last one
  assert.equal(elapsed(), 100 * 450 - 410);
});

test('GROW-01 a store that caps its batches (SQLite) spreads its more, smaller batches over the same share of the interval', async () => {
  const { purger, batches, pauses, elapsed } = fakePurger({ purgeIntervalMs: 60_000, purgeBatchSize: 1000, purgeMaxBatches: 100, maxBatch: 100, backlog: 1_000_000, batchMs: 5 });
  const report = await purger.run();
  assert.equal(report.rows.tokens, 100_000);
  assert.equal(batches.length, 1000);
  assert.deepEqual(new Set(pauses), new Set([40])); // 45 ms each: 5 deleting, 40 paused
  assert.equal(elapsed(), 1000 * 45 - 40);
});

test('GROW-01 without a schedule, or when batches take longer than their share, a pass pauses as long as each batch took', async () => {
  const unscheduled = fakePurger({ purgeIntervalMs: 0, purgeBatchSize: 10, purgeMaxBatches: 5, backlog: 1000, batchMs: 30 });
  await unscheduled.purger.run();
  assert.deepEqual(unscheduled.pauses, [30, 30, 30, 30]);
  const slow = fakePurger({ purgeIntervalMs: 1000, purgeBatchSize: 10, purgeMaxBatches: 5, backlog: 1000, batchMs: 300 });
  await slow.purger.run();
  assert.deepEqual(slow.pauses, [300, 300, 300, 300]);
});

test('GROW-01 a pass with nothing left to purge ends without pausing', async () => {
  const { purger, batches, pauses } = fakePurger({ purgeIntervalMs: 60_000, backlog: 999, batchMs: 40 });
  const report = await purger.run();
  assert.equal(report.rows.tokens, 999);
  assert.equal(report.behind, false);
  assert.deepEqual(batches, [999]);
  assert.deepEqual(pauses, []);
});

test('GROW-01 stop ends a spread pass at its next pause, reported behind', async () => {
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  const { purger, batches } = fakePurger(
    { purgeIntervalMs: 3_600_000, backlog: 1_000_000, batchMs: 40 },
    {
      // Pauses until stopped: the real timer's wait of 27 s.
      sleep: (_ms, stopped) => {
        release();
        return new Promise((resolve) => stopped.addEventListener('abort', () => resolve()));
      },
    },
  );
  const pass = purger.run();
  await paused;
  await purger.stop();
  const report = await pass;
  assert.equal(batches.length, 1);
  assert.equal(report.rows.tokens, 1000);
  assert.equal(report.behind, true);
});

/**
 * A serving process whose SQLite upkeep worker dies: the service says so once, in one line, and the
 * serving connection purges (and checkpoints) by itself from then on.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { createLogger } from '../../src/util/log.ts';
import { startServer } from '../support/harness.ts';

test('sqlite: a serving process whose upkeep worker dies logs it once, as one line without a stack, and keeps purging on its own connection', async (t) => {
  const workers: Worker[] = [];
  const created = (m: unknown) => void workers.push((m as { worker: Worker }).worker);
  subscribe('worker_threads', created);
  const lines: string[] = [];
  const server = await startServer({ purgeIntervalMs: '0', purgeGrace: '0' }, { log: createLogger('warn', (line) => void lines.push(line)) });
  t.after(() => server.close());
  unsubscribe('worker_threads', created);
  assert.equal(workers.length, 1, 'the upkeep worker is the only thread the server starts');
  const { store, purger } = server.keymint;
  const purgeRound = async (round: number) => {
    await store.replays.claim(`dpop:expired${round}`, 1_000, 0);
    await store.replays.claim(`dpop:live${round}`, Date.now() + 3_600_000, 0);
    const report = await purger.run();
    assert.equal(report.rows.replays, 1, `round ${round}: the expired claim purged`);
    assert.equal(await store.replays.claim(`dpop:live${round}`, Date.now() + 3_600_000, Date.now()), false, `round ${round}: the live claim kept`);
  };
  await purgeRound(0); // on the worker, which is running by then

  // Killed from outside, as a crash of the thread would: an exit nobody asked for.
  const worker = workers[0]!;
  const exited = once(worker, 'exit'); // heard after the store's own listener
  await worker.terminate();
  assert.deepEqual(await exited, [1]);
  assert.equal(lines.length, 1, lines.join(''));
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(
    { level: line.level, msg: line.msg, store: line.store, cause: line.cause },
    { level: 'warn', msg: 'store upkeep failed: the serving connection checkpoints and purges by itself from now on', store: 'sqlite', cause: 'it exited (code 1)' },
  );
  assert.deepEqual(Object.keys(line).sort(), ['cause', 'level', 'msg', 'store', 'time']);

  await purgeRound(1);
  await purgeRound(2);
  assert.equal(lines.length, 1, 'no further line for the later batches');
});

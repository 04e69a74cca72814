/**
 * SQLite group commit: concurrent token inserts share a transaction, yet each is durable and fails
 * alone; replay claims share one too, and two connections on the file (two processes) see each other's.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { TokenRecord } from '../../src/storage/types.ts';
import { tempDir } from '../support/harness.ts';

const token = (n: number): TokenRecord => ({
  digest: `p1:${n.toString(16).padStart(64, '0')}`,
  kind: 'access_token',
  clientId: 'c',
  subject: 's',
  scope: '',
  audience: ['a'],
  issuedAt: 1,
  expiresAt: 2_000_000_000_000,
  revokedAt: null,
  familyId: null,
  jti: `j${n}`,
});

/** Two stores on one file: two connections, each with its own state, as two processes have. */
function twoOnOneFile(t: { after(fn: () => unknown): void }) {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = openSqliteStore({ dir });
  const b = openSqliteStore({ dir });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  return { a, b };
}

test('200 concurrent inserts: all resolve, all are readable by another connection once resolved', async (t) => {
  const { a, b } = twoOnOneFile(t);
  await Promise.all(Array.from({ length: 200 }, (_, i) => a.tokens.insert(token(i))));
  for (const i of [0, 99, 199]) assert.equal((await b.tokens.find([token(i).digest]))?.jti, `j${i}`);
});

test('a duplicate digest in a batch fails alone; the rest of the batch commits', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  await store.tokens.insert(token(1));
  const results = await Promise.allSettled([store.tokens.insert(token(2)), store.tokens.insert(token(1)), store.tokens.insert(token(3))]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[1] as PromiseRejectedResult).reason.name, 'ConflictError');
  await store.close();
  const reopened = openSqliteStore({ dir });
  t.after(() => reopened.close());
  for (const n of [1, 2, 3]) assert.ok(await reopened.tokens.find([token(n).digest]), `token ${n} survived`);
});

test('replay claims: two processes on one file share the log: a key claimed by one is refused by the other; of racing claims on both, one wins', async (t) => {
  const { a, b } = twoOnOneFile(t);
  assert.equal(await a.replays.claim('dpop:x', 2_000, 1_000), true);
  assert.equal(await b.replays.claim('dpop:x', 2_000, 1_000), false, 'claimed by the other');
  assert.equal(await b.replays.claim('pkjwt:y', 2_000, 1_000), true);
  assert.equal(await a.replays.claim('pkjwt:y', 2_000, 1_500), false, 'claimed by the other');
  assert.equal(await a.replays.claim('pkjwt:y', 3_000, 2_000), true, 'expired: claimable again, by either');
  assert.equal(await b.replays.claim('pkjwt:y', 3_000, 2_500), false);
  const raced = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).replays.claim('dpop:z', 2_000, 1_000)));
  assert.equal(raced.filter(Boolean).length, 1);
});

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { sqliteClients } from '../../src/storage/sqlite/clients.ts';
import { openDatabase, sqliteDb, type Db } from '../../src/storage/sqlite/db.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { sqlitePurge } from '../../src/storage/sqlite/purge.ts';
import { sqliteReplays } from '../../src/storage/sqlite/replays.ts';
import { toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { tempDir } from '../support/harness.ts';
import { runStoreContract } from './contract/index.ts';
import { clientRecord, tokenRecord } from './contract/records.ts';

runStoreContract('sqlite', (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openSqliteStore({ dir });
});

test('sqlite: a write lock held past busy_timeout is UnavailableError (→ 503 + Retry-After); the write succeeds once it is released', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir, busyTimeoutMs: 20 });
  t.after(() => store.close());
  await store.clients.insert(clientRecord('c1'));
  const other = new DatabaseSync(`${dir}/keymint.db`);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');

  const failures = await Promise.all([
    store.clients.update('c1', (c) => ({ ...c, name: 'changed' })).catch((err: unknown) => err),
    store.tokens.insert(tokenRecord('p1:aa')).catch((err: unknown) => err),
    store.codes.consume('p1:none', 1).catch((err: unknown) => err),
  ]);
  for (const err of failures) {
    assert.ok(err instanceof UnavailableError, String(err));
    const wire = toOAuthError(err);
    assert.equal(wire.status, 503);
    assert.equal(wire.retryAfter, 1);
  }
  assert.equal((await store.clients.get('c1'))?.name, 'contract');

  other.exec('ROLLBACK');
  assert.equal((await store.clients.update('c1', (c) => ({ ...c, name: 'changed' })))?.name, 'changed');
  await store.tokens.insert(tokenRecord('p1:aa'));
  assert.equal((await store.tokens.find(['p1:aa']))?.digest, 'p1:aa');
});

test('sqlite: a replay claim whose commit fails takes nothing: the same key is claimable once the lock is free', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir, busyTimeoutMs: 20 });
  t.after(() => store.close());
  const other = new DatabaseSync(`${dir}/keymint.db`);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  await assert.rejects(store.replays.claim('dpop:k', 2_000, 1_000), UnavailableError);
  other.exec('ROLLBACK');
  assert.equal(await store.replays.claim('dpop:k', 2_000, 1_000), true);
  assert.equal(await store.replays.claim('dpop:k', 2_000, 1_000), false);
});

test('sqlite: live claims of the keyed replays table (schema 8) survive the move to the log', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const before = openSqliteStore({ dir });
  await before.close();
  // Back to the shape of schema 8, with one live claim in it.
  const raw = new DatabaseSync(`${dir}/keymint.db`);
  raw.exec(`DELETE FROM schema_migrations WHERE version = 9; DROP TABLE replays;
    CREATE TABLE replays (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
    CREATE INDEX replays_expires ON replays (expires_at);
    INSERT INTO replays VALUES ('dpop:old', 2000);`);
  raw.close();
  const after = openSqliteStore({ dir });
  t.after(() => after.close());
  assert.equal(await after.replays.claim('dpop:old', 2_000, 1_000), false, 'still taken');
  assert.equal(await after.replays.claim('dpop:new', 2_000, 1_000), true);
});

/**
 * A migrated store's Db, and a copy of it that records the `synchronous` mode each transaction runs
 * in (1 = NORMAL, 2 = FULL) into `seen`.
 */
async function spiedStore(t: TestContext) {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await openSqliteStore({ dir }).close(); // the schema
  const db = sqliteDb(openDatabase({ dir }));
  t.after(() => db.close());
  // Prepared anew each time: SQLite compiles the current value into a PRAGMA query.
  const mode = () => db.prepare<{ synchronous: number }>('PRAGMA synchronous').get()?.synchronous;
  const seen: Array<number | undefined> = [];
  const spied = <T>(run: (fn: () => T) => T) => (fn: () => T) => run(() => (seen.push(mode()), fn()));
  const spiedDb: Db = { ...db, immediate: (fn) => spied(db.immediate)(fn), unflushed: (fn) => spied(db.unflushed)(fn) };
  return { db, spiedDb, seen, mode };
}

test('sqlite: a secret\'s last-use mark commits unflushed (synchronous = NORMAL), and the next write is FULL again, also after a failed one', async (t) => {
  const { db, spiedDb, seen, mode } = await spiedStore(t);
  const clients = sqliteClients(spiedDb);
  await clients.insert(clientRecord('c1'));
  await clients.touchSecret('c1', 'sec_1', 4242);
  await clients.update('c1', (c) => ({ ...c, name: 'changed' }));
  assert.deepEqual(seen, [1, 2]);
  assert.equal((await clients.get('c1'))?.secrets[0]?.lastUsedAt, 4242);
  assert.throws(() => db.unflushed(() => { throw new Error('refused'); }), /refused/);
  assert.equal(mode(), 2);
});

test('sqlite: a purge batch commits unflushed (synchronous = NORMAL) and deletes what expired; the connection is FULL again after it', async (t) => {
  const { spiedDb, seen, mode } = await spiedStore(t);
  const replays = sqliteReplays(spiedDb);
  await replays.claim('dpop:old', 1_000, 0);
  await replays.claim('dpop:live', 9_000, 0);
  seen.length = 0;
  const purge = sqlitePurge(spiedDb);
  const removed = await purge.exclusive((batch) => batch('replays', 5_000, 1_000));
  assert.equal(removed, 1);
  assert.deepEqual(seen, [1]);
  assert.equal(mode(), 2);
  assert.equal(await replays.claim('dpop:live', 9_000, 6_000), false);
  assert.equal(await replays.claim('dpop:old', 9_000, 6_000), true);
});

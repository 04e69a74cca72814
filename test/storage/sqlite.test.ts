import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fdatasyncSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { sqliteClients } from '../../src/storage/sqlite/clients.ts';
import { openDatabase, sqliteDb, type Db } from '../../src/storage/sqlite/db.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { sqlitePurge } from '../../src/storage/sqlite/purge.ts';
import { sqliteReplays } from '../../src/storage/sqlite/replays.ts';
import { BACKSTOP_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES, startUpkeep, type CheckpointResult } from '../../src/storage/sqlite/upkeep.ts';
import { toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { tempDir } from '../support/harness.ts';
import { runStoreContract } from './contract/index.ts';
import { clientRecord, tokenRecord } from './contract/records.ts';

runStoreContract('sqlite', (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openSqliteStore({ dir });
});

test('sqlite: a write lock held past busy_timeout is UnavailableError (→ 503 + Retry-After), waited for off the event loop; the write succeeds once it is released', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir, busyTimeoutMs: 20 });
  t.after(() => store.close());
  await store.clients.insert(clientRecord('c1'));
  const other = new DatabaseSync(`${dir}/keymint.db`);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  // The writes wait on timers, not in SQLite's busy handler, which would sleep on the event loop.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  t.after(() => clearInterval(timer));

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
  assert.ok(ticks > 0, 'timers ran while the writes waited');

  other.exec('ROLLBACK');
  assert.equal((await store.clients.update('c1', (c) => ({ ...c, name: 'changed' })))?.name, 'changed');
  await store.tokens.insert(tokenRecord('p1:aa'));
  assert.equal((await store.tokens.find(['p1:aa']))?.digest, 'p1:aa');
});

test('sqlite: a store opened while another connection holds the lock waits for it, from its first statement', async (t) => {
  // Workers of `keymint serve --workers N` open the file at once; setting WAL mode, before any busy
  // timeout was set, failed at once with "database is locked" (3 opens in 240 on a loaded machine).
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const holder = new Worker(
    `const { DatabaseSync } = require('node:sqlite');
     const { parentPort, workerData } = require('node:worker_threads');
     const db = new DatabaseSync(workerData + '/keymint.db');
     db.exec('BEGIN EXCLUSIVE; CREATE TABLE held (x)');
     parentPort.postMessage('locked');
     setTimeout(() => { db.exec('COMMIT'); db.close(); }, 100);`,
    { eval: true, workerData: dir },
  );
  t.after(() => holder.terminate());
  await once(holder, 'message');
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  await store.clients.insert(clientRecord('c1'));
  assert.equal((await store.clients.get('c1'))?.id, 'c1');
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
 * A migrated store's Db, and a copy of it that records into `seen` how each transaction commits
 * (`durable`: `immediate`, waiting for an fsync; `unflushed`), and the fsyncs made (`fsyncs`).
 */
async function spiedStore(t: TestContext) {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await openSqliteStore({ dir }).close(); // the schema
  const fsyncs = { count: 0 };
  const db = sqliteDb(openDatabase({ dir }), { fdatasync: async (fd) => void (fsyncs.count++, fdatasyncSync(fd)) });
  t.after(() => db.close());
  const seen: Array<'durable' | 'unflushed'> = [];
  const spiedDb: Db = {
    ...db,
    immediate: (fn) => db.immediate(() => (seen.push('durable'), fn())),
    unflushed: (fn) => db.unflushed(() => (seen.push('unflushed'), fn())),
  };
  return { db, spiedDb, seen, fsyncs };
}

test('sqlite: a secret\'s last-use mark commits unflushed (no fsync waited for), a client update waits for one; a failed transaction rolls back', async (t) => {
  const { db, spiedDb, seen, fsyncs } = await spiedStore(t);
  const clients = sqliteClients(spiedDb);
  await clients.insert(clientRecord('c1'));
  seen.length = 0;
  const before = fsyncs.count;
  await clients.touchSecret('c1', 'sec_1', 4242);
  assert.equal(fsyncs.count, before, 'no fsync for the mark');
  await clients.update('c1', (c) => ({ ...c, name: 'changed' }));
  assert.ok(fsyncs.count > before, 'the update waited for one');
  assert.deepEqual(seen, ['unflushed', 'durable']);
  assert.equal((await clients.get('c1'))?.secrets[0]?.lastUsedAt, 4242);
  await assert.rejects(db.unflushed(() => { throw new Error('refused'); }), /refused/);
  assert.throws(() => db.blocking(() => { throw new Error('refused'); }), /refused/);
  await assert.rejects(db.immediate(() => { throw new Error('refused'); }), /refused/);
  assert.equal((await clients.get('c1'))?.name, 'changed');
});

test('sqlite: a purge batch commits unflushed and deletes what expired', async (t) => {
  const { spiedDb, seen } = await spiedStore(t);
  const replays = sqliteReplays(spiedDb);
  await replays.claim('dpop:old', 1_000, 0);
  await replays.claim('dpop:live', 9_000, 0);
  seen.length = 0;
  const purge = sqlitePurge(spiedDb);
  const removed = await purge.exclusive((batch) => batch('replays', 5_000, 1_000));
  assert.equal(removed, 1);
  assert.deepEqual(seen, ['unflushed']);
  assert.equal(await replays.claim('dpop:live', 9_000, 6_000), false);
  assert.equal(await replays.claim('dpop:old', 9_000, 6_000), true);
});

test('sqlite: while serving, a worker thread checkpoints the WAL, so commits on the event loop copy no pages back; stopped, the connection checkpoints by itself again', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keymint.db');
  const db = sqliteDb(openDatabase({ dir }));
  t.after(() => db.close());
  const threshold = () => db.prepare<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint;
  db.exec('CREATE TABLE filler (page BLOB NOT NULL)');
  const empty = statSync(file).size;
  const results: CheckpointResult[] = [];
  const PAGES = 1500; // more than SQLite's own threshold, fewer than the serving connection's while the worker runs
  const checkpoints = startUpkeep(db, file, { intervalMs: 5, onCheckpoint: (r) => results.push(r) });
  await checkpoints.ready;
  assert.equal(threshold(), BACKSTOP_PAGES);
  const insert = db.prepare('INSERT INTO filler (page) VALUES (randomblob(3000))');
  for (let i = 0; i < PAGES; i++) db.blocking(() => insert.run());
  // In WAL mode only a checkpoint writes the database file, and the serving connection's own
  // threshold (BACKSTOP_PAGES frames) is above the frames these inserts write: the file grows only by
  // the worker's checkpoints. Not one checkpoint's page count: the worker may rewind the WAL between
  // two of them, so no single checkpoint need see every page. Its report is a message, which can
  // arrive after the file has grown.
  while (statSync(file).size < empty + PAGES * 3000 || results.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(results.some((r) => r.checkpointed > 0), 'the worker reported copying pages');
  assert.ok(results.every((r) => r.busy === 0), 'no other checkpoint ever held the worker off');
  await checkpoints.stop();
  assert.equal(threshold(), DEFAULT_AUTOCHECKPOINT_PAGES);
});

test('sqlite: a store on a file has serving upkeep (the worker); an in-memory one has none', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  const upkeep = store.serve?.();
  assert.ok(upkeep);
  await upkeep.stop();
  const memory = openSqliteStore({ dir: ':memory:' });
  t.after(() => memory.close());
  assert.equal(memory.serve, undefined);
});

test('sqlite: while serving, purge batches run on the worker\'s connection, not on the event loop; stopped, they run on the serving connection again', async (t) => {
  const { db, spiedDb, seen } = await spiedStore(t);
  const replays = sqliteReplays(spiedDb);
  for (const [key, exp] of [['dpop:old1', 1_000], ['dpop:old2', 2_000], ['dpop:old3', 3_000], ['dpop:live', 9_000]] as const) await replays.claim(key, exp, 0);
  let upkeep = startUpkeep(db, join(db.prepare<{ file: string }>('PRAGMA database_list').get()!.file));
  t.after(() => upkeep.stop());
  await upkeep.ready;
  const purge = sqlitePurge(spiedDb, () => upkeep);
  seen.length = 0;
  assert.equal(await purge.exclusive((batch) => batch('replays', 2_500, 1_000)), 2);
  assert.deepEqual(seen, [], 'no transaction on the serving connection');
  const keys = () => db.prepare<{ key: string }>('SELECT key FROM replays ORDER BY key').all().map((r) => r.key);
  assert.deepEqual(keys(), ['dpop:live', 'dpop:old3'], 'the worker deleted what expired, and nothing else');
  await upkeep.stop();
  seen.length = 0;
  assert.equal(await purge.exclusive((batch) => batch('replays', 5_000, 1_000)), 1);
  assert.deepEqual(seen, ['unflushed'], 'the serving connection, unflushed');
  assert.deepEqual(keys(), ['dpop:live']);
  upkeep = startUpkeep(db, ':memory:/none');
  await upkeep.ready;
  assert.equal(upkeep.available(), false, 'a worker that cannot open the file leaves the work to the serving connection');
});

test('sqlite: a purge batch that fails on the worker\'s connection is reported once; every later batch runs on the serving connection', async (t) => {
  const { db, spiedDb, seen } = await spiedStore(t);
  const replays = sqliteReplays(spiedDb);
  for (const [key, exp] of [['dpop:old1', 1_000], ['dpop:old2', 2_000], ['dpop:live', 9_000]] as const) await replays.claim(key, exp, 0);
  const failures: string[] = [];
  const file = db.prepare<{ file: string }>('PRAGMA database_list').get()!.file;
  const upkeep = startUpkeep(db, file, { onFailure: (cause) => failures.push(cause) });
  t.after(() => upkeep.stop());
  await upkeep.ready;
  await assert.rejects(upkeep.write('DELETE FROM missing WHERE expires_at < ? OR expires_at = ?', [1, 2]), /no such table: missing/);
  assert.equal(upkeep.available(), false);
  assert.deepEqual(failures, ['a purge batch failed on its connection: no such table: missing']);
  const purge = sqlitePurge(spiedDb, () => upkeep);
  seen.length = 0;
  assert.equal(await purge.exclusive((batch) => batch('replays', 1_500, 1_000)), 1);
  assert.equal(await purge.exclusive((batch) => batch('replays', 2_500, 1_000)), 1);
  assert.deepEqual(seen, ['unflushed', 'unflushed'], 'both batches on the serving connection, unflushed');
  assert.equal(failures.length, 1, 'reported once');
  assert.equal(db.prepare<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint, DEFAULT_AUTOCHECKPOINT_PAGES, 'the serving connection checkpoints by itself again');
});

test('sqlite: an upkeep worker that cannot open the file is reported once; one stopped by stop() is not a failure', async (t) => {
  const { db } = await spiedStore(t);
  const failures: string[] = [];
  const unopened = startUpkeep(db, ':memory:/none', { onFailure: (cause) => failures.push(cause) });
  await unopened.ready;
  assert.equal(unopened.available(), false);
  assert.deepEqual(failures, ['unable to open database file']);
  failures.length = 0;
  const file = db.prepare<{ file: string }>('PRAGMA database_list').get()!.file;
  const stopped = startUpkeep(db, file, { onFailure: (cause) => failures.push(cause) });
  await stopped.ready;
  await stopped.stop();
  assert.deepEqual(failures, []);
});

test('sqlite: tokens_subject holds only tokens of a user or an organization, and the connected-apps queries use it', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  // Client-credentials tokens (most of a busy table) have no subject type: they add no index entry.
  for (let i = 0; i < 50; i++) await store.tokens.insert(tokenRecord(`cc${i}`, { kind: 'access_token', subject: 'c1', familyId: null }));
  await store.tokens.insert(tokenRecord('u1', { meta: { subjectType: 'user' } }));
  await store.tokens.insert(tokenRecord('o1', { subject: '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09', familyId: 'fam2', meta: { subjectType: 'organization' } }));
  const db = new DatabaseSync(join(dir, 'keymint.db'), { readOnly: true });
  t.after(() => db.close());
  const entries = db.prepare("SELECT sum(ncell) AS n FROM dbstat WHERE name = 'tokens_subject' AND pagetype = 'leaf'").get() as { n: number };
  assert.equal(entries.n, 2);
  assert.equal(await store.consents.withdraw('c1', 'user', 'u1', 2000).then((w) => w.tokens), 1);
  const plan = (sql: string) => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all());
  assert.match(plan("SELECT family_id FROM tokens WHERE subject = ? AND client_id = ? AND json_extract(meta, '$.subjectType') = ? AND family_id IS NOT NULL"), /USING INDEX tokens_subject/);
});

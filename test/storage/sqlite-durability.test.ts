/**
 * SQLite durability off the event loop (db.ts): commits are NORMAL, and a write's promise resolves
 * only once an fdatasync of the `-wal` file, run on the threadpool and shared by every commit made
 * before it started, has completed. The fsync is injected, so a test can hold it or fail it; held
 * ones still sync the real file when released.
 */
import assert from 'node:assert/strict';
import { fdatasyncSync, fstatSync, linkSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { openDatabase, sqliteDb } from '../../src/storage/sqlite/db.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { startUpkeep, type CheckpointResult } from '../../src/storage/sqlite/upkeep.ts';
import { toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { tempDir } from '../support/harness.ts';
import { clientRecord, tokenRecord } from './contract/records.ts';

interface Held {
  readonly fd: number;
  release(): void;
}

/** An fdatasync that counts its calls and, while `holding`, waits for the test to release each. */
class Fsyncs {
  count = 0;
  holding = false;
  /** Errors the next calls fail with, in order. */
  readonly failures: Error[] = [];
  /** The inode of each descriptor synced, and whether it was a directory. */
  readonly synced: Array<{ ino: number; dir: boolean }> = [];
  private readonly held: Held[] = [];
  private wake: Array<() => void> = [];

  readonly fdatasync = async (fd: number): Promise<void> => {
    this.count++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.holding) {
      await new Promise<void>((release) => {
        this.held.push({ fd, release });
        for (const w of this.wake.splice(0)) w();
      });
    }
    const st = fstatSync(fd);
    this.synced.push({ ino: st.ino, dir: st.isDirectory() });
    fdatasyncSync(fd);
  };

  /** The next held fsync, once it has been called. */
  async next(): Promise<Held> {
    while (this.held.length === 0) await new Promise<void>((resolve) => this.wake.push(resolve));
    return this.held.shift()!;
  }

  get waiting(): number {
    return this.held.length;
  }
}

/** Lets every callback that is ready run (I/O completions and promise jobs), a few turns over. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A store on a fresh directory with an injected fsync, warmed by one write (the WAL's descriptor opened). */
async function storeWith(t: TestContext) {
  const dir = tempDir('keymint-durable-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fsyncs = new Fsyncs();
  const store = openSqliteStore({ dir, fdatasync: fsyncs.fdatasync });
  t.after(() => store.close());
  await store.clients.insert(clientRecord('warm'));
  fsyncs.count = 0;
  return { dir, store, fsyncs };
}

const tracked = (p: Promise<unknown>) => {
  const state = { settled: false };
  void p.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
};

test('sqlite durability: a write is committed (seen by another connection) at once, but its promise resolves only after its fsync completed', async (t) => {
  const { dir, store, fsyncs } = await storeWith(t);
  fsyncs.holding = true;
  const revoked = store.tokens.revokeFamily('fam-1', 1_000);
  const state = tracked(revoked);
  const held = await fsyncs.next();
  await settle();
  assert.equal(state.settled, false, 'not resolved while its fsync is held');
  const other = new DatabaseSync(join(dir, 'keymint.db'));
  t.after(() => other.close());
  assert.ok(other.prepare("SELECT 1 FROM revoked_families WHERE family_id = 'fam-1'").get(), 'committed: another connection sees it');
  held.release();
  assert.equal(await revoked, 0);
  assert.equal(fsyncs.count, 1);

  // Token inserts (group-committed) and autocommit-style writes wait the same way.
  const inserted = store.tokens.insert(tokenRecord('p1:aa'));
  const client = store.clients.insert(clientRecord('c2'));
  const states = [tracked(inserted), tracked(client)];
  const second = await fsyncs.next();
  await settle();
  assert.deepEqual(states.map((s) => s.settled), [false, false]);
  fsyncs.holding = false; // the group-committed insert may have committed after this fsync started
  second.release();
  await Promise.all([inserted, client]);
});

test('sqlite durability: one fsync covers every commit made before it started; commits made while it runs wait for the next', async (t) => {
  const { store, fsyncs } = await storeWith(t);
  fsyncs.holding = true;
  const first = store.clients.insert(clientRecord('first'));
  const firstHeld = await fsyncs.next();
  // 60 writes of several kinds, committed while the first fsync is in flight.
  const later = [
    ...Array.from({ length: 20 }, (_, i) => store.tokens.insert(tokenRecord(`p1:${i.toString(16).padStart(4, '0')}`))),
    ...Array.from({ length: 20 }, (_, i) => store.clients.insert(clientRecord(`c${i}`))),
    ...Array.from({ length: 20 }, (_, i) => store.tokens.revokeFamily(`fam-${i}`, 1_000)),
  ];
  const states = later.map(tracked);
  await settle();
  assert.equal(fsyncs.count, 1, 'no second fsync while one is in flight');
  firstHeld.release();
  await first;
  const secondHeld = await fsyncs.next();
  await settle();
  assert.ok(states.every((s) => !s.settled), 'the first fsync started before they committed: it does not cover them');
  assert.equal(fsyncs.count, 2);
  secondHeld.release();
  await Promise.all(later);
  assert.equal(fsyncs.count, 2, 'one fsync for all 60');
  assert.equal(fsyncs.waiting, 0);
});

test('sqlite durability: a failed fsync rejects the writes waiting on it with UnavailableError (503), is reported once, and from then on every write is refused before it begins', async (t) => {
  const { store, fsyncs } = await storeWith(t);
  const reported: string[] = [];
  const serving = store.serve!({ onSyncFailure: (cause) => reported.push(cause) });
  t.after(() => serving.stop());
  assert.equal(store.failure!(), undefined);
  const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  fsyncs.failures.push(eio);
  const failed = await Promise.allSettled([store.tokens.revoke('p1:none', 1), store.clients.insert(clientRecord('c1'))]);
  for (const r of failed) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason;
    assert.ok(err instanceof UnavailableError, String(err));
    assert.equal(err.what, 'sqlite-disk');
    assert.equal(toOAuthError(err).status, 503);
  }
  // Those commits happened (the failure is in knowing they are on disk) ...
  assert.ok(await store.clients.get('c1'));
  // ... but no later write begins: a later fsync that succeeds would prove nothing about them.
  const calls = fsyncs.count;
  await assert.rejects(store.clients.insert(clientRecord('c2')), UnavailableError);
  await assert.rejects(store.clients.update('c1', (c) => ({ ...c, name: 'x' })), UnavailableError);
  await assert.rejects(store.clients.touchSecret('c1', 'none', 2), UnavailableError, 'unflushed writes too');
  assert.equal(await store.clients.get('c2'), undefined, 'the refused insert wrote nothing');
  assert.notEqual((await store.clients.get('c1'))?.name, 'x', 'the refused update wrote nothing');
  assert.equal(fsyncs.count, calls, 'no fsync runs again');
  assert.deepEqual(reported, ['fsync of the SQLite log failed: EIO: i/o error, fdatasync']);
  assert.equal(store.failure!(), 'SQLite could not flush its log to disk: check the disk, then restart Keymint');
  // Reads still answer.
  assert.ok(await store.clients.get('c1'));
});

test('sqlite durability: a restart after a failed fsync writes again, and what the failed writes committed is there', async (t) => {
  const { dir, store, fsyncs } = await storeWith(t);
  fsyncs.failures.push(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await assert.rejects(store.clients.insert(clientRecord('c1')), UnavailableError);
  await store.close();
  const reopened = openSqliteStore({ dir });
  t.after(() => reopened.close());
  assert.equal(reopened.failure!(), undefined);
  assert.ok(await reopened.clients.get('c1'));
  await reopened.clients.insert(clientRecord('c2'));
  assert.ok(await reopened.clients.get('c2'));
});

test('sqlite durability: the descriptor follows a replaced WAL file (and the directory is synced when it is opened anew)', async (t) => {
  const dir = tempDir('keymint-durable-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fsyncs = new Fsyncs();
  const db = sqliteDb(openDatabase({ dir }), { fdatasync: fsyncs.fdatasync });
  t.after(() => db.close());
  const wal = join(dir, 'keymint.db-wal');
  db.exec('CREATE TABLE t (x INTEGER)');
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  await db.immediate(() => insert.run(1));
  const first = statSync(wal).ino;
  assert.deepEqual(fsyncs.synced.filter((s) => !s.dir).map((s) => s.ino), [first]);
  assert.equal(fsyncs.synced.filter((s) => s.dir).length, 1, 'the directory, when the WAL was first opened');
  // Leaving WAL mode checkpoints and deletes the -wal file; coming back creates a new one. A second
  // name keeps the old inode alive, so the new file cannot get its number.
  linkSync(wal, `${wal}.old`);
  db.exec('PRAGMA journal_mode = DELETE');
  db.exec('PRAGMA journal_mode = WAL');
  await db.immediate(() => insert.run(2));
  const second = statSync(wal).ino;
  assert.notEqual(second, first);
  assert.deepEqual(fsyncs.synced.filter((s) => !s.dir).map((s) => s.ino), [first, second], 'the new WAL file was synced, not the old one');
  assert.equal(fsyncs.synced.filter((s) => s.dir).length, 2, 'and the directory again');
});

test('sqlite durability: an in-memory store never fsyncs; a write statement outside a transaction is refused', async (t) => {
  const fsyncs = new Fsyncs();
  const store = openSqliteStore({ dir: ':memory:', fdatasync: fsyncs.fdatasync });
  t.after(() => store.close());
  await store.clients.insert(clientRecord('c1'));
  await store.tokens.insert(tokenRecord('p1:aa'));
  await store.tokens.revokeFamily('fam', 1);
  assert.equal(fsyncs.count, 0);
  const db = sqliteDb(openDatabase({ dir: ':memory:' }));
  t.after(() => db.close());
  db.exec('CREATE TABLE t (x INTEGER)');
  assert.throws(() => db.prepare('INSERT INTO t (x) VALUES (1)').run(), /SQLite write outside db\.immediate\/db\.unflushed\/db\.blocking/);
  assert.equal(await db.unflushed(() => db.prepare('INSERT INTO t (x) VALUES (1)').run()), 1);
  assert.equal(db.blocking(() => db.prepare('INSERT INTO t (x) VALUES (1)').run()), 1);
});

test('sqlite durability: close waits for the fsyncs in flight, and the writes waiting on them resolve', async (t) => {
  const { store, fsyncs } = await storeWith(t);
  fsyncs.holding = true;
  const write = store.clients.insert(clientRecord('c1'));
  const held = await fsyncs.next();
  const closing = store.close();
  const state = tracked(closing);
  await settle();
  assert.equal(state.settled, false, 'close waits for the held fsync');
  held.release();
  await write;
  await closing;
});

test('sqlite durability: once a checkpoint copied the whole WAL, the upkeep worker rewinds it, so the serving connection\'s next commit appends (no header fsync on the event loop)', async (t) => {
  const dir = tempDir('keymint-durable-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = sqliteDb(openDatabase({ dir }));
  t.after(() => db.close());
  const file = join(dir, 'keymint.db');
  /** The WAL header's checkpoint sequence and salts: they change whenever the log is rewound. */
  const generation = () => readFileSync(`${file}-wal`).subarray(12, 24).toString('hex');
  db.exec('CREATE TABLE t (x INTEGER)');
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  // Checkpoints in the order the worker reports them; it reports one only after a commit of the serving connection.
  const reports: CheckpointResult[] = [];
  let wake = () => {};
  const nextWhole = async () => {
    for (;;) {
      const r = reports.shift();
      if (r && r.checkpointed === r.log) return r;
      if (!r) await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const upkeep = startUpkeep(db, file, { intervalMs: 5, onCheckpoint: (r) => (reports.push(r), wake()) });
  t.after(() => upkeep.stop());
  await upkeep.ready;
  await nextWhole(); // the CREATE TABLE's: once reported, its rewind is done, so `before` cannot be read ahead of it
  const before = generation();
  await db.immediate(() => insert.run(1));
  const result = await nextWhole();
  assert.equal(result.rewound, true);
  await upkeep.stop(); // no checkpoint after this one: what follows is the serving connection's alone
  const rewound = generation();
  assert.notEqual(rewound, before, 'the worker rewound the log');
  await db.immediate(() => insert.run(2));
  assert.equal(generation(), rewound, 'the serving connection appended to it');
  assert.equal(db.prepare<{ n: number }>('SELECT count(*) AS n FROM t').get()?.n, 2);
});

test('sqlite durability: a failure report that throws does not crash the process; the write waiting is refused, and so is the next', async (t) => {
  const dir = tempDir('keymint-durable-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fsyncs = new Fsyncs();
  const db = sqliteDb(openDatabase({ dir }), {
    fdatasync: fsyncs.fdatasync,
    onSyncFailure: () => {
      throw new Error('the logger broke');
    },
  });
  t.after(() => db.close());
  db.exec('CREATE TABLE t (x INTEGER)');
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  fsyncs.failures.push(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await assert.rejects(db.immediate(() => insert.run(1)), UnavailableError);
  await assert.rejects(db.unflushed(() => insert.run(2)), UnavailableError);
  assert.deepEqual(db.prepare<{ x: number }>('SELECT x FROM t').all().map((r) => r.x), [1]);
  assert.match(db.failure() ?? '', /restart Keymint/);
});

test('sqlite locks: a write that finds the write lock held by another connection waits for it off the event loop, then commits', async (t) => {
  const { dir, store } = await storeWith(t);
  const holder = new DatabaseSync(join(dir, 'keymint.db'));
  t.after(() => holder.close());
  holder.exec('BEGIN IMMEDIATE');
  // The serving connection's writes (a group-committed token insert, a revocation) find the lock held.
  const inserted = store.tokens.insert(tokenRecord('p1:locked'));
  const revoked = store.tokens.revokeFamily('fam-locked', 1_000);
  // And the unflushed ones: a replay claim (a DPoP proof's jti) and a secret's last-use mark.
  const claimed = store.replays.claim('jti-locked', 10_000, 1_000);
  const touched = store.clients.touchSecret('warm', 'sec_none', 1_000);
  const states = [tracked(inserted), tracked(revoked), tracked(claimed), tracked(touched)];
  // The event loop stays free meanwhile: timers fire and reads are answered.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  t.after(() => clearInterval(timer));
  while (ticks < 5) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal((await store.clients.get('warm'))?.id, 'warm', 'a read is answered while the lock is held');
  assert.deepEqual(states.map((s) => s.settled), [false, false, false, false], 'the writes wait for the lock');
  assert.equal(holder.prepare("SELECT count(*) AS n FROM revoked_families WHERE family_id = 'fam-locked'").get()!.n, 0);
  holder.exec('ROLLBACK');
  await Promise.all([inserted, touched]);
  assert.equal(await revoked, 0);
  assert.equal(await claimed, true, 'the claim was decided once the lock was free');
  assert.equal(await store.replays.claim('jti-locked', 10_000, 1_001), false, 'and holds');
  assert.ok(holder.prepare("SELECT 1 FROM revoked_families WHERE family_id = 'fam-locked'").get(), 'committed once the lock was free');
});

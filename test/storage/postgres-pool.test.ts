/** The PostgreSQL pool is bounded: waiting for a connection or a statement never hangs, it becomes a 503. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { openDb } from '../../src/storage/postgres/db.ts';
import { ConflictError } from '../../src/storage/types.ts';
import { DATABASE_URL, needService } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/**
 * Opening a connection counts against the acquire timeout too (pg's `connectionTimeoutMillis`): on a
 * loaded machine PostgreSQL took over 100 ms to start a backend, and a test whose pool had 100 ms to
 * acquire failed before it had a connection to hold. So the timeouts under test are long enough for
 * a backend's start, and what must outlast them (the holder, the statement) is held until they fire.
 */
const CONNECT_BUDGET_MS = 10_000;

test('a full pool past the acquire timeout is UnavailableError → 503 + Retry-After; the pool serves again once the holder is done', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const db = await openDb({ url: DATABASE_URL, schema: 'public', poolSize: 1, acquireTimeoutMs: 1_000, queryTimeoutMs: CONNECT_BUDGET_MS });
  t.after(() => db.close());
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  // The one connection, held until the waiter has given up: however long either takes to start.
  const holder = db.tx(async (q) => {
    await q('SELECT 1');
    holding();
    await released;
  });
  await held;
  const err = await db.query('SELECT 1').catch((e: unknown) => e);
  release();
  await holder;
  assert.ok(err instanceof UnavailableError, String(err));
  const wire = toOAuthError(err);
  assert.equal(wire.status, 503);
  assert.equal(wire.retryAfter, 1);
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
});

test('a statement past the query timeout is UnavailableError → 503 + Retry-After and marks the pool unhealthy until a statement succeeds', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const db = await openDb({ url: DATABASE_URL, schema: 'public', poolSize: 1, acquireTimeoutMs: CONNECT_BUDGET_MS, queryTimeoutMs: 1_000 });
  t.after(() => db.close());
  // Far longer than the timeout, which ends it (statement_timeout on the server, query_timeout here).
  const err = await db.query('SELECT pg_sleep(60)').catch((e: unknown) => e);
  assert.ok(err instanceof UnavailableError, String(err));
  const wire = toOAuthError(err);
  assert.equal(wire.status, 503);
  assert.equal(wire.retryAfter, 1);
  assert.equal(db.stats().healthy, false);
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  assert.equal(db.stats().healthy, true);
});

test('errors of the caller inside a transaction pass unchanged and roll back; a unique violation is ConflictError', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const db = await openDb({ url: DATABASE_URL, schema: 'public', poolSize: 2, acquireTimeoutMs: CONNECT_BUDGET_MS, queryTimeoutMs: 5000 });
  t.after(() => db.close());
  await assert.rejects(
    db.tx(async (q) => {
      await q('SELECT 1');
      throw new RangeError('mine');
    }),
    RangeError,
  );
  await assert.rejects(db.query('SELECT * FROM (VALUES (1)) v(x) WHERE x = ANY($1)', ['not-an-array']), (e: unknown) => !(e instanceof UnavailableError));
  await assert.rejects(
    db.tx(async (q) => {
      await q('CREATE TEMP TABLE dup (id int PRIMARY KEY)');
      await q('INSERT INTO dup VALUES (1)');
      await q('INSERT INTO dup VALUES (1)');
    }),
    ConflictError,
  );
});

test('a connection lost inside a transaction, between two statements, is UnavailableError and never crashes the process', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const target = new URL(DATABASE_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  t.after(() => proxy.close());
  const via = new URL(DATABASE_URL);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  const db = await openDb({ url: via.toString(), schema: 'public', poolSize: 2, acquireTimeoutMs: CONNECT_BUDGET_MS, queryTimeoutMs: 5000 });
  t.after(() => db.close());
  const outcome = db.tx(async (q) => {
    await q('SELECT 1');
    proxy.cut();
    // Between statements: the loss arrives as an 'error' event on the checked-out connection (the
    // wait is a hang guard, not a timing assertion).
    for (let i = 0; i < 500 && db.stats().healthy; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await q('SELECT 2');
  });
  await assert.rejects(outcome, UnavailableError);
  proxy.resume();
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
});

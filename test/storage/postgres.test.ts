import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb, type Db } from '../../src/storage/postgres/db.ts';
import { migratePostgres, openPostgresStore } from '../../src/storage/postgres/index.ts';
import { MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { postgresPurge } from '../../src/storage/postgres/purge.ts';
import { DATABASE_URL, DB_WAIT_MS, dropSchema, needService, uniqueName } from '../support/services.ts';
import { runStoreContract } from './contract/index.ts';

/** Not the production 2 s / 5 s: 50 concurrent updates queue for 8 connections, which on a loaded machine took longer. */
const WAITS = { acquireTimeoutMs: DB_WAIT_MS, queryTimeoutMs: DB_WAIT_MS };

runStoreContract('postgres', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return undefined;
  const schema = uniqueName('kmc');
  t.after(() => dropSchema(schema));
  return openPostgresStore({ url: DATABASE_URL, schema, poolSize: 8, ...WAITS });
});

test('postgres: migrations are versioned and applied once, also when several nodes start at once', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmm');
  t.after(() => dropSchema(schema));
  const runs = await Promise.all([1, 2, 3].map(() => migratePostgres({ url: DATABASE_URL, schema, ...WAITS })));
  assert.deepEqual(runs.flat().sort((a, b) => a - b), MIGRATIONS.map((m) => m.version));
  assert.deepEqual(await migratePostgres({ url: DATABASE_URL, schema, ...WAITS }), []);
});

test('postgres: purge batches commit unflushed, and the connection goes back to the pool flushing again', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmp');
  t.after(() => dropSchema(schema));
  await migratePostgres({ url: DATABASE_URL, schema, ...WAITS });
  // One connection: the purge's session and the query after it are the same backend.
  const db = await openDb({ url: DATABASE_URL, schema, poolSize: 1, ...WAITS });
  t.after(() => db.close());
  const seen: string[] = [];
  // The real connection, with a look at its setting before each of the purge's statements.
  const watched: Db = {
    ...db,
    session: (fn) =>
      db.session((q) =>
        fn(async (sql, params) => {
          if (sql.includes('DELETE FROM')) seen.push(String((await q<{ synchronous_commit: string }>('SHOW synchronous_commit'))[0]?.synchronous_commit));
          return q(sql, params);
        }),
      ),
  };
  const ran = await postgresPurge(watched).exclusive(async (batch) => {
    await batch('tokens', 1_000, 10);
    await batch('codes', 1_000, 10);
    return true;
  });
  assert.equal(ran, true);
  assert.deepEqual(seen, ['off', 'off']);
  assert.deepEqual(await db.query('SHOW synchronous_commit'), [{ synchronous_commit: 'on' }]);
});

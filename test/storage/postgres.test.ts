import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb, type Db } from '../../src/storage/postgres/db.ts';
import { migratePostgres, openPostgresStore } from '../../src/storage/postgres/index.ts';
import { MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { postgresPurge } from '../../src/storage/postgres/purge.ts';
import { DATABASE_URL, DB_WAIT_MS, dropSchema, needService, uniqueName } from '../support/services.ts';
import { runStoreContract } from './contract/index.ts';
import { tokenRecord } from './contract/records.ts';

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

test('postgres: tokens_subject holds only tokens of a user or an organization, and the connected-apps queries use it', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmi');
  t.after(() => dropSchema(schema));
  const store = await openPostgresStore({ url: DATABASE_URL, schema, poolSize: 2, ...WAITS });
  t.after(() => store.close());
  // Client-credentials tokens (most of a busy table) have no subject type: they add no index entry.
  for (let i = 0; i < 50; i++) await store.tokens.insert(tokenRecord(`cc${i}`, { kind: 'access_token', subject: 'c1', familyId: null }));
  await store.tokens.insert(tokenRecord('u1', { meta: { subjectType: 'user' } }));
  await store.tokens.insert(tokenRecord('o1', { subject: '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09', familyId: 'fam2', meta: { subjectType: 'organization' } }));
  const db = await openDb({ url: DATABASE_URL, schema, poolSize: 1, ...WAITS });
  t.after(() => db.close());
  // ANALYZE samples the whole of so small a table: an index's pg_class.reltuples is its entry count.
  await db.query('ANALYZE tokens');
  const [entries] = await db.query<{ n: number }>("SELECT reltuples::int AS n FROM pg_class WHERE oid = 'tokens_subject'::regclass");
  assert.equal(entries?.n, 2);
  assert.equal((await store.consents.withdraw('c1', 'user', 'u1', 2000)).tokens, 1);
  await db.query('SET enable_seqscan = off');
  const plan = await db.query<{ 'QUERY PLAN': string }>("EXPLAIN SELECT family_id FROM tokens WHERE subject = 'u1' AND client_id = 'c1' AND meta->>'subjectType' = 'user' AND family_id IS NOT NULL");
  assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /tokens_subject/);
});

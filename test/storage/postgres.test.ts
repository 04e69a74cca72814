import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migratePostgres, openPostgresStore } from '../../src/storage/postgres/index.ts';
import { MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { runStoreContract } from './contract/index.ts';

runStoreContract('postgres', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return undefined;
  const schema = uniqueName('kmc');
  t.after(() => dropSchema(schema));
  return openPostgresStore({ url: DATABASE_URL, schema, poolSize: 8 });
});

test('postgres: migrations are versioned and applied once, also when several nodes start at once', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmm');
  t.after(() => dropSchema(schema));
  const runs = await Promise.all([1, 2, 3].map(() => migratePostgres({ url: DATABASE_URL, schema })));
  assert.deepEqual(runs.flat().sort((a, b) => a - b), MIGRATIONS.map((m) => m.version));
  assert.deepEqual(await migratePostgres({ url: DATABASE_URL, schema }), []);
});

import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { openPostgresStore } from '../../src/storage/postgres/index.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { runGrantsContract } from './grants-contract.ts';

runGrantsContract('memory', () => createMemoryStore());
runGrantsContract('sqlite', () => openSqliteStore({ dir: ':memory:' }));
runGrantsContract('postgres', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return undefined;
  const schema = uniqueName('kmg');
  t.after(() => dropSchema(schema));
  return openPostgresStore({ url: DATABASE_URL, schema, poolSize: 8 });
});

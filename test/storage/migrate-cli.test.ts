import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';

test('keymint migrate --database-url applies the PostgreSQL migrations, then finds the schema up to date', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmcli');
  t.after(() => dropSchema(schema));
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    assert.equal(await main(['migrate', '--database-url', DATABASE_URL, '--database-schema', schema]), 0);
    assert.equal(await main(['migrate', '--database-url', DATABASE_URL, '--database-schema', schema]), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(written, [`migrations applied: ${MIGRATIONS.map((m) => m.version).join(', ')}\n`, 'schema up to date\n']);
});

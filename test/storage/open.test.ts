/** `openStore`: the configured backend, imported only when chosen. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { openStore, type StoreConfig } from '../../src/storage/open.ts';
import { tempDir } from '../support/harness.ts';
import { DATABASE_URL, DB_WAIT_MS, dropSchema, needService, uniqueName } from '../support/services.ts';

const settings = (over: Partial<StoreConfig>): StoreConfig => ({
  dataDir: ':memory:',
  databaseUrl: undefined,
  databaseSchema: 'keymint',
  dbPoolSize: 2,
  dbAcquireTimeoutMs: DB_WAIT_MS,
  dbQueryTimeoutMs: DB_WAIT_MS,
  ...over,
});

test('openStore: without a database URL, the SQLite file in the data directory', async (t) => {
  const dataDir = tempDir('keymint-open-');
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore(settings({ dataDir }));
  t.after(() => store.close());
  assert.equal(store.kind, 'sqlite');
  assert.ok(existsSync(`${dataDir}/keymint.db`));
});

test('openStore: with a database URL, PostgreSQL in the given schema', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const databaseSchema = uniqueName('kmo');
  t.after(() => dropSchema(databaseSchema));
  const store = await openStore(settings({ databaseUrl: DATABASE_URL, databaseSchema, dataDir: '/nonexistent' }));
  t.after(() => store.close());
  assert.equal(store.kind, 'postgres');
  assert.deepEqual(await store.clients.list(), []);
});

// Runs in a fresh process: records every module resolved, serves with the memory store, then opens
// the SQLite store (which must load node:sqlite, so the check is seen to work).
const PROBE = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
const drivers = () => [...loaded].filter((url) => url === 'node:sqlite' || url.includes('/node_modules/pg/'));
const k = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
const keymint = await k.createKeymint(k.loadConfig({ dataDir: ':memory:', port: '0', logLevel: 'silent' }, {}), { store: k.createMemoryStore() });
await keymint.listen();
await keymint.close();
const withMemory = drivers();
const sqlite = await k.openStore(k.loadConfig({ dataDir: ':memory:' }, {}));
await sqlite.close();
console.log(JSON.stringify({ withMemory, withSqlite: drivers() }));
`;

test('a process serving from the memory store loads neither node:sqlite nor pg', async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', PROBE], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.deepEqual(JSON.parse(out), { withMemory: [], withSqlite: ['node:sqlite'] });
});

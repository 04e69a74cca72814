/**
 * The deployment as operators run it: `keymint serve` processes on PostgreSQL + Redis, and the CLI
 * as a separate short-lived process. A client created by the CLI authenticates at both servers, and
 * one disabled by the CLI is refused by both (the CLI announces it on the feed before it exits).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { eventually } from '../support/cluster.ts';
import { basic, tempDir } from '../support/harness.ts';
import { cli, serve, stop } from '../support/process.ts';
import { DATABASE_URL, DB_WAIT_MS, REDIS_URL, dropRedisPrefix, dropSchema, needService, uniqueName } from '../support/services.ts';

test('serve processes and the CLI on PostgreSQL + Redis act as one service', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const schema = uniqueName('kmproc');
  const prefix = `${uniqueName('kmproc')}:`;
  const dir = tempDir();
  const env = {
    KEYMINT_KEK: randomBytes(32).toString('base64'),
    KEYMINT_DATABASE_URL: DATABASE_URL,
    KEYMINT_DATABASE_SCHEMA: schema,
    KEYMINT_REDIS_URL: REDIS_URL,
    KEYMINT_REDIS_PREFIX: prefix,
    KEYMINT_DATA: dir,
    KEYMINT_CLIENT_CACHE_MS: '3600000',
    KEYMINT_DB_ACQUIRE_TIMEOUT_MS: String(DB_WAIT_MS),
    KEYMINT_DB_QUERY_TIMEOUT_MS: String(DB_WAIT_MS),
  };
  t.after(async () => {
    await dropSchema(schema);
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  const migrated = await cli(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const nodes = [await serve([], env), await serve([], env)];
  t.after(() => Promise.all(nodes.map((n) => stop(n))));

  const created = await cli(['clients', 'create', '--name', 'fleet', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const { client_id: id, client_secret: secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
  const token = (url: string) =>
    fetch(`${url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) }, body: 'grant_type=client_credentials' });
  for (const n of nodes) assert.equal((await token(n.url)).status, 200);

  const disabled = await cli(['clients', 'disable', id], env);
  assert.equal(disabled.code, 0, disabled.stderr);
  for (const n of nodes) assert.ok(await eventually(async () => (await token(n.url)).status === 401, 15_000), 'refused by every server');
  for (const n of nodes) assert.ok(!n.logs().includes(secret), 'no secret in the logs');
});

/**
 * `keymint apply` against PostgreSQL + Redis while two nodes serve: a scope the file drops is refused
 * by both nodes within the documented propagation bound (1 s with Redis; docs/operations.md). Both
 * nodes cache clients for an hour, so only the feed the apply process publishes on can deliver the change.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cluster, eventually, type Node } from '../support/cluster.ts';
import { basic, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { DATABASE_URL, DB_WAIT_MS, needService, REDIS_URL } from '../support/services.ts';

/** docs/operations.md, "Propagation bound": a client change reaches every node within 1 s with Redis. */
const BOUND_MS = 1_000;
const SECRET = 'partner-secret-for-propagation-0001';

const FILE = (scopes: string) => `version: 1
clients:
  partner:
    scopes: [${scopes}]
    secret: { env: PARTNER_SECRET }
`;

test('CAC-04 apply on PostgreSQL + Redis: a dropped scope is refused by every node within the bound', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster({ clientCacheMs: '3600000', keyringRefreshMs: '3600000' });
  t.after(() => c.close());
  const nodes = [await c.start(), await c.start()];
  const dir = tempDir('keymint-apply-pg-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keymint.yaml');
  const apply = (scopes: string) => {
    writeFileSync(file, FILE(scopes));
    const store = ['--database-url', DATABASE_URL, '--database-schema', c.schema, '--redis-url', REDIS_URL, '--redis-prefix', c.prefix];
    return cli(['apply', '-f', file, ...store], { KEYMINT_KEK: c.kek, PARTNER_SECRET: SECRET, KEYMINT_DB_ACQUIRE_TIMEOUT_MS: String(DB_WAIT_MS), KEYMINT_DB_QUERY_TIMEOUT_MS: String(DB_WAIT_MS) });
  };
  const token = (n: Node, id: string, scope: string) =>
    fetch(`${n.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, SECRET) },
      body: `grant_type=client_credentials&scope=${scope}`,
    }).then((r) => r.status);

  const created = await apply('orders:read, orders:write');
  assert.equal(created.code, 0, created.stderr);
  const id = (await nodes[0]!.keymint.store.clients.list()).find((x) => x.managedBy === 'apply:partner')!.id;
  // Both nodes have the client cached with both scopes.
  for (const n of nodes) assert.equal(await token(n, id, 'orders:write'), 200);

  const narrowed = await apply('orders:read');
  const appliedAt = performance.now();
  assert.equal(narrowed.code, 0, narrowed.stderr);
  assert.match(narrowed.stdout, /scopes: \[orders:read, orders:write\] → \[orders:read\]/);
  for (const [i, n] of nodes.entries()) {
    assert.ok(await eventually(async () => (await token(n, id, 'orders:write')) === 400, BOUND_MS), `node ${i + 1} refuses the dropped scope within ${BOUND_MS} ms`);
    t.diagnostic(`node ${i + 1} refused the dropped scope ${Math.round(performance.now() - appliedAt)} ms after apply exited`);
    assert.equal(await token(n, id, 'orders:read'), 200, 'the remaining scope still works');
  }
  const again = await apply('orders:read');
  assert.equal(again.stdout, `No changes: the store matches ${file} (1 client).\n`);
});

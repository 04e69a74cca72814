/**
 * The refresh-reuse grace window across nodes (SECURITY RACE-04): ten simultaneous uses of one
 * refresh token, spread over nodes sharing one store, all get the one successor the winning rotation
 * sealed, and the family stays alive; a retry after the window still ends the family. On SQLite
 * (two nodes on one file) and PostgreSQL (two nodes on one schema).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { Keymint } from '../../src/service.ts';
import { seedRefreshToken } from '../grants/support.ts';
import { cluster } from '../support/cluster.ts';
import { basic, startServer, tempDir } from '../support/harness.ts';
import { needService } from '../support/services.ts';

const TRIALS = 10;
const PARALLEL = 10;

interface GraceNode {
  readonly url: string;
  readonly keymint: Keymint;
}

async function runTrials(t: TestContext, nodes: readonly GraceNode[], backend: string): Promise<void> {
  const { client, clientSecret } = await nodes[0]!.keymint.clients.create({ name: 'retrier', grants: ['refresh_token'], scopes: ['read'] }, 'test');
  const auth = basic(client.client_id, clientSecret!);
  const refresh = async (node: GraceNode, token: string) => {
    const res = await fetch(`${node.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  for (let trial = 0; trial < TRIALS; trial++) {
    const { token } = await seedRefreshToken(nodes[0]!, client.client_id, { scope: 'read' });
    const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => refresh(nodes[i % nodes.length]!, token)));
    for (const a of answers) assert.equal(a.status, 200, `${backend} trial ${trial}: ${JSON.stringify(a.body)}`);
    const successors = new Set(answers.map((a) => a.body.refresh_token));
    assert.equal(successors.size, 1, `${backend} trial ${trial}: ${successors.size} different successors`);
    assert.equal(new Set(answers.map((a) => a.body.access_token)).size, PARALLEL, 'each answer has its own access token');
    const next = await refresh(nodes[trial % nodes.length]!, String([...successors][0]));
    assert.equal(next.status, 200, `${backend} trial ${trial}: the successor no longer refreshes`);
  }
  t.diagnostic(`${backend}: ${TRIALS} trials of ${PARALLEL} simultaneous uses over ${nodes.length} nodes, one successor each`);
}

test('RACE-04 SQLite, two nodes on one file: simultaneous uses of one refresh token within the window all get its one successor', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const flags = { dialects: ['oauth2'], refreshReuseGrace: '30' };
  const a = await startServer(flags, { dataDir });
  t.after(() => a.close());
  const b = await startServer(flags, { dataDir });
  t.after(() => b.close());
  await runTrials(t, [a, b], 'SQLite');
});

test('RACE-04 PostgreSQL, two nodes: simultaneous uses of one refresh token within the window all get its one successor', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const c = cluster({ dialects: ['oauth2'], redisUrl: undefined, refreshReuseGrace: '30', dbPoolSize: '8' });
  t.after(() => c.close());
  await runTrials(t, [await c.start(), await c.start()], 'PostgreSQL');
});

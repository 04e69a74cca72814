/** A sandbox on a data directory (SQLite, kept between runs): a second run puts the declared clients back, under the same ids. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { startSandbox, type SandboxOptions } from '../../src/start-sandbox.ts';
import { PATHS, postJson } from '../dialects/support/dialects.ts';
import { tempDir } from '../support/harness.ts';

const data = tempDir('keymint-sandbox-data-');
after(() => rmSync(data, { recursive: true, force: true }));

const options = (scopes: string[]): SandboxOptions => ({
  clients: {
    app: { dialects: ['orum'], scopes },
    fixed: { dialects: ['orum'], id: 'my-test-client', secret: { value: 'my-test-secret-123456' } },
  },
  sandbox: { data },
});

test('a second run on the same data directory starts, keeps each declared client under its id, adds no copy, and applies the changed declaration', async () => {
  const first = await startSandbox(options(['a']));
  const ids = { app: first.clients.app!.id, fixed: first.clients.fixed!.id };
  await first.close();

  const second = await startSandbox(options(['a', 'b']));
  try {
    assert.deepEqual({ app: second.clients.app!.id, fixed: second.clients.fixed!.id }, ids);
    const stored = await second.keymint.clients.list();
    assert.deepEqual(stored.map((c) => c.client_id).sort(), [ids.app, ids.fixed].sort());
    assert.deepEqual(stored.find((c) => c.client_id === ids.app)!.scopes, ['a', 'b']);
    for (const name of ['app', 'fixed'] as const) {
      const { id, secret } = second.clients[name]!;
      const res = await postJson(second.url, PATHS.orum, { client_id: id, client_secret: secret });
      assert.equal(res.status, 200, `${name}: ${await res.text()}`);
    }
  } finally {
    await second.close();
  }
});

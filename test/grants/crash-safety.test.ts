/**
 * Crash safety of refresh rotation: `keymint serve` runs as a child process on a temp data dir with
 * KEYMINT_FAULT naming a point of the rotation, which SIGKILLs the process there. After a restart
 * the family holds exactly one live refresh token: the old one (crash before the commit) or the new
 * one (crash after it) — never both, never neither — and a live old token still refreshes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { openKeymint } from '../../src/service.ts';
import { basic, tempDir } from '../support/harness.ts';
import { seedRefreshToken } from './support.ts';

const BIN = new URL('../../bin/keymint.js', import.meta.url).pathname;
const POINTS = ['refresh-before-rotate', 'rotate-after-consume', 'rotate-before-commit', 'refresh-after-rotate'] as const;

function serve(dataDir: string, fault?: string): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KEYMINT_LOG_LEVEL: 'info' };
  delete env.KEYMINT_FAULT;
  if (fault) env.KEYMINT_FAULT = fault;
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dataDir, '--port', '0', '--issuer', 'http://localhost:8080'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buffered}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /"msg":"keymint listening","url":"([^"]+)"/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${buffered}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, signal) => resolve(signal ?? code));
  });

describe('crash safety of refresh rotation (kill -9 at each fault point)', () => {
  const dataDir = tempDir('keymint-crash-');
  let client: { id: string; secret: string };
  before(async () => {
    const core = await openKeymint(loadConfig({ dataDir, logLevel: 'silent' }, {}));
    const created = await core.clients.create({ name: 'crash', grants: ['refresh_token', 'authorization_code'], scopes: ['read'] }, 'test');
    client = { id: created.client.client_id, secret: created.clientSecret! };
    await core.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const point of POINTS) {
    test(`RT-05 crash at ${point}: exactly one live refresh token in the family afterwards`, async () => {
      const core = await openKeymint(loadConfig({ dataDir, logLevel: 'silent' }, {}));
      const { token, familyId } = await seedRefreshToken({ keymint: core }, client.id, { scope: 'read' });
      await core.close();

      const crashing = await serve(dataDir, point);
      const outcome = await fetch(`${crashing.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      }).then((r) => r.status, () => 'connection lost');
      assert.equal(outcome, 'connection lost'); // no 200 was sent
      assert.equal(await exited(crashing.child), 'SIGKILL');

      const db = new DatabaseSync(`${dataDir}/keymint.db`);
      const rows = db.prepare("SELECT revoked_at FROM tokens WHERE family_id = ? AND kind = 'refresh_token'").all(familyId) as { revoked_at: number | null }[];
      db.close();
      const live = rows.filter((r) => r.revoked_at === null).length;
      assert.equal(live, 1, `never both, never neither (rows: ${JSON.stringify(rows)})`);
      const committed = rows.length === 2;
      assert.equal(committed, point === 'refresh-after-rotate');

      const restarted = await serve(dataDir);
      try {
        const res = await fetch(`${restarted.url}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
        });
        await res.arrayBuffer();
        // Old token live → it still refreshes; rotated → presenting it is reuse (and ends the family).
        assert.equal(res.status, committed ? 400 : 200);
      } finally {
        restarted.child.kill('SIGTERM');
        await exited(restarted.child);
      }
    });
  }
});

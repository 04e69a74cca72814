/**
 * Crash safety of refresh rotation: a test-only server entry (`test/support/crash-server.ts`) runs the
 * service as a child process on a temp data dir, its store wrapped to SIGKILL the process at one point
 * of the rotation. After a restart of the real `keymint serve` the family holds exactly one live
 * refresh token: the old one (crash before the commit) or the new one (crash after it), never both,
 * never neither, and a live old token still refreshes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.ts';
import { openKeymint } from '../../src/service.ts';
import { CRASH_POINTS, type CrashPoint } from '../support/crash-points.ts';
import { basic, tempDir } from '../support/harness.ts';
import { serve, stop } from '../support/process.ts';
import { seedRefreshToken } from './support.ts';

const CRASH_SERVER = fileURLToPath(new URL('../support/crash-server.ts', import.meta.url));

/** Starts the crashing server; resolves once it listens. */
function serveCrashing(dataDir: string, point: CrashPoint): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CRASH_SERVER, dataDir, point], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code, signal) => reject(new Error(`crash server exited early (${signal ?? code}): ${err}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, signal) => resolve(signal ?? code));
  });

const refresh = (url: string, client: { id: string; secret: string }, token: string) =>
  fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
  });

describe('crash safety of refresh rotation (kill -9 at each crash point)', () => {
  const dataDir = tempDir('keymint-crash-');
  let client: { id: string; secret: string };
  before(async () => {
    const core = await openKeymint(loadConfig({ dataDir, logLevel: 'silent' }, {}));
    const created = await core.clients.create({ name: 'crash', grants: ['refresh_token', 'authorization_code'], scopes: ['read'] }, 'test');
    client = { id: created.client.client_id, secret: created.clientSecret! };
    await core.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const point of CRASH_POINTS) {
    test(`RT-05 crash at ${point}: exactly one live refresh token in the family afterwards`, async (t) => {
      const core = await openKeymint(loadConfig({ dataDir, logLevel: 'silent' }, {}));
      const { token, familyId } = await seedRefreshToken({ keymint: core }, client.id, { scope: 'read' });
      await core.close();

      const crashing = await serveCrashing(dataDir, point);
      // A failed assertion must not leave the server running (it would hold the test file open).
      t.after(() => void crashing.child.kill('SIGKILL'));
      const outcome = await refresh(crashing.url, client, token).then((r) => r.status, () => 'connection lost');
      assert.equal(outcome, 'connection lost'); // no answer was sent
      assert.equal(await exited(crashing.child), 'SIGKILL');

      const db = new DatabaseSync(`${dataDir}/keymint.db`);
      const rows = db.prepare("SELECT revoked_at FROM tokens WHERE family_id = ? AND kind = 'refresh_token'").all(familyId) as { revoked_at: number | null }[];
      db.close();
      const live = rows.filter((r) => r.revoked_at === null).length;
      assert.equal(live, 1, `never both, never neither (rows: ${JSON.stringify(rows)})`);
      const committed = rows.length === 2;
      assert.equal(committed, point === 'refresh-after-rotate');

      const restarted = await serve(['--data', dataDir, '--issuer', 'http://localhost:8080', '--max-event-loop-delay-ms', '0'], { KEYMINT_LOG_LEVEL: 'info' });
      try {
        const res = await refresh(restarted.url, client, token);
        await res.arrayBuffer();
        // Old token live → it still refreshes; rotated → presenting it is reuse (and ends the family).
        assert.equal(res.status, committed ? 400 : 200);
      } finally {
        await stop(restarted);
      }
    });
  }
});

/** `keymint sandbox` as a user runs it: a file, what it prints, a token, a scripted fault, a clean stop; and its errors. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/harness.ts';
import { BIN, cli } from '../support/process.ts';

const FILE = `version: 1
clients:
  orum-app:
    dialects: [orum]
  web:
    type: public
    grants: [authorization_code]
    redirectUris: ["http://127.0.0.1:3000/callback"]
sandbox:
  seed: 7
  faults:
    - { dialect: orum, status: 429, retryAfter: 2, times: 1 }
`;

test('keymint sandbox --file: prints mounts, clients and issuer; serves them; the file’s fault fires; SIGTERM stops it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keymint.sandbox.yaml');
  writeFileSync(file, FILE);
  const child = spawn(process.execPath, [BIN, 'sandbox', '--file', file, '--dialect', 'orum', '--dialect', 'oauth2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops it.')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const issuer = /issuer (http:\/\/localhost:\d+) \(listening on (http:\/\/127\.0\.0\.1:\d+)\)/.exec(out);
  assert.ok(issuer, out);
  const url = issuer[2]!;
  assert.equal(new URL(issuer[1]!).port, new URL(url).port);
  assert.match(out, new RegExp(`orum +${issuer[1]}/oauth/token`));
  assert.match(out, new RegExp(`oauth2 +${issuer[1]}/oauth2/token`));
  assert.match(out, /web +sk_live_\w+ +public, no secret/);
  const client = /orum-app +(sk_live_\w+) +secret (ks_\w+) \(generated\)/.exec(out);
  assert.ok(client, out);
  const token = () => fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client[1], client_secret: client[2] }) });
  const limited = await token();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('x-retry-in'), '2000');
  await limited.body?.cancel();
  const ok = await token();
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { token_type: string }).token_type, 'Bearer');
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
});

test('keymint sandbox: a bad file is one line naming file, line, column and field; exit 2', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'version: 1\nsandbox:\n  faults:\n    - { status: 418 }\n');
  const r = await cli(['sandbox', '--file', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `keymint sandbox: ${file}:4:17: sandbox.faults[0].status: must be one of 400, 401, 403, 404, 429, 500, 503\n`);
  assert.equal(r.stdout, '');
  // A client's unknown dialect is that client's field, at its line (not the whole sandbox's).
  const dialect = join(dir, 'dialect.yaml');
  writeFileSync(dialect, 'version: 1\nclients:\n  app:\n    dialects: [orum, nope]\n');
  const unknown = await cli(['sandbox', '--file', dialect]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, `keymint sandbox: ${dialect}:4:22: clients.app.dialects[1]: unknown dialect "nope"; known: oauth2, polygon-oms, orum, polar, tradevest, fuuffy\n`);
  const missing = await cli(['sandbox', '--file', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `keymint sandbox: ${join(dir, 'nope.yaml')}: no such file\n`);
  const port = await cli(['sandbox', '--port', '-1']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /^keymint sandbox: /);
});

test('SB-01 keymint serve accepts none of the sandbox’s flags', async () => {
  for (const flag of [['--file', 'keymint.sandbox.yaml'], ['--seed', '1'], ['--fault', '429']]) {
    const r = await cli(['serve', '--port', '0', ...flag]);
    assert.equal(r.code, 2, flag.join(' '));
    assert.match(r.stderr, new RegExp(`${flag[0]}`));
  }
});

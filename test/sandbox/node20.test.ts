/**
 * `keymint/sandbox` runs in a test process on the oldest Node it promises (20): the sources are
 * compiled as `npm run build` compiles them, and the system's older Node imports the result, starts
 * a sandbox on port 0, gets an Orum token, rehearses a 429 and closes. Node 20 has no `node:sqlite`,
 * so this also proves the memory-store path never loads it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < 24);

test('startSandbox from the compiled package on the system’s older Node', { timeout: 120_000, skip: older === undefined ? 'no Node older than 24 installed' : false }, () => {
  // Inside node_modules/.cache, so the compiled files resolve `jose` from this checkout's node_modules.
  const cache = join(root, 'node_modules', '.cache');
  execFileSync('mkdir', ['-p', cache]);
  const pkg = mkdtempSync(join(cache, 'keymint-sandbox-'));
  // The package's layout: dist/ beside schema/ (the sandbox reads the shipped schema from there).
  const out = join(pkg, 'dist');
  mkdirSync(join(pkg, 'schema'));
  copyFileSync(join(root, 'schema', 'keymint.config.schema.json'), join(pkg, 'schema', 'keymint.config.schema.json'));
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out, '--declaration', 'false'], { cwd: root, stdio: 'pipe' });
    const script = `
      const { startSandbox } = await import(${JSON.stringify(join(out, 'start-sandbox.js'))});
      const sb = await startSandbox({ clients: { app: { dialects: ['orum'] } }, sandbox: { faults: [] } });
      const token = () => fetch(sb.url + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: sb.clients.app.id, client_secret: sb.clients.app.secret }) });
      const first = await token();
      sb.fault({ status: 429, retryAfter: 2, times: 1 });
      const limited = await token();
      await limited.text();
      const body = await first.json();
      console.log(JSON.stringify({ node: process.versions.node, port: sb.port, issuer: sb.issuer, first: first.status, type: body.token_type, limited: limited.status, retryIn: limited.headers.get('x-retry-in'), sqlite: process.moduleLoadList?.some((m) => m.includes('sqlite')) ?? false }));
      await sb.close();
    `;
    const result = JSON.parse(execFileSync(older!, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 })) as Record<string, unknown>;
    assert.ok(Number(String(result.node).split('.')[0]) < 24, String(result.node));
    assert.notEqual(result.port, 0);
    assert.equal(result.issuer, `http://localhost:${result.port}`);
    assert.equal(result.first, 200);
    assert.equal(result.type, 'Bearer');
    assert.equal(result.limited, 429);
    assert.equal(result.retryIn, '2000');
    assert.equal(result.sqlite, false);
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

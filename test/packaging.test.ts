/**
 * The published package works where it is installed: `npm run build`, `npm pack`, install the
 * tarball into an empty project, and run `npx keymint serve` from there (Node refuses to strip
 * types inside node_modules, so this proves dist/ is complete and the bin picks it). The installed
 * bin runs the CLI bundle (dist/bundle/, scripts/bundle.ts): `keymint sandbox` serves a token having
 * loaded no other module of the package, on this Node and on the system's older one.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokenLinks } from './support/links.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// The Node running the tests (>= 24) comes first on PATH, as it would on a user's machine.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
// The machine's own Node and npm, as a user's shell finds them (no node_modules/.bin).
const systemEnv = { ...process.env, PATH: (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')).join(':') };
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });

// A hang guard, not a bound: build, pack, install and three processes took 118 s in a full run at
// CI's concurrency on a busy machine, and overran the 180 s this was at concurrency 4.
test('npm pack → install elsewhere → npx keymint serve answers', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'keymint-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // No explicit build: `prepack` must produce dist/ itself.
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  npm(['pack', '--pack-destination', work], root);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack produced a tarball');
  const app = join(work, 'app');
  execFileSync('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // Installed with the system's npm and Node (20 on these machines): no engine warning.
  const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund', join(work, tarball)], { cwd: app, encoding: 'utf8', env: systemEnv });
  assert.equal(installed.status, 0, installed.stderr);
  assert.doesNotMatch(installed.stderr, /EBADENGINE/);
  const pkg = join(app, 'node_modules', 'keymint');
  assert.match(readFileSync(join(pkg, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  // Every document the README links is in the package.
  assert.deepEqual(brokenLinks(pkg, ['README.md']), []);

  const child = spawn('npx', ['keymint', 'serve', '--port', '0', '--data', join(app, 'data'), '--log-level', 'info'], {
    cwd: app,
    env,
    detached: true, // its own process group, so the npx wrapper and the server both stop
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => process.kill(-child.pid!, 'SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"url":"(http:[^"]+)"/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });

  // `keymint sandbox` from the installed bin runs the bundle: every module of the package it loads
  // (a load hook records them) is in dist/bundle/, and its first token request gets a token.
  const sandboxFile = join(app, 'sandbox.json');
  writeFileSync(sandboxFile, JSON.stringify({ version: 1, clients: { app: { dialects: ['orum'] } }, sandbox: {} }));
  const hook = join(app, 'record-loads.mjs');
  writeFileSync(
    hook,
    "import { registerHooks } from 'node:module';\n" +
      "registerHooks({ load(url, context, next) { if (url.includes('/node_modules/keymint/')) process.stderr.write(`loaded ${url}\\n`); return next(url, context); } });\n",
  );
  const bin = join(app, 'node_modules', '.bin', 'keymint');
  const fromBundle = await sandboxToken(process.execPath, ['--import', hook, bin, 'sandbox', '--file', sandboxFile], app);
  assert.equal(fromBundle.status, 200);
  const loaded = [...fromBundle.stderr.matchAll(/^loaded (\S+)$/gm)].map((m) => m[1]!.replace(/.*\/node_modules\/keymint\//, ''));
  assert.ok(loaded.includes('dist/bundle/cli.js'), loaded.join(' '));
  assert.deepEqual(loaded.filter((f) => !f.startsWith('dist/bundle/') && f !== 'bin/keymint.js'), []);
  // The bundle names jose's licence beside jose's code.
  assert.ok(readdirSync(join(pkg, 'dist', 'bundle')).some((f) => /bundled: jose [\d.]+\n[^]*MIT License/.test(readFileSync(join(pkg, 'dist', 'bundle', f), 'utf8'))));

  // The library entry point and its types resolve from the installed package.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const k = await import('keymint'); console.log(typeof k.createKeymint, typeof k.loadConfig)"], { cwd: app, encoding: 'utf8' });
  assert.equal(out.trim(), 'function function');
  assert.ok(readdirSync(join(app, 'node_modules', 'keymint', 'dist')).includes('index.d.ts'));
  // The configuration file's schema ships, where editors and the parser in dist/ find it.
  assert.ok(existsSync(join(app, 'node_modules', 'keymint', 'schema', 'keymint.config.schema.json')));
  const parsed = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "const f = await import('./node_modules/keymint/dist/config/file.js'); console.log(JSON.stringify(f.parseConfigFile('version: 1\\nclients: {a: {scopes: [x]}}').file))"],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal(parsed.trim(), '{"version":1,"clients":{"a":{"scopes":["x"]}}}');

  // The `keymint/verify` and `keymint/client` subpaths resolve, with their declarations.
  const sub = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "const v = await import('keymint/verify'); const c = await import('keymint/client'); console.log(typeof v.createVerifier, typeof v.expressBearer, typeof c.createTokenSource, typeof c.authorizedFetch)"],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal(sub.trim(), 'function function function function');
  for (const dir of ['verify', 'client']) {
    assert.ok(readdirSync(join(app, 'node_modules', 'keymint', 'dist', dir)).includes('index.d.ts'), `dist/${dir}/index.d.ts`);
  }

  // The two SDK subpaths promise Node >= 20 (package.json engines): where an older system Node is
  // installed (these machines ship Node 20), load both and use them there.
  const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < 24);
  if (!older) {
    t.diagnostic('no Node older than 24 installed: the SDK subpaths were checked on this Node only');
    return;
  }
  const script = `
    const { createVerifier } = await import('keymint/verify');
    const { createTokenSource } = await import('keymint/client');
    const v = createVerifier({ issuer: 'http://localhost:8080', audience: 'http://localhost:8080' });
    const s = createTokenSource({ tokenUrl: 'http://127.0.0.1:1/oauth2/token', clientId: 'a', clientSecret: 'b' });
    let code = '';
    try { await v.verify('Bearer not-a-jwt'); } catch (e) { code = e.code; }
    console.log(typeof s.getToken, code);`;
  const onOlder = execFileSync(older, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
  assert.equal(onOlder.trim(), 'function invalid_token', `ran on ${older}`);
  // The bundle runs there too: `keymint sandbox` (in memory, for Node 20) serves a token.
  const onOlderSandbox = await sandboxToken(older, [bin, 'sandbox', '--file', sandboxFile], app);
  assert.equal(onOlderSandbox.status, 200, `sandbox on ${older}: ${onOlderSandbox.stderr}`);
  // On that Node the CLI still answers --version and --help; serve says what to do, in one line, and creates nothing.
  const version = spawnSync(older, [bin, '--version'], { cwd: app, encoding: 'utf8' });
  assert.deepEqual([version.status, version.stdout, version.stderr], [0, `keymint ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`, '']);
  assert.equal(spawnSync(older, [bin, '--help'], { cwd: app, encoding: 'utf8' }).status, 0);
  const olderVersion = execFileSync(older, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  const served = spawnSync(older, [bin, 'serve', '--data', join(app, 'old-node-data')], { cwd: app, encoding: 'utf8' });
  assert.equal(served.stderr, `keymint serve needs Node.js 24 or newer, this is ${olderVersion}; install Node 24 (in a checkout, npx keymint uses the pinned node@24)\n`);
  assert.equal(served.status, 7);
  assert.ok(!existsSync(join(app, 'old-node-data')));
  // The configuration file's parser too: the sandbox reads its file with it on the user's Node.
  const parsedOlder = execFileSync(
    older,
    ['--input-type=module', '-e', "const f = await import('./node_modules/keymint/dist/config/file.js'); console.log(JSON.stringify(f.parseConfigFile('version: 1\\nclients: {a: {scopes: [x]}}').file))"],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal(parsedOlder.trim(), '{"version":1,"clients":{"a":{"scopes":["x"]}}}', `parsed on ${older}`);
});

/** Starts `keymint sandbox` (node args…), asks its Orum token endpoint once, stops it. */
async function sandboxToken(node: string, args: string[], cwd: string): Promise<{ status: number; stderr: string }> {
  const child = spawn(node, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('Ctrl-C stops it.') && resolve())),
      exited.then(() => assert.fail(`keymint sandbox exited: ${err}`)),
    ]);
    const url = /listening on (http:\/\/[^)]+)\)/.exec(out)![1];
    const client = /app +(\S+) +secret (\S+) \(generated\)/.exec(out)!;
    const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client[1], client_secret: client[2] }) });
    const body = (await res.json()) as { access_token?: string };
    assert.ok(res.status !== 200 || typeof body.access_token === 'string');
    return { status: res.status, stderr: err };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

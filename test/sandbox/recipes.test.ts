/**
 * Every recipe in docs/sandbox/ runs as written. Its code blocks marked `file=NAME` (```js file=orum.test.mjs)
 * are written, unchanged, into a project where Keymint is installed as a package — the sources
 * compiled as `npm run build` compiles them, under node_modules/keymint with this package.json — and
 * each `*.test.mjs` among them runs with `node --test`: every test in it must pass. The Orum
 * recipe's test file must also keep its promise of ten lines or fewer before its first test.
 * The recipes declare clients with the id and secret of the test's own config; while the service
 * cannot take a chosen id and secret (client import), they cannot pass, and are skipped saying so.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const recipesDir = join(root, 'docs', 'sandbox');
const PROVIDERS = ['orum', 'polar', 'fuuffy', 'tradevest', 'polygon-oms'];

/** The code blocks of a recipe that name a file, in order. */
export function recipeFiles(markdown: string): Array<{ file: string; code: string }> {
  return [...markdown.matchAll(/^```[a-z]+ file=([A-Za-z0-9._-]+)\n([\s\S]*?)^```$/gm)].map((m) => ({ file: m[1]!, code: m[2]! }));
}

function runTests(file: string, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // A child of a test file inherits NODE_TEST_CONTEXT and would refuse to run its own files.
    const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    execFile(process.execPath, ['--test', '--test-reporter=spec', file], { cwd, env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** Whether the sandbox keeps a declared client id (client import), probed on the compiled package. */
function fixedCredentials(project: string): boolean {
  const script = `
    const { startSandbox } = await import('keymint/sandbox');
    const sb = await startSandbox({ clients: { probe: { id: 'recipe-probe-client', secret: { value: 'recipe-probe-secret-0123456789' } } } });
    console.log(sb.clients.probe.id);
    await sb.close();`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' }).trim() === 'recipe-probe-client';
}

describe('the sandbox recipes run as written', () => {
  let project: string;
  let importable = false;
  before(() => {
    if (!existsSync(join(root, 'src', 'start-sandbox.ts'))) return;
    // Inside node_modules/.cache, so the compiled package resolves its dependencies (jose, yaml)
    // and the recipes theirs (@polar-sh/sdk) from this checkout's node_modules.
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    project = mkdtempSync(join(cache, 'keymint-recipes-'));
    const pkg = join(project, 'node_modules', 'keymint');
    mkdirSync(pkg, { recursive: true });
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist'), '--declaration', 'false'], { cwd: root, stdio: 'pipe' });
    // Beside dist/, what the package ships (its `files`: bin, schema, README.md).
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    for (const entry of manifest.files) if (entry !== 'dist') cpSync(join(root, entry), join(pkg, entry), { recursive: true });
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
    importable = fixedCredentials(project);
  });
  after(() => project && rmSync(project, { recursive: true, force: true }));

  test('docs/sandbox/README.md links one recipe per provider', () => {
    const index = readFileSync(join(recipesDir, 'README.md'), 'utf8');
    for (const p of PROVIDERS) {
      assert.ok(readdirSync(recipesDir).includes(`${p}.md`), `docs/sandbox/${p}.md`);
      assert.ok(index.includes(`](${p}.md)`), `docs/sandbox/README.md links ${p}.md`);
    }
  });

  for (const provider of PROVIDERS) {
    test(`${provider}: the recipe's test file passes`, { timeout: 180_000 }, async () => {
      assert.ok(importable, 'the compiled sandbox keeps a declared client id and secret');
      const files = recipeFiles(readFileSync(join(recipesDir, `${provider}.md`), 'utf8'));
      const tests = files.filter((f) => f.file.endsWith('.test.mjs'));
      assert.equal(tests.length, 1, 'one node:test file');
      for (const { file, code } of files) writeFileSync(join(project, file), code);
      const { code, out } = await runTests(tests[0]!.file, project);
      const declared = [...tests[0]!.code.matchAll(/^test\(/gm)].length;
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`ℹ pass ${declared}\\n`), out);
      assert.match(out, /ℹ fail 0\n/, out);
    });
  }

  test('the Orum recipe: startSandbox, client id and secret from the test config, ten lines or fewer before the first test', () => {
    const [file] = recipeFiles(readFileSync(join(recipesDir, 'orum.md'), 'utf8')).filter((f) => f.file.endsWith('.test.mjs'));
    const head = file!.code.slice(0, file!.code.indexOf('\ntest(')).split('\n').filter((l) => l.trim() !== '');
    assert.ok(head.length <= 10, head.join('\n'));
    assert.ok(head.some((l) => l.includes("from 'keymint/sandbox'")));
    assert.ok(head.some((l) => /id: config\.clientId, secret: \{ value: config\.clientSecret \}/.test(l)));
    for (const fault of [/status: 429/, /status: 500/, /latencyMs:/, /tokenTtl:|advanceClock\(/]) assert.match(file!.code, fault);
  });
});

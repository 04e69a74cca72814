/**
 * docs/apply.md as a user reads it: its example file, written as shown, plans cleanly (with the
 * `secrets` directory and `BILLING_SECRET` it says to provide), and each mistake "A bad file changes
 * nothing" names gives the very line the doc prints, with exit 2 and no store made.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';

const doc = readFileSync(fileURLToPath(new URL('../../docs/apply.md', import.meta.url)), 'utf8');
const example = /^```yaml\n(# yaml-language-server[\s\S]*?)^```$/m.exec(doc)![1]!;
const section = doc.slice(doc.indexOf('## A bad file changes nothing'));
const printed = /^```\n([\s\S]*?)^```$/m.exec(section)![1]!.trimEnd().split('\n');

const dir = tempDir('keymint-apply-doc-');
const file = join(dir, 'keymint.yaml');
const data = join(dir, 'data');
const env = { BILLING_SECRET: 'billing-secret-0123456789abcdef' };
mkdirSync(join(dir, 'secrets'));
after(() => rmSync(dir, { recursive: true, force: true }));

const dryRun = (text: string, envs: NodeJS.ProcessEnv, store = data) => {
  writeFileSync(file, text);
  return cli(['apply', '-f', file, '--dry-run', '--data', store], envs);
};

test('the example file of apply.md plans four creations, as written', async () => {
  const r = await dryRun(example, env);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged\.$/m);
  assert.ok(!existsSync(data), 'a dry run makes no store');
});

test('each mistake apply.md names prints the line it shows, exit 2, nothing created', async () => {
  const mistakes: Array<[string, NodeJS.ProcessEnv]> = [
    [example.replace('    scopes: [payments:read', '    scope: [payments:read'), env],
    [example.replace('tokenTtl: 900 ', 'tokenTtl: 9.5 '), env],
    [example.replace('dialects: [orum]', 'dialects: [orun]'), env],
    [example, { BILLING_SECRET: '' }],
  ];
  assert.equal(printed.length, mistakes.length);
  for (const [i, [text, envs]] of mistakes.entries()) {
    const r = await dryRun(text, envs, join(dir, 'never-made'));
    assert.equal(r.stderr.replaceAll(file, 'keymint.yaml'), `${printed[i]}\n`);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(join(dir, 'never-made')), 'no store made');
  }
});

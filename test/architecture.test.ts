/**
 * The layering of src/ as docs/architecture.md draws it: no import loops, no upward imports
 * (.dependency-cruiser.cjs holds the table), nothing below dialects/ naming a dialect, SQL only in
 * storage/, crash switches only in tests.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { DIALECTS } from '../src/dialects/index.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { options: Record<string, unknown> };

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Code without comments, so documentation may name what code must not. */
const code = (file: string): string => readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

test('the dependency rules hold: no cycles, no upward imports, dialects free of http/', async () => {
  const result = await cruise(['src'], { ...config.options, ruleSet: config as never, validate: true, outputType: 'json' }, undefined, { tsConfig: undefined });
  const output = (typeof result.output === 'string' ? JSON.parse(result.output) : result.output) as ICruiseResult;
  assert.ok(output.summary.totalCruised > 100, 'the whole of src/ was cruised');
  const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
  assert.deepEqual(violations, []);
});

test('nothing below dialects/ names a dialect', () => {
  const names = [...DIALECTS.keys()];
  const literal = new RegExp(`['"\`](${names.map((n) => n.replace('-', '\\-')).join('|')})['"\`]`);
  const below = ['grants', 'protocol', 'credentials', 'limits', 'tokens', 'feed', 'metrics', 'storage', 'wire', 'config', 'util'];
  // The one exception is data: the default of the `--dialect` option names the standard dialect.
  const offenders = below.flatMap((d) => sources(`src/${d}`)).filter((f) => f !== 'src/config/options.ts' && literal.test(code(f)));
  assert.deepEqual(offenders, []);
});

test('SQL lives only in storage/', () => {
  const sql = /\b(SELECT\s+[\w*]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b/;
  const offenders = sources('src').filter((f) => !f.startsWith('src/storage/') && sql.test(code(f)));
  assert.deepEqual(offenders, []);
});

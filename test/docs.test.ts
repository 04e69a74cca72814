import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configMarkdown } from '../scripts/config-docs.ts';

test('docs/configuration.md is the generated one (run `node scripts/config-docs.ts` after changing options)', () => {
  assert.equal(readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8'), configMarkdown());
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configMarkdown } from '../scripts/config-docs.ts';
import { readRequirements, securityMatrix } from '../scripts/security-matrix.ts';

test('docs/configuration.md is the generated one (run `node scripts/config-docs.ts` after changing options)', () => {
  assert.equal(readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8'), configMarkdown());
});

test('docs/security.md is the generated one (run `node scripts/security-matrix.ts` after adding a requirement or a test named after one)', () => {
  assert.equal(readFileSync(new URL('../docs/security.md', import.meta.url), 'utf8'), securityMatrix().markdown);
});

test('the requirement list: every ID once, sections kept, untestable entries and deviations read', () => {
  const { requirements, reasons, deviations } = readRequirements(
    ['## One', '| ID | Requirement | Source |', '|---|---|---|', '| X-01 | first | MUST |', '| X-02 | second, with `a \\| b` | Keymint |', '## Two', '| X-03 | third | S |',
      '## Requirements no test can cover', '', '- **X-02**: because', '  it cannot.', '', '## Documented deviations', '', '- **X-01**: none.'].join('\n'),
  );
  assert.deepEqual(requirements.map((r) => [r.id, r.section]), [['X-01', 'One'], ['X-02', 'One'], ['X-03', 'Two']]);
  assert.equal(reasons.get('X-02'), 'because it cannot.');
  assert.equal(deviations, '## Documented deviations\n\n- **X-01**: none.');
  assert.throws(() => readRequirements('| X-01 | a | b |\n| X-01 | c | d |\n## Requirements no test can cover\n## Documented deviations'), /X-01 is listed twice/);
});

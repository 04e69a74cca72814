import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configMarkdown } from '../scripts/config-docs.ts';
import { ADMIN_ENDPOINTS } from '../src/admin/routes.ts';
import { COMMANDS } from '../src/cli/commands.ts';
import { parseCommandLine } from '../src/cli/parse.ts';
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

const root = new URL('../', import.meta.url);
/** README.md and every page under docs/. */
const DOCS = ['README.md', ...readdirSync(new URL('docs/', root), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/**
 * Every `keymint …` command line the docs show: the lines of sh code blocks (whole commands a user runs) and
 * inline code spans (`keymint clients create --admin`: a command and a flag named in prose, maybe not all it needs).
 */
function documentedCommands(text: string): Array<{ line: string; whole: boolean }> {
  const found: Array<{ line: string; whole: boolean }> = [];
  const fences = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(fences)) {
    if (!['sh', 'bash', 'shell'].includes(m[1]!)) continue;
    for (const line of m[2]!.replace(/\\\n/g, ' ').split('\n')) found.push({ line, whole: true });
  }
  for (const m of text.replace(fences, '').matchAll(/`((?:npx )?keymint [^`]+)`/g)) found.push({ line: m[1]!, whole: false });
  return found
    .map(({ line, whole }) => ({ line: line.replace(/\s#\s.*$/, '').replace(/\s>\s.*$/, '').replace(/\s+/g, ' ').trim(), whole }))
    .filter(({ line }) => /^(?:[A-Z_]+=\S+\s+)*(?:npx )?keymint /.test(line));
}

/** Shell words of a documented line, without env assignments, `npx`, `keymint`, or optional `[…]` parts. */
function shellWords(line: string): string[] | undefined {
  let rest = line;
  while (/\[[^[\]]*\]/.test(rest)) rest = rest.replace(/\[[^[\]]*\](\.\.\.|…)?/g, '');
  // Placeholders and alternatives (`keymint <command> --help`, `show ID | rotate-secret ID`, `keymint clients …`) are syntax, not a command line.
  if (/[<|]|\s…(\s|$)/.test(rest)) return undefined;
  // An error message quoted in prose (`keymint clients create: unknown flag --nmae`) is output, not input.
  if (/^[^-]*?\S: /.test(rest)) return undefined;
  // A word is a run of quoted and unquoted parts, as the shell reads it: KM_PW='a b' is one word.
  const words = [...rest.matchAll(/(?:'[^']*'|"[^"]*"|[^\s'"]+)+/g)].map((m) => m[0].replace(/'([^']*)'|"([^"]*)"/g, '$1$2'));
  while (/^[A-Z_]+=/.test(words[0] ?? '')) words.shift();
  if (words[0] === 'npx') words.shift();
  return words.slice(1);
}

test('every keymint command line in README.md and docs/ parses: its command and flags exist and its values are well-formed', () => {
  let checked = 0;
  for (const file of DOCS) {
    for (const { line, whole } of documentedCommands(readFileSync(new URL(file, root), 'utf8'))) {
      const argv = shellWords(line);
      if (argv === undefined) continue;
      checked++;
      let parsed;
      try {
        parsed = parseCommandLine(argv, COMMANDS);
      } catch (err) {
        // Prose may name a command and one flag without the rest it needs; a code block is run as it stands.
        if (!whole && /is required|: missing |needs a value/.test((err as Error).message)) continue;
        assert.fail(`${file}: \`${line}\`: ${(err as Error).message}`);
      }
      assert.ok(parsed.kind === 'run' || argv.includes('--help') || argv.includes('--version'), `${file}: \`${line}\` is not a command`);
    }
  }
  assert.ok(checked > 40, `only ${checked} command lines found`);
});

test('the command-line reader of the docs: code blocks, continuations, inline spans, env assignments, optional parts', () => {
  const text = [
    '```sh', 'ACME=x keymint clients create --name a \\', '  --scope s   # a comment', 'curl -s x', 'keymint export > k.yaml', '```',
    '```', 'keymint not a shell block', '```', 'Run `keymint audit [--limit N]` or `keymint clients …`.'].join('\n');
  const found = documentedCommands(text);
  assert.deepEqual(found.map((f) => `${f.whole ? 'block' : 'span'}: ${f.line}`), ['block: ACME=x keymint clients create --name a --scope s', 'block: keymint export', 'span: keymint audit [--limit N]', 'span: keymint clients …']);
  assert.deepEqual(found.map((f) => shellWords(f.line)), [['clients', 'create', '--name', 'a', '--scope', 's'], ['export'], ['audit'], undefined]);
  assert.deepEqual(shellWords(`KM_PW='a b' keymint console users add "ann" --role admin`), ['console', 'users', 'add', 'ann', '--role', 'admin']);
});

test('the admin API: operations.md lists every endpoint, and every /admin path a doc names is one', () => {
  const table = readFileSync(new URL('docs/operations.md', root), 'utf8');
  const listed = new Set([...table.matchAll(/^\| `(GET|POST|PATCH|DELETE) (\/admin\/v1\/[^`?]*)[^`]*`(?:, `…\/(\w+)`)? \|/gm)]
    .flatMap((m) => [`${m[1]} ${m[2]}`, ...(m[3] ? [`${m[1]} ${m[2]!.replace(/[^/]+$/, m[3])}`] : [])]));
  assert.deepEqual([...listed].sort(), [...ADMIN_ENDPOINTS].sort());
  const patterns = ADMIN_ENDPOINTS.map((e) => new RegExp(`^${e.split(' ')[1]!.replace(/:id/g, '[^/]+')}$`));
  for (const file of DOCS) {
    for (const m of readFileSync(new URL(file, root), 'utf8').matchAll(/\/admin(?:\/(?:<\w+>|[\w{}:…-]+))+/g)) {
      if (m[0] === '/admin/v1') continue;
      assert.ok(patterns.some((p) => p.test(m[0])), `${file}: ${m[0]} is not an admin API endpoint`);
    }
  }
});

test('every KEYMINT_* variable a doc names is read somewhere: an option (configuration.md, generated from the code) or a name the code, tests or CI read', () => {
  const known = new Set(readFileSync(new URL('docs/configuration.md', root), 'utf8').match(/KEYMINT_[A-Z0-9_]+/g));
  const sources = ['src', 'test/support', 'bench'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`));
  for (const file of [...sources, '.ci/run']) for (const name of readFileSync(new URL(file, root), 'utf8').match(/KEYMINT_[A-Z0-9_]+/g) ?? []) known.add(name);
  for (const file of DOCS) {
    for (const name of readFileSync(new URL(file, root), 'utf8').match(/KEYMINT_[A-Z0-9_]+/g) ?? []) assert.ok(known.has(name), `${file}: ${name} is read by nothing`);
  }
});

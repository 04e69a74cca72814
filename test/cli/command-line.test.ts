/** The command table drives parsing and help: per-command help, --version, unknown flags named with a suggestion, typed values. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CliError, EXIT, type Command } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { main } from '../../src/cli/main.ts';
import { closest, parseCommandLine } from '../../src/cli/parse.ts';
import { cliMarkdown } from '../../scripts/cli-docs.ts';

/** Runs main in-process, capturing what it writes. */
async function run(argv: string[], commands?: readonly Command[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((s: string) => ((captured.stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((captured.stderr += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv, commands);
    return { code, ...captured };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

const usage = (argv: string[]) => {
  try {
    parseCommandLine(argv, COMMANDS);
  } catch (err) {
    assert.ok(err instanceof CliError);
    assert.equal(err.exit, 'usage');
    return err.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
};

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.deepEqual(await run(['--version']), { code: 0, stdout: `keymint ${pkg.version}\n`, stderr: '' });
});

test('keymint --help lists every command of the table and every exit code', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name} +${c.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
  for (const [name, code] of Object.entries(EXIT)) assert.match(r.stdout, new RegExp(`^ +${code}  \\S`, 'm'), name);
  const bare = await run([]);
  assert.equal(bare.code, EXIT.usage, 'no command is a usage error');
  assert.equal(bare.stderr, r.stdout);
});

test('each command has its own --help, with its flags and examples', async () => {
  for (const c of COMMANDS) {
    const r = await run([...c.name.split(' '), '--help']);
    assert.equal(r.code, 0, c.name);
    assert.ok(r.stdout.startsWith(`Usage: keymint ${c.name}`), c.name);
    for (const flag of Object.keys(c.flags)) assert.match(r.stdout, new RegExp(`--${flag}\\b`), `${c.name} --${flag}`);
    for (const e of c.examples) assert.ok(r.stdout.includes(`  keymint ${e}\n`), `${c.name}: ${e}`);
    assert.ok(c.examples.length > 0, `${c.name} has an example`);
    assert.deepEqual(await run(['help', ...c.name.split(' ')]), r, `keymint help ${c.name}`);
  }
  const serve = await run(['serve', '--help']);
  assert.match(serve.stdout, /--data VALUE +Data directory .*\[KEYMINT_DATA\]/);
  const group = await run(['clients', '--help']);
  assert.match(group.stdout, /^  clients show ID +Show one client/m);
});

test('every example in the table parses', () => {
  for (const c of COMMANDS) {
    for (const e of c.examples) {
      const line = parseCommandLine(e.split(' '), COMMANDS);
      assert.equal(line.kind, 'run', e);
      assert.equal(line.kind === 'run' && line.command.name, c.name, e);
    }
  }
});

test('an unknown flag is named, with the closest known one suggested', () => {
  assert.equal(usage(['clients', 'create', '--nmae', 'x']), 'keymint clients create: unknown flag --nmae (did you mean --name?); see keymint clients create --help');
  assert.equal(usage(['serve', '--prot', '80']), 'keymint serve: unknown flag --prot (did you mean --port?); see keymint serve --help');
  assert.equal(usage(['audit', '--zzzzzz']), 'keymint audit: unknown flag --zzzzzz; see keymint audit --help');
  // OBJ-01: names of Object.prototype's members are unknown flags too, not "given twice".
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) assert.match(usage(['audit', `--${name}`, 'x']), new RegExp(`^keymint audit: unknown flag --${name}[;( ]`));
  const line = parseCommandLine(['clients', 'create', '--name', '--toString'], COMMANDS);
  assert.equal(line.kind === 'run' ? line.flags.name : line.kind, '--toString', 'a value that looks like a prototype member is a value');
  assert.equal(usage(['clinets', 'list']), 'keymint: unknown command "clinets" (did you mean clients?); keymint --help lists the commands');
  assert.equal(usage(['clients', 'lsit']), 'keymint clients: unknown command "lsit" (did you mean list?); commands: create, list, show, update, rotate-secret, disable, enable, delete');
  assert.equal(closest('rotate', ['rotate-secret', 'list']), 'rotate-secret');
});

test('values are checked by type: integers, choices, missing values, required flags and arguments', () => {
  assert.equal(usage(['audit', '--limit', 'x']), 'keymint audit: --limit expects a whole number from 1 to 10000, got "x"; see keymint audit --help');
  assert.equal(usage(['audit', '--limit', '0']), 'keymint audit: --limit expects a whole number from 1 to 10000, got "0"; see keymint audit --help');
  assert.equal(usage(['clients', 'create']), 'keymint clients create: --name NAME is required (display name, 1–200 printable characters); see keymint clients create --help');
  assert.equal(usage(['clients', 'create', '--name', 'a', '--mode', 'prod']), 'keymint clients create: --mode must be one of live, sandbox, got "prod"; see keymint clients create --help');
  assert.equal(usage(['clients', 'create', '--name']), 'keymint clients create: --name needs a value (NAME); see keymint clients create --help');
  assert.equal(usage(['clients', 'create', '--name', '--json']), 'keymint clients create: --name needs a value (NAME); see keymint clients create --help');
  assert.equal(usage(['clients', 'create', '--name', 'a', '--name', 'b']), 'keymint clients create: --name is given twice; see keymint clients create --help');
  assert.equal(usage(['clients', 'create', '--name', 'a', '--json=yes']), 'keymint clients create: --json takes no value; see keymint clients create --help');
  assert.equal(usage(['clients', 'show']), 'keymint clients show: missing ID (the client id, as keymint clients list shows it); see keymint clients show --help');
  assert.equal(usage(['clients', 'list', 'extra']), 'keymint clients list: unexpected argument "extra"; see keymint clients list --help');
  const line = parseCommandLine(['clients', 'create', '--name=a b', '--scope', 'x', '--scope', 'y', '--ttl', '60', '--data', 'd'], COMMANDS);
  assert.ok(line.kind === 'run');
  assert.deepEqual(line.flags, { name: 'a b', scope: ['x', 'y'], ttl: 60, data: 'd' });
});

test('--port -1 reaches the range check; a bad config value names the option', async () => {
  const r = await run(['serve', '--port', '-1', '--data', ':memory:']);
  assert.deepEqual(r, { code: EXIT.usage, stdout: '', stderr: 'keymint: --port: must be between 0 and 65535, got -1\n' });
});

test('--json is offered by every read command', () => {
  for (const name of ['clients list', 'clients show', 'keys list', 'audit']) {
    assert.equal(COMMANDS.find((c) => c.name === name)?.flags.json?.type, 'boolean', name);
  }
});

test('docs/cli.md is generated from the command table (run `node scripts/cli-docs.ts` after changing a command)', () => {
  assert.equal(readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8'), cliMarkdown());
});

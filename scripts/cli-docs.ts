/** Writes docs/cli.md from the command table (src/cli/commands.ts): run it after adding or changing a command. */
import { writeFileSync } from 'node:fs';
import { EXIT, EXIT_DOCS, type Command } from '../src/cli/command.ts';
import { COMMANDS } from '../src/cli/commands.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function reference(c: Command): string {
  const args = (c.args ?? []).map((a) => (a.required ? ` ${a.name}` : ` [${a.name}]`)).join('');
  const required = Object.entries(c.flags).filter(([, s]) => s.required).map(([n, s]) => ` --${n} ${s.value ?? 'VALUE'}`).join('');
  const rows = [
    ...(c.args ?? []).map((a) => `| \`${a.name}\` | ${cell(a.doc)}${a.required ? ' (required)' : ''} |`),
    ...Object.entries(c.flags).map(([name, s]) => {
      const notes = [s.required ? 'required' : '', s.type === 'list' ? 'repeatable' : '', s.choices ? `one of ${s.choices.map((x) => `\`${x}\``).join(', ')}` : '',
        s.type === 'integer' && s.min !== undefined ? (s.max !== undefined ? `${s.min}–${s.max}` : `≥ ${s.min}`) : ''].filter(Boolean);
      return `| \`--${name}${s.type === 'boolean' ? '' : ` ${s.value ?? 'VALUE'}`}\` | ${cell(s.doc)}${notes.length ? ` (${notes.join('; ')})` : ''} |`;
    }),
  ];
  return [
    `### \`keymint ${c.name}\``,
    '',
    `${c.summary}.${c.description ? ` ${c.description.replace(/\n/g, ' ')}` : ''}`,
    '',
    '```',
    `keymint ${c.name}${args}${required} [options]`,
    '```',
    '',
    ...(rows.length ? ['| argument or flag | meaning |', '|---|---|', ...rows, ''] : []),
    c.config === false ? 'The config options do not apply.' : c.name === 'serve' ? 'Takes every [config option](configuration.md).' : 'Also takes the [config options](configuration.md) that locate the store (`--data`, `--database-url`, …).',
    '',
    'Examples:',
    '',
    '```sh',
    ...c.examples.map((e) => `keymint ${e}`),
    '```',
    '',
  ].join('\n');
}

export function cliMarkdown(commands: readonly Command[] = COMMANDS): string {
  return `<!-- Generated from the command table (src/cli/commands.ts) by \`node scripts/cli-docs.ts\`; do not edit by hand. -->
# The \`keymint\` command

\`\`\`sh
keymint --help                 # every command, and the exit codes
keymint <command> --help       # one command: its arguments, flags and examples (also: keymint help <command>)
keymint --version
\`\`\`

In a checkout run it as \`npx keymint …\` (npm puts the pinned Node 24 first); an installed package
provides \`keymint\` on its own. \`serve\` and every command that opens the store need Node.js 24 and
say so (exit code ${EXIT.node}) on an older one; \`--help\` and \`--version\` run on Node 20 too, as do the
\`keymint/verify\` and \`keymint/client\` entry points.

## Flags

- Each command declares its flags with a type; a value is checked before anything runs: a whole
  number (\`audit --limit x\` is refused), one of a list (\`--mode live|sandbox\`), or repeatable
  (\`--scope a --scope b\`). \`--flag value\` and \`--flag=value\` are the same; a value may start with
  \`-\` (\`--port -1\` is refused by the port's range, not mistaken for a flag).
- An unknown flag or command is named, with the closest known one: \`keymint clients create: unknown
  flag --nmae (did you mean --name?)\`. A missing required flag or argument is named with what it is.
- Commands that open the store also take the [config options](configuration.md) (\`--data\`,
  \`--database-url\`, …), each with its \`KEYMINT_*\` environment variable; the flag wins.
- Every command that reads (\`clients list\`, \`clients show\`, \`consents list\`, \`keys list\`, \`audit\`)
  prints JSON with \`--json\`; so do the commands that change something.

## Exit codes

Every refusal is one line on stderr naming the cause and the fix, with one of these codes, and no
stack trace (set \`KEYMINT_DEBUG=1\` to see one for an unexpected failure):

| code | meaning |
|---|---|
${EXIT_DOCS.map(([name, doc]) => `| ${EXIT[name]} | ${cell(doc)} |`).join('\n')}

## Checks before anything is written

Before a command opens the store it checks, and refuses without creating anything. Flag and
configuration values come first (exit 2: an unknown \`--dialect\`, say, is named even when the port is
also taken), then the data directory and KEK, then the port:

| situation | exit | what it says to do |
|---|---|---|
| \`serve\` or \`sandbox\` on a port in use (a second \`serve\` or \`sandbox\`: the message names the same command), a port this user may not bind (below 1024 without root or CAP_NET_BIND_SERVICE), an address not on this machine or a name that does not resolve (checked with \`--port 0\` too) | ${EXIT.portBusy} | stop the other process, or choose another \`--port\` / \`--host\` |
| \`--data\` names a file, or a path through a file | ${EXIT.dataDir} | point \`--data\` at a directory (created if absent) |
| the data directory cannot be read and written by this user | ${EXIT.dataDir} | run as its owner, or give access (\`chmod 700\`) |
| its database (\`<data>/keymint.db\`) cannot be read and written by this user | ${EXIT.dataDir} | run as its owner, or give access (\`chmod 600\`) |
| the data directory cannot be made where the parent is (a file system such as \`/proc\` that refuses it; found when it is made) | ${EXIT.dataDir} | choose another \`--data\` |
| a read command (\`clients list\`, \`show\`, \`consents list\`, \`keys list\`, \`audit\`, …) on a \`--data\` with no store | ${EXIT.noStore} | check \`--data\`; only ${commands.filter((c) => c.store === 'create').map((c) => `\`${c.name}\``).join(', ')} create a store |
| the KEK file (\`<data>/kek\`) is a directory or unreadable | ${EXIT.kek} | restore the key file; run as its owner |
| \`serve --tls-cert\`/\`--tls-key\`/\`--tls-client-ca\` (or \`KEYMINT_TLS_CERT\`, \`KEYMINT_TLS_KEY\`, \`KEYMINT_TLS_CLIENT_CA\`): a file missing, unreadable or holding no PEM certificate or key, one of the pair without the other, a key that is not the certificate's (checked before the data directory) | ${EXIT.tls} | point the flag at the right PEM file; see [mtls.md](mtls.md) |
| \`<data>/kek\` deleted beside a store that holds keys | ${EXIT.kek} | restore it from a backup or set \`KEYMINT_KEK\`; Keymint never generates a replacement, which could not open those keys |
| \`KEYMINT_KEK\` is not the key the store was sealed with | ${EXIT.kek} | give every node and the CLI the same KEK |
| PostgreSQL or Redis cannot be reached | ${EXIT.unavailable} | check \`--database-url\` / \`--redis-url\` (or \`KEYMINT_DATABASE_URL\` / \`KEYMINT_REDIS_URL\`) |
| another process holds the SQLite store's write lock longer than the busy timeout (5 s), e.g. a \`sqlite3\` shell left inside a transaction | ${EXIT.unavailable} | retry; end the transaction that holds the lock |

It warns (and goes on) when the KEK file can be read by other users (\`chmod 600\`), the data
directory is writable by every user (\`chmod 700\`), or a \`KEYMINT_*\` variable is set that is no
option (a misspelling such as \`KEYMINT_DATA_DIR\`, which would leave the default in force: the warning
names the option meant; \`keymint sandbox\` reads none and says nothing); \`serve\` also warns when
\`--client-urls-allow-private\` is combined with \`--registration open\` or
\`--client-id-metadata-documents\`, which lets anyone make the server fetch from and POST to private
and loopback addresses (fine on a development machine, not elsewhere). The KEK and the data directory are created 0600
and 0700. A value the service itself judges (\`clients create --grant bogus\`, a console user's
name) is refused once the store is open: on a \`--data\` that held no store, that refusal (exit 2)
removes the directory, KEK and database it made. Tests: \`test/cli/operator-errors.test.ts\` drives each case and checks the message, the
exit code and that nothing was written.

## Commands

${commands.map(reference).join('\n')}
## Adding a command

A command is one \`Command\` object (\`src/cli/command.ts\`): its name (\`clients update\`), summary,
positional arguments, flags with their types, examples, whether it needs an existing store, and
\`run\`. Add it to \`src/cli/commands.ts\`; parsing, \`--help\` and this page follow (\`node
scripts/cli-docs.ts\` rewrites this page; \`test/cli/command-line.test.ts\` checks it is current and that
every example parses).
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/cli.md', import.meta.url), cliMarkdown());
}

/** `keymint --help`, `keymint <group> --help` and `keymint <command> --help`, derived from the command table. */
import { defaultText, OPTIONS } from '../config/index.ts';
import { EXIT, EXIT_DOCS, type Command, type FlagSpec } from './command.ts';
import { CONFIG_FLAGS, groupOf } from './parse.ts';

const column = (left: string, right: string, width = 30) => `  ${left.padEnd(width - 2)}${left.length > width - 3 ? `\n${' '.repeat(width)}` : ''}${right}`;

/** The config options most commands use, named in each command's help (serve's lists them all). */
const STORE_OPTIONS = ['data', 'database-url', 'database-schema', 'redis-url', 'log-level'];

export function globalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return `Usage: keymint <command> [options]

Commands:
${commands.map((c) => column(c.name, c.summary, Math.max(width, 24))).join('\n')}

  keymint <command> --help shows a command's flags and examples; keymint help <command> does the same.

Options:
${column('-h, --help', 'Show help')}
${column('--version', 'Print the version')}
  Commands that open the store also take the config options (--data DIR, --database-url URL, …);
  keymint serve --help lists them all, each with its KEYMINT_* environment variable.

Exit codes:
${exitCodes()}

Documentation: docs/cli.md, docs/configuration.md
`;
}

export function exitCodes(): string {
  return EXIT_DOCS.map(([name, doc]) => `  ${String(EXIT[name]).padStart(3)}  ${doc}`).join('\n');
}

export function groupHelp(group: string, commands: readonly Command[]): string {
  const members = commands.filter((c) => groupOf(c.name) === group);
  const width = Math.max(...members.map((c) => usageArgs(c).length + c.name.length)) + 5;
  return `Usage: keymint ${group} <command> [options]

Commands:
${members.map((c) => column(`${c.name}${usageArgs(c)}`, c.summary, Math.max(width, 24))).join('\n')}

keymint ${group} <command> --help shows a command's flags and examples.
`;
}

export function commandHelp(command: Command): string {
  const own = Object.entries(command.flags);
  const required = own.filter(([, s]) => s.required).map(([n, s]) => ` --${n} ${s.value ?? 'VALUE'}`).join('');
  const lines = [`Usage: keymint ${command.name}${usageArgs(command)}${required} [options]`, '', `${command.summary}.`];
  if (command.description) lines.push(command.description);
  if (command.args?.length) {
    lines.push('', 'Arguments:', ...command.args.map((a) => column(a.name, a.doc)));
  }
  lines.push('', 'Options:', ...own.map(([name, spec]) => flagLine(name, spec)), column('-h, --help', 'Show this help'));
  if (command.config !== false) {
    if (command.name === 'serve') {
      lines.push('', 'Config options (each also read from its environment variable):', ...configLines(), column('KEYMINT_KEK', 'Key-encryption key, base64 of 32 bytes (environment only)'));
    } else {
      lines.push('', 'Config options (as for serve; keymint serve --help lists them all):', ...configLines(STORE_OPTIONS));
    }
  }
  if (command.examples.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  keymint ${e}`));
  return `${lines.join('\n')}\n`;
}

function usageArgs(command: Command): string {
  return (command.args ?? []).map((a) => (a.required ? ` ${a.name}` : ` [${a.name}]`)).join('');
}

function flagLine(name: string, spec: FlagSpec): string {
  const left = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'boolean' ? '' : ` ${spec.value ?? 'VALUE'}`}`;
  const notes = [
    spec.required ? 'required' : '',
    spec.type === 'list' ? 'repeatable' : '',
    spec.choices ? `one of ${spec.choices.join(', ')}` : '',
    spec.type === 'integer' && spec.min !== undefined ? (spec.max !== undefined ? `${spec.min}–${spec.max}` : `≥ ${spec.min}`) : '',
  ].filter(Boolean);
  return column(left, `${spec.doc}${notes.length ? ` (${notes.join('; ')})` : ''}`);
}

function configLines(only?: readonly string[]): string[] {
  return OPTIONS.filter((o) => !o.envOnly && CONFIG_FLAGS[o.flag] && (!only || only.includes(o.flag))).map((o) => {
    const def = defaultText(o);
    return column(`--${o.flag}${o.boolean ? '' : ' VALUE'}`, `${o.doc}${def === undefined ? '' : ` (default ${def})`} [${o.env}]`);
  });
}

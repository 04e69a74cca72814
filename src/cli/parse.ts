/**
 * Reads a command line against the command table: finds the command by its leading words, then reads
 * its flags by their declared types. Every refusal is a CliError('usage') naming the flag or word,
 * with the closest known one suggested. A value-taking flag always takes the next word as its value,
 * so `--port -1` reaches the range check rather than being read as another flag.
 */
import { OPTIONS } from '../config/index.ts';
import { CliError, type Command, type FlagSpec, type Flags } from './command.ts';

export type ParsedLine =
  | { readonly kind: 'version' }
  | { readonly kind: 'help'; readonly command?: Command; readonly group?: string; readonly exit: number }
  | { readonly kind: 'run'; readonly command: Command; readonly args: string[]; readonly flags: Flags };

/** The config options as flags (`--data`, `--port`, …); their values are checked by loadConfig. */
export const CONFIG_FLAGS: Readonly<Record<string, FlagSpec>> = Object.fromEntries(
  OPTIONS.filter((o) => !o.envOnly).map((o) => [o.flag, { type: o.boolean ? 'boolean' : o.repeatable ? 'list' : 'string', doc: o.doc } satisfies FlagSpec]),
);

export const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', doc: 'Show this help.' };

/** The flags a command accepts: its own, then the config options it does not redefine. */
export function flagsOf(command: Command): Record<string, FlagSpec> {
  return { ...(command.config === false ? {} : CONFIG_FLAGS), ...command.flags, help: HELP_FLAG };
}

/** The groups (`clients`, `keys`) that hold subcommands. */
export const groupOf = (name: string): string | undefined => (name.includes(' ') ? name.slice(0, name.indexOf(' ')) : undefined);

export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): ParsedLine {
  let words = 0;
  while (words < argv.length && !argv[words]!.startsWith('-')) words++;
  const lead = argv.slice(0, words);
  if (lead[0] === 'help') return helpFor(lead.slice(1), commands);
  let command: Command | undefined;
  for (let k = Math.min(words, 3); k > 0 && !command; k--) command = commands.find((c) => c.name === lead.slice(0, k).join(' '));
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!command) {
    if (lead.length === 0) {
      if (argv.includes('--version')) return { kind: 'version' };
      if (wantsHelp || argv.length === 0) return { kind: 'help', exit: wantsHelp ? 0 : 2 };
      throw new CliError('usage', `keymint: put the command first (keymint <command> ${argv[0]} …); keymint --help lists the commands`);
    }
    const group = commands.filter((c) => groupOf(c.name) === lead[0]);
    if (group.length > 0) {
      if (lead[1] === undefined) return { kind: 'help', group: lead[0], exit: wantsHelp ? 0 : 2 };
      const subs = group.map((c) => c.name.slice(lead[0]!.length + 1));
      throw new CliError('usage', `keymint ${lead[0]}: unknown command ${JSON.stringify(lead[1])}${hint(lead[1]!, subs)}; commands: ${subs.join(', ')}`);
    }
    const tops = [...new Set(commands.map((c) => groupOf(c.name) ?? c.name))];
    throw new CliError('usage', `keymint: unknown command ${JSON.stringify(lead[0])}${hint(lead[0]!, tops)}; keymint --help lists the commands`);
  }
  if (wantsHelp) return { kind: 'help', command, exit: 0 };
  const used = command.name.split(' ').length;
  return { kind: 'run', command, ...readFlags(command, argv.slice(used)) };
}

function helpFor(words: string[], commands: readonly Command[]): ParsedLine {
  if (words.length === 0) return { kind: 'help', exit: 0 };
  const command = commands.find((c) => c.name === words.join(' '));
  if (command) return { kind: 'help', command, exit: 0 };
  if (commands.some((c) => groupOf(c.name) === words[0])) return { kind: 'help', group: words[0], exit: 0 };
  throw new CliError('usage', `keymint help: unknown command ${JSON.stringify(words.join(' '))}; keymint --help lists the commands`);
}

function readFlags(command: Command, tokens: readonly string[]): { args: string[]; flags: Flags } {
  const specs = flagsOf(command);
  const where = `keymint ${command.name}`;
  const fail = (message: string): never => {
    throw new CliError('usage', `${where}: ${message}; see ${where} --help`);
  };
  const flags: Flags = {};
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const raw = token.startsWith('--') ? token.slice(2, eq < 0 ? undefined : eq) : token.slice(1);
    const name = token.startsWith('--') ? raw : Object.keys(specs).find((k) => specs[k]!.short === raw);
    // Own members only (OBJ-01): `--toString` is an unknown flag, not Object.prototype's function.
    const spec = name === undefined || !Object.hasOwn(specs, name) ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      const shown = token.startsWith('--') ? `--${raw}` : token;
      fail(`unknown flag ${shown}${hint(raw, Object.keys(specs), '--')}`);
      continue;
    }
    const inline = token.startsWith('--') && eq >= 0 ? token.slice(eq + 1) : undefined;
    if (spec.type === 'boolean') {
      if (inline !== undefined) fail(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = tokens[i + 1];
      // The next word is the value, even when it starts with "-" (a negative number), unless it is a known flag.
      if (next === undefined || (next.startsWith('--') && Object.hasOwn(specs, next.slice(2).split('=')[0]!))) fail(`--${name} needs a value (${spec.value ?? 'VALUE'})`);
      value = next!;
      i++;
    }
    const checked = checkValue(name, spec, value!, fail);
    if (spec.type === 'list') flags[name] = [...((flags[name] as string[] | undefined) ?? []), checked as string];
    else if (flags[name] !== undefined) fail(`--${name} is given twice`);
    else flags[name] = checked;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && flags[name] === undefined) fail(`--${name} ${spec.value ?? 'VALUE'} is required (${lowerFirst(spec.doc)})`);
  }
  const declared = command.args ?? [];
  const missing = declared.slice(positionals.length).find((a) => a.required);
  if (missing) fail(`missing ${missing.name} (${lowerFirst(missing.doc)})`);
  if (positionals.length > declared.length) fail(`unexpected argument ${JSON.stringify(positionals[declared.length])}`);
  return { args: positionals, flags };
}

function checkValue(name: string, spec: FlagSpec, value: string, fail: (m: string) => never): string | number {
  if (spec.type === 'integer') {
    const range = spec.min !== undefined && spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : spec.min !== undefined ? ` of at least ${spec.min}` : '';
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
      fail(`--${name} expects a whole number${range}, got ${JSON.stringify(value)}`);
    }
    return n;
  }
  if (spec.choices && !spec.choices.includes(value)) fail(`--${name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}${hint(value, spec.choices)}`);
  return value;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1).replace(/\.$/, '');

/** ` (did you mean X?)` when a known word is close to the given one. */
export function hint(given: string, known: readonly string[], prefix = ''): string {
  const best = closest(given, known);
  return best === undefined ? '' : ` (did you mean ${prefix}${best}?)`;
}

export function closest(given: string, known: readonly string[]): string | undefined {
  const prefixed = given.length >= 3 ? known.filter((k) => k.startsWith(given)) : [];
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(given.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const allowed = Math.max(2, Math.floor(given.length / 3));
  if (best !== undefined && bestDistance <= allowed) return best;
  return undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps each cost one. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

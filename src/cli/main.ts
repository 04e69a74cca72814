/**
 * `keymint <command>`: reads the command line against the command table (commands.ts), checks what
 * the command needs before anything is opened (preflight.ts), runs it, and turns every operator
 * error into one line on stderr and its documented exit code (command.ts, EXIT).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, loadConfig, OPTIONS, type Config, type RawConfig } from '../config/index.ts';
import { ConsoleUserError, ConsoleUserNotFoundError } from '../console/users.ts';
// The client errors from their light module, and the core only when a command opens it (withCore):
// `--help` loads no service, and `keymint sandbox` loads it itself, after starting its signing key.
import { ClientInputError, ClientNotFoundError } from '../credentials/client-rules.ts';
import type { KeymintCore } from '../core.ts';
import type { Unavailable, UnavailableError } from '../wire/errors.ts';
import { CliError, EXIT, SaidElsewhere, type Command, type CommandContext, type Flags } from './command.ts';
import { COMMANDS } from './commands.ts';
import { commandHelp, globalHelp, groupHelp } from './help.ts';
import { closest, parseCommandLine } from './parse.ts';
import { checkPort, checkStore, checkTls, exposureWarnings } from './preflight.ts';
import { DataDirError } from '../util/make-dir.ts';

export async function main(argv: string[], commands: readonly Command[] = COMMANDS): Promise<number> {
  let command: Command | undefined;
  let args: string[] = [];
  try {
    const line = parseCommandLine(argv, commands);
    if (line.kind === 'version') {
      process.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    if (line.kind === 'help') {
      const text = line.command ? commandHelp(line.command) : line.group ? groupHelp(line.group, commands) : globalHelp(commands);
      (line.exit === 0 ? process.stdout : process.stderr).write(text);
      return line.exit;
    }
    ({ command, args } = line);
    return await run(line.command, line.args, line.flags);
  } catch (err) {
    const said = err instanceof SaidElsewhere;
    const [exit, message] = explain(said ? err.failure : err, command, args);
    if (said) return exit;
    process.stderr.write(`${message}\n`);
    if (exit === EXIT.internal && process.env.KEYMINT_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return exit;
  }
}

async function run(command: Command, args: string[], flags: Flags): Promise<number> {
  const [major] = process.versions.node.split('.').map(Number);
  const needs = command.node ?? 24;
  if (major! < needs) {
    throw new CliError('node', `keymint ${command.name} needs Node.js ${needs} or newer, this is ${process.version}; install Node ${needs} (in a checkout, npx keymint uses the pinned node@24)`);
  }
  const config = loadConfig(command.config === false ? {} : configFlags(flags, command), process.env, true);
  // Workers of `serve --workers N` run this again: the primary has checked and warned already.
  // Only serve has workers, so only serve loads node:cluster (~15 ms of CPU) to ask.
  const primary = command.name !== 'serve' || !(await import('node:cluster')).default.isWorker;
  // A mistyped dialect is the operator's flag, refused before the store or the port is looked at
  // (serve mounts dialects; it loads their module either way).
  if (command.name === 'serve') (await import('../dialects/index.ts')).mountsOf(config);
  if (primary && command.config !== false) for (const warning of unknownVariables(process.env)) process.stderr.write(`keymint: warning: ${warning}\n`);
  if (primary && command.name === 'serve') checkTls(config);
  if (primary && command.name === 'serve') for (const warning of exposureWarnings(config)) process.stderr.write(`keymint: warning: ${warning}\n`);
  if (primary) for (const warning of checkStore(config, command.store)) process.stderr.write(`keymint: warning: ${warning}\n`);
  if (primary && command.name === 'serve') await checkPort(config);
  if (primary && command.name === 'serve' && config.mtlsPort !== undefined) await checkPort({ port: config.mtlsPort, host: config.host, flag: 'mtls-port' });
  const ctx: CommandContext = { args, flags, config, withCore: (fn) => withCore(config, fn) };
  return command.run(ctx);
}

/** Variables Keymint reads that are no option: KEYMINT_DEBUG, and those of its own test suite and CI. */
const OTHER_VARIABLES = /^KEYMINT_(DEBUG|TEST_[A-Z0-9_]*|REQUIRE_SERVICES)$/;

/**
 * A `KEYMINT_*` variable that is no option is ignored, so a misspelt one (KEYMINT_DATA_DIR for
 * KEYMINT_DATA) would silently leave the default in force: each is named, with the closest option.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = OPTIONS.map((o) => o.env);
  return Object.keys(env)
    .filter((name) => name.startsWith('KEYMINT_') && !known.includes(name) && !OTHER_VARIABLES.test(name))
    .sort()
    .map((name) => {
      // KEYMINT_DATA_DIR → KEYMINT_DATA: an option the name begins with (the longest), else the nearest spelling.
      const spelt = closest(name.slice('KEYMINT_'.length), known.map((k) => k.slice('KEYMINT_'.length)));
      const near = known.filter((k) => name.startsWith(`${k}_`)).sort((a, b) => b.length - a.length)[0] ?? (spelt === undefined ? undefined : `KEYMINT_${spelt}`);
      return `${name} is not a Keymint variable and is ignored${near === undefined ? '' : ` (did you mean ${near}?)`}; keymint serve --help lists them`;
    });
}

/** The config options given as flags, keyed by config key. Only `serve` mounts dialects. */
function configFlags(flags: Flags, command: Command): RawConfig {
  const raw: RawConfig = {};
  for (const o of OPTIONS) {
    const v = flags[o.flag];
    if (v !== undefined && !(o.flag in command.flags)) raw[o.key] = v as RawConfig[keyof Config];
  }
  if (command.name !== 'serve') delete raw.dialects;
  return raw;
}

async function withCore<T>(config: Config, fn: (core: KeymintCore) => Promise<T>): Promise<T> {
  const { openKeymint } = await import('../core.ts');
  const made = storeToBeMade(config);
  // A command's outcome is its one line on stdout or stderr; the core's own warnings would only add noise.
  const core = await openKeymint({ ...config, logLevel: 'error' });
  let refused = false;
  try {
    return await fn(core);
  } catch (err) {
    refused = explain(err, undefined, [])[0] === EXIT.usage;
    throw err;
  } finally {
    await core.close();
    // The input is checked by the service the store opens (`clients create --grant bogus` on a new
    // --data): a refusal takes back the store it made, so a mistake leaves nothing behind.
    if (refused) made?.();
  }
}

/** For a SQLite store not there yet: what removes exactly what opening it makes (directories, KEK, database). */
function storeToBeMade(config: Config): (() => void) | undefined {
  if (config.databaseUrl !== undefined || config.dataDir === ':memory:') return undefined;
  let top = resolve(config.dataDir);
  if (existsSync(top)) {
    if (existsSync(join(top, 'keymint.db'))) return undefined;
    const before = new Set(readdirSync(top));
    return () => {
      for (const name of readdirSync(top)) if (!before.has(name)) rmSync(join(top, name), { recursive: true, force: true });
    };
  }
  while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
  return () => rmSync(top, { recursive: true, force: true });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH']);

/** Every error as its exit code and one line naming the cause and the fix; never a stack trace. */
function explain(err: unknown, command: Command | undefined, args: readonly string[]): [number, string] {
  if (err instanceof CliError) return [EXIT[err.exit], err.message.startsWith('keymint') ? err.message : `keymint: ${err.message}`];
  if (err instanceof ConfigError) {
    return [err.key === 'kek' ? EXIT.kek : err.key.startsWith('tls-') ? EXIT.tls : EXIT.usage, `keymint: ${err.message}`];
  }
  if (err instanceof ClientInputError) return [EXIT.usage, `keymint: ${err.field}: ${err.message}`];
  if (err instanceof DataDirError) return [EXIT.dataDir, `keymint: ${err.message}`];
  if (err instanceof ConsoleUserError) return [EXIT.usage, `keymint: ${err.field}: ${err.message}`];
  if (err instanceof ConsoleUserNotFoundError) return [EXIT.notFound, `keymint: ${err.message}; keymint console users list shows the console users`];
  if (err instanceof ClientNotFoundError) return [EXIT.notFound, `keymint: no such client${args[0] ? ` ${args[0]}` : ''}; keymint clients list shows the clients in this store`];
  const e = err as NodeJS.ErrnoException & { errors?: unknown[] };
  const code = e?.code ?? (e?.errors?.[0] as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && UNREACHABLE.has(code)) {
    return [EXIT.unavailable, `keymint: cannot reach the database or Redis (${code}${e.message ? `: ${e.message}` : ''}); check --database-url / --redis-url (or KEYMINT_DATABASE_URL / KEYMINT_REDIS_URL) and that the server is up`];
  }
  if (e?.name === 'UnavailableError') {
    const what = (err as UnavailableError).what;
    return [EXIT.unavailable, `keymint: the store is unavailable (${e.message}); ${UNAVAILABLE_FIX[what ?? 'postgres']}`];
  }
  return [EXIT.internal, `keymint: unexpected error: ${e?.message ?? String(err)} (rerun with KEYMINT_DEBUG=1 to see where, and please report it)`];
}

/** What to do about an `UnavailableError`, by what was unavailable. */
const UNAVAILABLE_FIX: Readonly<Record<Unavailable, string>> = {
  postgres: 'check --database-url (or KEYMINT_DATABASE_URL) and that PostgreSQL is up, then retry',
  redis: 'check --redis-url (or KEYMINT_REDIS_URL) and that Redis is up, then retry',
  'sqlite-lock': 'another process held the SQLite write lock of the --data directory past the busy timeout (5 s); retry, and if it persists, end the transaction that holds it',
  'sqlite-disk': 'check the disk and file system under --data, then retry',
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `keymint ${pkg.version}`;
}

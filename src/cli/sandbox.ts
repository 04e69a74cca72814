/**
 * `keymint sandbox`: the sandbox (start-sandbox.ts) as a process, for tests that are not written in
 * JavaScript or that share one sandbox between processes. Loads a sandbox file (the configuration
 * file's format plus its `sandbox` section), applies the flags over it, prints what it serves and
 * runs until SIGINT or SIGTERM. A bad file is one line naming file, line, column and field.
 */
import { dirname, resolve } from 'node:path';
import { ConfigFileError, loadConfigFile, type ParsedConfigFile } from '../config/file.ts';
import { SandboxInputError } from '../sandbox/errors.ts';
import type { Sandbox, SandboxOptions, StartOptions } from '../start-sandbox.ts';
import { generateOffLoop } from '../tokens/keyring.ts';
import { CliError, EXIT, type Command } from './command.ts';
import { checkPort, checkStore, listenError } from './preflight.ts';

export interface SandboxFlags {
  readonly file?: string;
  readonly port?: number;
  readonly host?: string;
  readonly data?: string;
  readonly dialects?: ReadonlyArray<string | { name: string; path: string }>;
  readonly console?: boolean;
}

/** A mistake in the file or the flags: one line, exit 2. */
export class SandboxUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUsageError';
  }
}

/**
 * Starts the sandbox the file and flags describe; throws SandboxUsageError naming what is wrong.
 * Resolves to it and the names of the clients whose secret the file gives.
 */
export async function startFromFlags(flags: SandboxFlags): Promise<{ sandbox: Sandbox; declaredSecrets: Set<string> }> {
  let parsed: ParsedConfigFile | undefined;
  try {
    parsed = flags.file === undefined ? undefined : loadConfigFile(flags.file, { allowSandbox: true });
  } catch (err) {
    if (err instanceof ConfigFileError) throw new SandboxUsageError(err.message);
    throw err;
  }
  const fromFile = (parsed?.file ?? {}) as SandboxOptions;
  const section = {
    ...fromFile.sandbox,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.data === undefined ? {} : { data: flags.data }),
    ...(flags.dialects === undefined || flags.dialects.length === 0 ? {} : { dialects: flags.dialects }),
    ...(flags.console === true ? { console: true } : {}),
  };
  const how: StartOptions = {
    baseDir: flags.file === undefined ? process.cwd() : dirname(resolve(flags.file)),
    // The signing key an in-memory sandbox generates, started now on the thread pool: it is made
    // while the service's modules load (the larger part of the start), not after.
    ...(section.signingKey === undefined && section.data === undefined ? { pairBeingGenerated: { alg: section.alg ?? 'RS256', pair: generateOffLoop(section.alg ?? 'RS256') } } : {}),
  };
  const declaredSecrets = new Set(Object.entries(fromFile.clients ?? {}).filter(([, c]) => c.secret !== undefined).map(([name]) => name));
  if (typeof section.data === 'string') await checkDataDir(section.data, section);
  try {
    const { startSandbox } = await import('../start-sandbox.ts');
    return { sandbox: await startSandbox({ ...fromFile, sandbox: section }, how), declaredSecrets };
  } catch (err) {
    if (err instanceof SandboxInputError) {
      // Located in the file when the field came from it; flags are named as flags.
      const flag = FLAG_OF[err.field];
      if (flag !== undefined && (flags as Record<string, unknown>)[flag.key] !== undefined) throw new SandboxUsageError(`--${flag.name}: ${err.problem}`);
      throw new SandboxUsageError(parsed ? parsed.error(err.path, err.problem).message : `${err.field}: ${err.problem}`);
    }
    throw err;
  }
}

/**
 * A data directory gets the checks `serve` makes before anything is created (a file, not writable,
 * its database or KEK unreadable: exit 4 or 5), and a taken port is refused before the directory is
 * made (exit 3). The sandbox reads no KEYMINT_* variable, so the messages name only the flag.
 */
async function checkDataDir(data: string, section: { port?: number; host?: string }): Promise<void> {
  try {
    for (const warning of checkStore({ dataDir: data, databaseUrl: undefined, kek: undefined }, 'create')) process.stderr.write(`keymint: warning: ${warning}\n`);
    await checkPort({ port: section.port ?? 0, host: section.host ?? '127.0.0.1' }, 'sandbox');
  } catch (err) {
    if (err instanceof CliError) throw new CliError(err.exit, err.message.replaceAll(' (or KEYMINT_DATA)', ''));
    throw err;
  }
}

const FLAG_OF: Readonly<Record<string, { key: keyof SandboxFlags; name: string }>> = {
  'sandbox.port': { key: 'port', name: 'port' },
  'sandbox.host': { key: 'host', name: 'host' },
  'sandbox.data': { key: 'data', name: 'data' },
  'sandbox.dialects': { key: 'dialects', name: 'dialect' },
};

/** What the sandbox serves, for a person reading the terminal. Declared secrets are not repeated. */
export function describeSandbox(sb: Sandbox, declaredSecrets: ReadonlySet<string>): string {
  const lines = [`keymint sandbox: issuer ${sb.issuer} (listening on ${sb.url})`, '', 'mounts:'];
  const width = Math.max(...sb.mounts.map((m) => m.dialect.length), 4);
  for (const m of sb.mounts) lines.push(`  ${m.dialect.padEnd(width)}  ${m.tokenEndpoint}`);
  const clients = Object.values(sb.clients);
  lines.push('', clients.length === 0 ? 'clients: none (declare them in the file)' : 'clients:');
  const nameWidth = Math.max(...clients.map((c) => c.name.length), 4);
  for (const c of clients) {
    const secret = c.secret === null ? 'public, no secret' : declaredSecrets.has(c.name) ? 'secret from the file' : `secret ${c.secret} (generated)`;
    lines.push(`  ${c.name.padEnd(nameWidth)}  ${c.id}  ${secret}`);
  }
  const faults = sb.faults();
  lines.push(
    '',
    `faults: ${faults.length === 0 ? 'none' : `${faults.length} from the file`}; control API ${sb.url}/_sandbox; see docs/sandbox.md`,
  );
  if (sb.console) {
    lines.push(
      `console: ${sb.console.url} (its Sandbox page shows and changes the faults and the clock)`,
      `  first sign-in as admin, once, until ${sb.console.linkExpiresAt}:`,
      `  ${sb.console.link}`,
    );
  }
  lines.push('Ctrl-C stops it.', '');
  return lines.join('\n');
}

export const sandbox: Command = {
  name: 'sandbox',
  summary: 'A local stand-in for the providers, for client integration tests',
  description:
    'An in-memory store, the clients of the file with the ids and secrets it gives, rate limits and\n' +
    'lockout off unless the file turns them on, scripted faults and a movable clock (docs/sandbox.md).\n' +
    'Prints what it serves and runs until Ctrl-C. Takes none of serve\'s options: the file says the rest.',
  config: false,
  store: 'none',
  // In memory it runs wherever the SDKs do; --data (SQLite) needs 24, checked when given.
  node: 20,
  flags: {
    file: { type: 'string', value: 'FILE', doc: 'A sandbox file (YAML or JSON): the configuration file plus its sandbox section.' },
    port: { type: 'integer', value: 'N', min: 0, max: 65535, doc: 'Port to bind (default 0: any free port, advertised in the issuer).' },
    host: { type: 'string', value: 'ADDR', doc: 'Address to bind (default 127.0.0.1).' },
    data: { type: 'string', value: 'DIR', doc: 'Keep the store in DIR (SQLite, Node 24) instead of memory.' },
    dialect: { type: 'list', value: 'NAME[=/path]', doc: 'Mount this dialect; repeatable; replaces the file\'s list.' },
    console: { type: 'boolean', doc: 'Serve the web console with its Sandbox page; prints a one-time sign-in link for the console admin "admin".' },
  },
  examples: ['sandbox --file keymint.sandbox.yaml', 'sandbox --dialect orum --port 8080', 'sandbox --console'],
  async run({ flags }) {
    const dialects = flags.dialect as string[] | undefined;
    const given: SandboxFlags = {
      ...(typeof flags.file === 'string' ? { file: flags.file } : {}),
      ...(typeof flags.port === 'number' ? { port: flags.port } : {}),
      ...(typeof flags.host === 'string' ? { host: flags.host } : {}),
      ...(typeof flags.data === 'string' ? { data: flags.data } : {}),
      ...(dialects && dialects.length > 0 ? { dialects: dialects.map(mountOf) } : {}),
      ...(flags.console === true ? { console: true } : {}),
    };
    const [major] = process.versions.node.split('.').map(Number);
    if (given.data !== undefined && major! < 24) throw new CliError('node', `keymint sandbox --data needs Node.js 24 (SQLite), this is ${process.version}; leave --data out to keep the store in memory`);
    let sb: Sandbox;
    let declared: Set<string>;
    try {
      ({ sandbox: sb, declaredSecrets: declared } = await startFromFlags(given));
    } catch (err) {
      if (err instanceof SandboxUsageError) throw new CliError('usage', `keymint sandbox: ${err.message}`);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw listenError(err as NodeJS.ErrnoException, { port: given.port ?? 0, host: given.host ?? '127.0.0.1' }, 'sandbox');
      throw err;
    }
    process.stdout.write(describeSandbox(sb, declared));
    await new Promise<void>((resolveStop) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolveStop();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await sb.close();
    return EXIT.ok;
  },
};

/** `NAME` or `NAME=/path`, as `serve --dialect` takes it. */
function mountOf(flag: string): string | { name: string; path: string } {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : { name: flag.slice(0, eq), path: flag.slice(eq + 1) };
}

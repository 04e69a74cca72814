/**
 * `keymint sandbox`: the sandbox (start-sandbox.ts) as a process, for tests that are not written in
 * JavaScript or that share one sandbox between processes. Loads a sandbox file (the configuration
 * file's format plus its `sandbox` section), applies the flags over it, prints what it serves and
 * runs until SIGINT or SIGTERM. A bad file is one line naming file, line, column and field.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigFileError, loadConfigFile, type ParsedConfigFile } from '../config/file.ts';
import { SandboxInputError, startSandbox, type Sandbox, type SandboxOptions } from '../start-sandbox.ts';

export interface SandboxFlags {
  readonly file?: string;
  readonly port?: number;
  readonly host?: string;
  readonly data?: string;
  readonly dialects?: ReadonlyArray<string | { name: string; path: string }>;
}

/** A mistake in the file or the flags: one line, exit 2. */
export class SandboxUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUsageError';
  }
}

/** Starts the sandbox the file and flags describe; throws SandboxUsageError naming what is wrong. */
export async function startFromFlags(flags: SandboxFlags): Promise<Sandbox> {
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
  };
  try {
    return await startSandbox({ ...fromFile, sandbox: section }, { baseDir: flags.file === undefined ? process.cwd() : dirname(resolve(flags.file)) });
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
    'Ctrl-C stops it.',
    '',
  );
  return lines.join('\n');
}

export const SANDBOX_USAGE = `Usage: keymint sandbox [--file keymint.sandbox.yaml|json] [--port N] [--host ADDR] [--data DIR] [--dialect NAME[=/path]]...

Starts a local stand-in for the providers the dialects speak, for client integration tests: an
in-memory store, the clients of the file with the ids and secrets it gives, rate limits and lockout
off unless the file turns them on, scripted faults and a movable clock (docs/sandbox.md).

  --file FILE      a sandbox file: the configuration file's format plus its sandbox section
  --port N         port to bind (default 0: any free port, advertised in the issuer)
  --host ADDR      address to bind (default 127.0.0.1)
  --data DIR       keep the store in DIR (SQLite) instead of memory
  --dialect NAME   mount this dialect (NAME or NAME=/token/path); repeatable; replaces the file's list

Examples:
  keymint sandbox --file keymint.sandbox.yaml
  keymint sandbox --dialect orum --port 8080
`;

/** The command: parse its own flags (never the service's), start, print, run until stopped. */
export async function sandboxCommand(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  let flags: SandboxFlags;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { file: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, dialect: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      out(SANDBOX_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new SandboxUsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const port = values.port === undefined ? undefined : /^\d{1,5}$/.test(values.port) && Number(values.port) <= 65535 ? Number(values.port) : undefined;
    if (values.port !== undefined && port === undefined) throw new SandboxUsageError('--port: must be a whole number between 0 and 65535');
    flags = {
      ...(values.file === undefined ? {} : { file: values.file }),
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.data === undefined ? {} : { data: values.data }),
      ...(values.dialect === undefined ? {} : { dialects: values.dialect.map(mountOf) }),
    };
  } catch (e) {
    err(`keymint sandbox: ${(e as Error).message.split('\n')[0]}\n(see keymint sandbox --help)\n`);
    return 2;
  }
  let sb: Sandbox;
  try {
    sb = await startFromFlags(flags);
  } catch (e) {
    if (e instanceof SandboxUsageError) {
      err(`keymint sandbox: ${e.message}\n`);
      return 2;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      err(`keymint sandbox: cannot listen on ${flags.host ?? '127.0.0.1'}:${flags.port ?? 0} (${code}); choose another --port (0: any free port) or --host\n`);
      return 3;
    }
    throw e;
  }
  const declared = new Set(Object.entries(readDeclaredSecrets(flags)).filter(([, has]) => has).map(([name]) => name));
  out(describeSandbox(sb, declared));
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
  return 0;
}

/** `NAME` or `NAME=/path`, as `serve --dialect` takes it. */
function mountOf(flag: string): string | { name: string; path: string } {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : { name: flag.slice(0, eq), path: flag.slice(eq + 1) };
}

/** Which clients of the file bring their own secret (those are not printed back). */
function readDeclaredSecrets(flags: SandboxFlags): Record<string, boolean> {
  if (flags.file === undefined) return {};
  const file = loadConfigFile(flags.file, { allowSandbox: true }).file;
  return Object.fromEntries(Object.entries(file.clients).map(([name, c]) => [name, c.secret !== undefined]));
}

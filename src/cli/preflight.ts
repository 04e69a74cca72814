/**
 * Checks made before a command opens anything, so an operator's mistake is refused with one line
 * naming the cause and the fix, and nothing is created first: the data directory (a file, missing
 * for a read command, not accessible; its database not accessible), the KEK file (a directory, unreadable), and the port `serve`
 * will listen on. Loose permissions on the data directory or KEK are warned about, not refused.
 */
import { accessSync, constants, lstatSync, statSync, type Stats } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { ConfigError } from '../config/parse.ts';
import { loadTls } from '../http/tls.ts';
import { CliError, type StoreNeed } from './command.ts';

const stat = (path: string): Stats | undefined => {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') {
      let file = dirname(resolve(path));
      while (dirname(file) !== file && !isFile(file)) file = dirname(file);
      throw new CliError('dataDir', `cannot use the data directory ${path}: ${file} is a file; point --data (or KEYMINT_DATA) at a directory`);
    }
    if (code === 'EACCES') throw new CliError('dataDir', `cannot look into ${dirname(path)} (permission denied); run keymint as a user that can, or choose another --data`);
    throw err;
  }
};
const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};
const accessible = (path: string, mode: number): boolean => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, '0');

/** Checks the data directory and KEK file a command will use; returns the warnings to print. */
export function checkStore(config: Pick<Config, 'dataDir' | 'databaseUrl' | 'kek'>, need: StoreNeed): string[] {
  const warnings: string[] = [];
  const dir = config.dataDir;
  const usesDir = dir !== ':memory:' && (config.databaseUrl === undefined || config.kek === undefined);
  if (need === 'none' || !usesDir) return warnings;
  const flag = '--data (or KEYMINT_DATA)';
  const dirStat = stat(dir);
  if (dirStat === undefined) {
    if (need === 'existing' && config.databaseUrl === undefined) {
      throw new CliError('noStore', `no Keymint store at ${resolve(dir)}: the directory does not exist; check ${flag}, or create the store with keymint serve --data ${dir}`);
    }
    // It will be created: its nearest existing ancestor must be a directory we may write into.
    let parent = dirname(resolve(dir));
    let parentStat = stat(parent);
    while (parentStat === undefined && dirname(parent) !== parent) parentStat = stat((parent = dirname(parent)));
    if (parentStat && !parentStat.isDirectory()) throw new CliError('dataDir', `cannot create the data directory ${dir}: ${parent} is a file; point ${flag} at a directory`);
    if (!accessible(parent, constants.W_OK | constants.X_OK)) throw new CliError('dataDir', `cannot create the data directory ${dir}: ${parent} is not writable (permission denied); choose another ${flag} or create it for this user`);
    return warnings;
  }
  if (!dirStat.isDirectory()) throw new CliError('dataDir', `${flag} names a file, not a directory: ${dir}; point it at a directory (created if absent)`);
  if (!accessible(dir, constants.R_OK | constants.W_OK | constants.X_OK)) {
    throw new CliError('dataDir', `cannot read and write the data directory ${dir} (permission denied); run keymint as its owner, or give this user access (chmod 700)`);
  }
  if ((dirStat.mode & 0o002) !== 0) warnings.push(`the data directory ${dir} is writable by every user (mode ${octal(dirStat.mode)}): anyone could replace its database or KEK; run chmod 700 ${dir}`);
  const db = join(dir, 'keymint.db');
  const dbStat = config.databaseUrl === undefined ? stat(db) : undefined;
  if (need === 'existing' && config.databaseUrl === undefined && dbStat === undefined) {
    throw new CliError('noStore', `no Keymint store in ${resolve(dir)} (no keymint.db there); check ${flag}, or create the store with keymint serve --data ${dir}`);
  }
  if (dbStat !== undefined && !accessible(db, constants.R_OK | constants.W_OK)) {
    throw new CliError('dataDir', `cannot read and write the database ${db} (permission denied); run keymint as its owner, or give this user access (chmod 600 ${db})`);
  }
  if (config.kek === undefined) warnings.push(...checkKekFile(join(dir, 'kek')));
  return warnings;
}

function checkKekFile(file: string): string[] {
  let s: Stats;
  try {
    s = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError('kek', `cannot read the KEK ${file} (${(err as NodeJS.ErrnoException).code}); run keymint as its owner`);
  }
  if (s.isSymbolicLink()) s = statSync(file);
  if (s.isDirectory()) throw new CliError('kek', `the KEK ${file} is a directory, not the key file; restore the file holding the base64 key (or set KEYMINT_KEK)`);
  if (!accessible(file, constants.R_OK)) throw new CliError('kek', `cannot read the KEK ${file} (permission denied); run keymint as its owner (the file should be mode 600)`);
  if ((s.mode & 0o077) !== 0) return [`the KEK ${file} is open to other users (mode ${octal(s.mode)}): whoever reads it can unseal the signing keys; run chmod 600 ${file}`];
  return [];
}

/**
 * Refuses a port that is taken (or not allowed), or a host that is not this machine's, before `serve`
 * opens the store or starts a worker. Port 0 is any free port: only its host is checked.
 */
export async function checkPort(config: ListenAt, command: ListeningCommand = 'serve'): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => {
      // Not an IP address, and no name that resolves (256.1.1.1, a typo): not an address of this machine either.
      if (err.syscall === 'getaddrinfo') reject(new CliError('portBusy', `cannot listen on ${config.host}: not an address of this machine, nor a name that resolves to one; set --host to one of its addresses (127.0.0.1, 0.0.0.0)`));
      else reject(listenError(err, config, command));
    });
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The commands that listen; a busy port's message names the likeliest holder, another run of the same command. */
export type ListeningCommand = 'serve' | 'sandbox';

/** A port and host to listen on; `flag`: the option that set the port (`port`, or `mtls-port` for the mutual-TLS listener). */
export type ListenAt = Pick<Config, 'port' | 'host'> & { readonly flag?: string };

/** A listen failure as the operator's error it is; any other error unchanged. */
export function listenError(err: NodeJS.ErrnoException, { port, host, flag = 'port' }: ListenAt, command: ListeningCommand = 'serve'): Error {
  // Binding fails with `listen`, or `bind` in a cluster worker (the primary binds); EACCES from elsewhere is another story.
  if (err.syscall !== 'listen' && err.syscall !== 'bind') return err;
  switch (err.code) {
    case 'EADDRINUSE':
      return new CliError('portBusy', `port ${port} on ${host} is already in use (another keymint ${command}?); stop that process or choose another --${flag}`);
    case 'EACCES':
      return new CliError('portBusy', `not allowed to listen on ${host}:${port} (ports below 1024 need privileges); choose --${flag} 1024 or above`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new CliError('portBusy', `cannot listen on ${host}: not an address of this machine; set --host to one of its addresses (127.0.0.1, 0.0.0.0)`);
    default:
      return err;
  }
}

/** The TLS files `serve` will use (readable PEM, the key of the certificate), before the store is opened. */
/**
 * Settings each fine alone that together let strangers aim the server at its own network: said at
 * start (serve), not refused, since a development machine runs them together on purpose.
 */
export function exposureWarnings(config: Pick<Config, 'clientUrlsAllowPrivate' | 'registration' | 'clientIdMetadataDocuments'>): string[] {
  if (!config.clientUrlsAllowPrivate) return [];
  const anyone = [config.registration === 'open' ? '--registration open' : undefined, config.clientIdMetadataDocuments ? '--client-id-metadata-documents' : undefined].filter((x) => x !== undefined);
  if (anyone.length === 0) return [];
  return [
    `--client-urls-allow-private with ${anyone.join(' and ')} lets anyone make this server fetch (jwks_uri, client ID metadata documents) and POST (backchannel_logout_uri) to private and loopback addresses; keep the combination to a development machine`,
  ];
}

export function checkTls(config: Parameters<typeof loadTls>[0]): void {
  try {
    loadTls(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError('tls', `keymint: ${err.message}`);
    throw err;
  }
}

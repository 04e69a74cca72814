/**
 * The shape every `keymint` command declares: its name, one-line summary, positional arguments,
 * flags with their types, and examples. Parsing (parse.ts), `--help` (help.ts) and the command list
 * (commands.ts) are derived from these declarations, so a command cannot drift from its help.
 */
import type { Config } from '../config/index.ts';
import type { KeymintCore } from '../core.ts';

/** How a flag's value is read: `integer` values are checked against min/max before the command runs. */
export type FlagType = 'boolean' | 'string' | 'integer' | 'list';

export interface FlagSpec {
  readonly type: FlagType;
  /** One line for `--help`. */
  readonly doc: string;
  /** The value's placeholder in help (`NAME`, `SECONDS`); default VALUE. */
  readonly value?: string;
  /** A run without it stops with a usage error naming it. */
  readonly required?: boolean;
  /** For `integer`: the accepted range (inclusive). */
  readonly min?: number;
  readonly max?: number;
  /** For `string` and `list`: the only values accepted. */
  readonly choices?: readonly string[];
  /** One-letter alias (`-h`). */
  readonly short?: string;
}

export interface ArgSpec {
  readonly name: string;
  readonly doc: string;
  readonly required?: boolean;
}

/** Flag values as a command receives them: integers as numbers, `list` flags as arrays. */
export type FlagValue = string | number | boolean | string[] | undefined;
export type Flags = Record<string, FlagValue>;

/**
 * What a command needs from the data directory or database:
 * - `existing`: an existing store; a missing one is refused (exit 6) and nothing is created;
 * - `create`: the store, created on first use (serve, migrate, clients create);
 * - `none`: no store (the command manages its own, or needs none).
 */
export type StoreNeed = 'existing' | 'create' | 'none';

export interface CommandContext {
  /** Positional arguments, in the order the command declares them. */
  readonly args: readonly string[];
  readonly flags: Flags;
  /** The configuration from the config flags over `KEYMINT_*` over defaults (commands with `config: false` get defaults). */
  readonly config: Config;
  /** Checks the data directory and KEK (per the command's `store`), opens the core, runs `fn`, closes it. */
  withCore<T>(fn: (core: KeymintCore) => Promise<T>): Promise<T>;
}

export interface Command {
  /** The words that invoke it: `serve`, `clients create`. */
  readonly name: string;
  readonly summary: string;
  /** More lines of help, shown under the usage line. */
  readonly description?: string;
  readonly args?: readonly ArgSpec[];
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Whole command lines, without the leading `keymint`. */
  readonly examples: readonly string[];
  /** Whether the config options (`--data`, `--database-url`, …) apply; default true. */
  readonly config?: boolean;
  readonly store: StoreNeed;
  /** The oldest Node major this command runs on (SQLite and the server need 24); default 24. */
  readonly node?: number;
  run(ctx: CommandContext): Promise<number>;
}

/** Every exit code `keymint` uses, as `keymint --help` and docs/cli.md list them. */
export const EXIT = {
  ok: 0,
  notFound: 1,
  usage: 2,
  portBusy: 3,
  dataDir: 4,
  kek: 5,
  noStore: 6,
  node: 7,
  unavailable: 8,
  tls: 9,
  internal: 70,
} as const;
export type ExitName = keyof typeof EXIT;

export const EXIT_DOCS: ReadonlyArray<readonly [ExitName, string]> = [
  ['ok', 'success'],
  ['notFound', 'the client (or other record) named does not exist'],
  ['usage', 'bad command line or configuration: unknown flag, bad value, missing argument'],
  ['portBusy', 'the address to listen on is in use or not allowed'],
  ['dataDir', 'the data directory is unusable: a file, unreadable or not writable'],
  ['kek', 'the key-encryption key is unusable: unreadable, a directory, missing beside a database, or not the one the store was sealed with'],
  ['noStore', 'no store at --data (a read command never creates one)'],
  ['node', 'this Node.js is too old for the command'],
  ['unavailable', 'the store is unavailable: PostgreSQL or Redis could not be reached, another process held the SQLite write lock past the busy timeout, or SQLite could not flush to disk'],
  ['tls', 'the TLS files are unusable: --tls-cert, --tls-key, --tls-client-ca or --tls-client-crl unreadable or not PEM, a CRL signed by no CA of --tls-client-ca, one of --tls-cert and --tls-key without the other, a key that is not the certificate\'s, an --mtls-port no certificate can reach (neither TLS nor --client-cert-header) or equal to --port, or --mtls-url without --mtls-port'],
  ['internal', 'an unexpected failure (a bug: please report it with KEYMINT_DEBUG=1 output)'],
];

/**
 * A failure another process has already printed (the first of the workers of `serve --workers N`
 * that failed alike): this one ends with the same exit code, silently.
 */
export class SaidElsewhere extends Error {
  readonly failure: unknown;
  constructor(failure: unknown) {
    super('said by another process');
    this.name = 'SaidElsewhere';
    this.failure = failure;
  }
}

/** An operator's mistake: one line naming the cause and the fix, and its exit code. */
export class CliError extends Error {
  readonly exit: ExitName;
  constructor(exit: ExitName, message: string) {
    super(message);
    this.name = 'CliError';
    this.exit = exit;
  }
}

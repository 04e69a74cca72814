/**
 * The PostgreSQL store, for several Keymint nodes sharing one database. Selected by
 * `--database-url postgres://…`. One file per repository; adding a repository means adding a file,
 * a migration, and a line below.
 */
import type { Store } from '../types.ts';
import { postgresAudit } from './audit.ts';
import { postgresClients } from './clients.ts';
import { postgresCodes } from './codes.ts';
import { postgresPushedRequests } from './pushed-requests.ts';
import { postgresDeviceCodes } from './device-codes.ts';
import { postgresConsents } from './consents.ts';
import { postgresConsoleLinks, postgresConsoleSessions, postgresConsoleUsers } from './console.ts';
import { postgresPurge } from './purge.ts';
import { postgresReplays } from './replays.ts';
import { openDb, type Db, type PoolStats } from './db.ts';
import { postgresKeys } from './keys.ts';
import { migrate, quoteIdent } from './migrations.ts';
import { postgresSessions } from './sessions.ts';
import { postgresTokens } from './tokens.ts';

export interface PostgresStoreOptions {
  readonly url: string;
  /** Schema holding the tables (default `keymint`). */
  readonly schema?: string;
  /** Most connections this process opens (default 10). */
  readonly poolSize?: number;
  /** Longest wait for a free connection before 503, ms (default 2000). */
  readonly acquireTimeoutMs?: number;
  /** Longest a statement may run, ms (default 5000). */
  readonly queryTimeoutMs?: number;
  /** Apply pending migrations on open (default true; `keymint migrate` does it explicitly). */
  readonly migrate?: boolean;
}

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /** Pool gauges for /metrics and /readyz. */
  poolStats(): PoolStats;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { db, schema } = await connect(options);
  try {
    if (options.migrate !== false) await migrate(db, schema);
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    kind: 'postgres',
    clients: postgresClients(db),
    keys: postgresKeys(db),
    tokens: postgresTokens(db),
    sessions: postgresSessions(db),
    codes: postgresCodes(db),
    pushedRequests: postgresPushedRequests(db),
    deviceCodes: postgresDeviceCodes(db),
    consents: postgresConsents(db),
    replays: postgresReplays(db),
    purge: postgresPurge(db),
    audit: postgresAudit(db),
    consoleUsers: postgresConsoleUsers(db),
    consoleSessions: postgresConsoleSessions(db),
    consoleLinks: postgresConsoleLinks(db),
    poolStats: () => db.stats(),
    close: () => db.close(),
  };
}

/** `keymint migrate`: applies pending migrations and resolves to their versions. */
export async function migratePostgres(options: PostgresStoreOptions): Promise<number[]> {
  const { db, schema } = await connect(options);
  try {
    return await migrate(db, schema);
  } finally {
    await db.close();
  }
}

async function connect(options: PostgresStoreOptions): Promise<{ db: Db; schema: string }> {
  const schema = options.schema ?? 'keymint';
  quoteIdent(schema); // refuses anything but a plain identifier before connecting
  const db = await openDb({
    url: options.url,
    schema,
    poolSize: options.poolSize ?? 10,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
  });
  return { db, schema };
}

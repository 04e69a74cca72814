/**
 * The PostgreSQL store, for several Keymint nodes sharing one database. Selected by
 * `--database-url postgres://…`. One file per repository; adding a repository means adding a file,
 * a migration, and a line below.
 */
import type { Store } from '../types.ts';
import { postgresAudit } from './audit.ts';
import { postgresClients } from './clients.ts';
import { postgresCodes, postgresSessions } from './grants.ts';
import { openDb, type Db, type DbOptions, type PoolStats } from './db.ts';
import { postgresKeys } from './keys.ts';
import { migrate, quoteIdent } from './migrations.ts';
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
  const schema = options.schema ?? 'keymint';
  quoteIdent(schema);
  const db = await connect(options, schema);
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
    audit: postgresAudit(db),
    sessions: postgresSessions(db),
    codes: postgresCodes(db),
    poolStats: () => db.stats(),
    close: () => db.close(),
  };
}

/** `keymint migrate`: applies pending migrations and resolves to their versions. */
export async function migratePostgres(options: PostgresStoreOptions): Promise<number[]> {
  const schema = options.schema ?? 'keymint';
  quoteIdent(schema);
  const db = await connect(options, schema);
  try {
    return await migrate(db, schema);
  } finally {
    await db.close();
  }
}

function connect(options: PostgresStoreOptions, schema: string): Promise<Db> {
  const dbOptions: DbOptions = {
    url: options.url,
    schema,
    poolSize: options.poolSize ?? 10,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
  };
  return openDb(dbOptions);
}

/**
 * Opens the configured store. Each backend is imported only when chosen, so a process that uses
 * another store (or only the memory store) never loads `node:sqlite` or `pg`.
 */
import type { Store } from './types.ts';

/** What opening a store needs from the configuration. */
export interface StoreSettings {
  /** `postgres://…`: the PostgreSQL store; unset: the SQLite file in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** Directory of the SQLite file (`:memory:` for a private in-memory database). */
  readonly dataDir: string;
  /** PostgreSQL schema holding the tables. The PostgreSQL settings default as in `postgres/index.ts`. */
  readonly databaseSchema?: string;
  readonly dbPoolSize?: number;
  readonly dbAcquireTimeoutMs?: number;
  readonly dbQueryTimeoutMs?: number;
}

/** PostgreSQL when `databaseUrl` is set, else SQLite in `dataDir`; migrated to the current schema. */
export async function openStore(settings: StoreSettings): Promise<Store> {
  if (settings.databaseUrl === undefined) {
    const { openSqliteStore } = await import('./sqlite/index.ts');
    return openSqliteStore({ dir: settings.dataDir });
  }
  const { openPostgresStore } = await import('./postgres/index.ts');
  return openPostgresStore({
    url: settings.databaseUrl,
    schema: settings.databaseSchema,
    poolSize: settings.dbPoolSize,
    acquireTimeoutMs: settings.dbAcquireTimeoutMs,
    queryTimeoutMs: settings.dbQueryTimeoutMs,
  });
}

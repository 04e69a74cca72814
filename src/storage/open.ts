/**
 * Opens the configured store: PostgreSQL when a database URL is given, else SQLite in the data
 * directory (`:memory:`: a private in-memory SQLite database), migrated to the current schema. Each
 * backend is imported on first use, so a process that never opens SQLite never loads `node:sqlite`
 * (absent before Node 22), and none loads `pg` unless asked.
 */
import type { Config } from '../config/types.ts';
import type { Store } from './types.ts';

export type StoreConfig = Pick<Config, 'dataDir' | 'databaseUrl' | 'databaseSchema' | 'dbPoolSize' | 'dbAcquireTimeoutMs' | 'dbQueryTimeoutMs'>;

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl !== undefined) {
    const { openPostgresStore } = await import('./postgres/index.ts');
    return openPostgresStore({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: config.dbPoolSize,
      acquireTimeoutMs: config.dbAcquireTimeoutMs,
      queryTimeoutMs: config.dbQueryTimeoutMs,
    });
  }
  const { openSqliteStore } = await import('./sqlite/index.ts');
  return openSqliteStore({ dir: config.dataDir });
}

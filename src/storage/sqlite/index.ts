/**
 * The embedded default store: one SQLite file through `node:sqlite`, in WAL mode so the CLI and a
 * running server share it. One file per repository; `db.ts` opens the file, runs transactions and
 * translates the driver's errors; `migrations.ts` holds the schema. Adding a repository means adding
 * a file, a migration, and a line below.
 */
import type { ServeHooks, Store } from '../types.ts';
import { sqliteAudit } from './audit.ts';
import { sqliteClients } from './clients.ts';
import { sqliteCodes } from './codes.ts';
import { sqlitePushedRequests } from './pushed-requests.ts';
import { sqliteDeviceCodes } from './device-codes.ts';
import { sqliteConsents } from './consents.ts';
import { sqliteConsoleLinks, sqliteConsoleSessions, sqliteConsoleUsers } from './console.ts';
import { databaseFile, openDatabase, sqliteDb, type Database, type DatabaseOptions, type DurabilityOptions } from './db.ts';
import { sqliteKeys } from './keys.ts';
import { migrate } from './migrations.ts';
import { sqlitePurge } from './purge.ts';
import { sqliteReplays } from './replays.ts';
import { sqliteSessions } from './sessions.ts';
import { sqliteTokens } from './tokens.ts';
import { startUpkeep, type Upkeep } from './upkeep.ts';

export type SqliteStoreOptions = DatabaseOptions & Pick<DurabilityOptions, 'fdatasync'>;

export function openSqliteStore(options: SqliteStoreOptions): Store {
  return sqliteStore(openDatabase(options), databaseFile(options.dir), options);
}

/**
 * The store on an opened database, migrated first (the crash-safety test passes a wrapped one).
 * With the database's `file`, a serving process checkpoints and purges it off the event loop (upkeep.ts).
 * A failing fsync of the log is reported to the serving process's `onSyncFailure` (db.ts says when).
 */
export function sqliteStore(database: Database, file?: string, { fdatasync }: Pick<DurabilityOptions, 'fdatasync'> = {}): Store {
  let hooks: ServeHooks = {};
  const db = sqliteDb(database, { ...(fdatasync ? { fdatasync } : {}), onSyncFailure: (cause) => hooks.onSyncFailure?.(cause) });
  try {
    migrate(db);
  } catch (err) {
    void db.close();
    throw err;
  }
  const dataVersion = db.prepare<{ data_version: number }>('PRAGMA data_version');
  // While a serving process runs it, the upkeep worker takes the purge batches (purge.ts asks).
  let upkeep: Upkeep | undefined;
  const serve = (file: string) => (serving: ServeHooks = {}) => {
    hooks = serving;
    const started = startUpkeep(db, file, serving.onFailure ? { onFailure: serving.onFailure } : {});
    upkeep = started;
    return {
      stop: () => {
        upkeep = undefined;
        hooks = {};
        return started.stop();
      },
    };
  };
  return {
    kind: 'sqlite',
    // Changes whenever another connection (the CLI, another node on the file) has committed.
    changeMarker: () => dataVersion.get()?.data_version ?? 0,
    clients: sqliteClients(db),
    keys: sqliteKeys(db),
    tokens: sqliteTokens(db),
    sessions: sqliteSessions(db),
    codes: sqliteCodes(db),
    pushedRequests: sqlitePushedRequests(db),
    deviceCodes: sqliteDeviceCodes(db),
    consents: sqliteConsents(db),
    replays: sqliteReplays(db),
    purge: sqlitePurge(db, () => upkeep),
    audit: sqliteAudit(db),
    consoleUsers: sqliteConsoleUsers(db),
    consoleSessions: sqliteConsoleSessions(db),
    consoleLinks: sqliteConsoleLinks(db),
    ...(file ? { serve: serve(file) } : {}),
    failure: () => db.failure(),
    close: () => db.close(),
  };
}

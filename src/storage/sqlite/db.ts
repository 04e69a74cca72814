/**
 * The SQLite database as the repositories see it: statements typed by their row, one transaction
 * helper, and the driver's errors translated here, once. A lock held past `busy_timeout`
 * (SQLITE_BUSY, SQLITE_LOCKED) becomes `UnavailableError`, which the service answers with 503 +
 * Retry-After; a primary-key or unique violation becomes `ConflictError`. Errors thrown by a caller's
 * own code inside `immediate` pass unchanged.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges } from 'node:sqlite';
import { UnavailableError } from '../../wire/errors.ts';
import { ConflictError } from '../types.ts';

export interface DatabaseOptions {
  /** Directory holding `keymint.db`; created 0700. `:memory:` for a private in-memory database. */
  readonly dir: string;
  /** Milliseconds a writer waits for the lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

/** The part of `node:sqlite`'s `DatabaseSync` the store uses (a test may wrap it to watch statements). */
export interface Database {
  readonly isOpen: boolean;
  exec(sql: string): void;
  prepare(sql: string): DriverStatement;
  close(): void;
}

export interface DriverStatement {
  run(...params: SQLInputValue[]): StatementResultingChanges;
  get(...params: SQLInputValue[]): unknown;
  all(...params: SQLInputValue[]): unknown[];
}

/**
 * Opens (creating it 0600 if needed) `<dir>/keymint.db` in WAL mode, so the CLI and a running server
 * share it, with `synchronous = FULL`, so a write is durable when it returns.
 */
export function openDatabase({ dir, busyTimeoutMs = 5000 }: DatabaseOptions): Database {
  const file = databaseFile(dir) ?? ':memory:';
  if (dir !== ':memory:') {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is 0600; SQLite gives -wal and -shm the same mode.
    closeSync(openSync(file, 'a', 0o600));
  }
  // The busy timeout from the first statement on: setting WAL mode reads the file, and while another
  // process opens or closes it that read can find it locked (several workers open it at once).
  const db = new DatabaseSync(file, { timeout: Math.trunc(busyTimeoutMs) });
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;`);
  return db;
}

/** The database file in `dir`; undefined for `:memory:`. */
export const databaseFile = (dir: string): string | undefined => (dir === ':memory:' ? undefined : join(dir, 'keymint.db'));

/** A prepared statement whose rows are `R`. */
export interface Statement<R> {
  /** Runs a write; returns how many rows it changed. */
  run(...params: SQLInputValue[]): number;
  get(...params: SQLInputValue[]): R | undefined;
  all(...params: SQLInputValue[]): R[];
}

export interface Db {
  prepare<R = never>(sql: string): Statement<R>;
  /** Runs a script of statements (migrations). */
  exec(sql: string): void;
  /**
   * Runs `fn` inside `BEGIN IMMEDIATE`, which takes the write lock up front, and commits; rolls back
   * and rethrows if `fn` throws.
   */
  immediate<T>(fn: () => T): T;
  /**
   * `immediate`, committed with `synchronous = NORMAL`: in WAL mode the commit is in the log, seen by
   * every process and kept through a process crash, but not flushed to the disk (a power loss can
   * forget it), so it holds the event loop for no fsync (12 ms median, up to 95 ms, on the shared
   * bench machine's disk). Only for writes no answer depends on; the connection is FULL again
   * before this returns or throws.
   */
  unflushed<T>(fn: () => T): T;
  close(): void;
}

export function sqliteDb(database: Database): Db {
  const exec = (sql: string): void => {
    try {
      database.exec(sql);
    } catch (err) {
      throw translate(err);
    }
  };
  const immediate = <T>(fn: () => T): T => {
    exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      exec('COMMIT');
      return result;
    } catch (err) {
      exec('ROLLBACK');
      throw err;
    }
  };
  return {
    prepare<R>(sql: string): Statement<R> {
      let s: DriverStatement;
      try {
        s = database.prepare(sql);
      } catch (err) {
        throw translate(err);
      }
      // The driver types rows as plain records; the statement's SQL decides their shape.
      return {
        run(...params) {
          try {
            return Number(s.run(...params).changes);
          } catch (err) {
            throw translate(err);
          }
        },
        get(...params) {
          try {
            return s.get(...params) as R | undefined;
          } catch (err) {
            throw translate(err);
          }
        },
        all(...params) {
          try {
            return s.all(...params) as R[];
          } catch (err) {
            throw translate(err);
          }
        },
      };
    },
    exec,
    immediate,
    unflushed(fn) {
      exec('PRAGMA synchronous = NORMAL');
      try {
        return immediate(fn);
      } finally {
        exec('PRAGMA synchronous = FULL');
      }
    },
    close() {
      if (database.isOpen) database.close();
    },
  };
}

/** `INSERT INTO table (a, b, …) VALUES (?, ?, …)` for columns listed in `../sql/rows.ts`. */
export const insertSql = (table: string, columns: readonly string[]): string =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;

/** The row of the first candidate digest `find` knows, in candidate order (current pepper first). */
export function firstOf<R>(digests: readonly string[], find: Statement<R>): R | undefined {
  for (const d of digests) {
    const row = find.get(d);
    if (row) return row;
  }
  return undefined;
}

// Result codes (https://sqlite.org/rescode.html). Extended codes keep the primary code in the low byte.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

function translate(err: unknown): unknown {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return err;
  const primary = code & 0xff;
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return new UnavailableError('SQLite database is locked', { cause: err });
  if (code === SQLITE_CONSTRAINT_PRIMARYKEY || code === SQLITE_CONSTRAINT_UNIQUE) return new ConflictError('duplicate key');
  return err;
}

/**
 * The database as the repositories see it: statements typed by their row, the transaction helpers,
 * the commit's durability and the driver's errors translated here, once. A lock held past
 * `busy_timeout` (SQLITE_BUSY, SQLITE_LOCKED) becomes `UnavailableError`, which the service answers
 * with 503 + Retry-After; a primary-key or unique violation becomes `ConflictError`. Errors thrown by
 * a caller's own code inside a transaction pass unchanged.
 *
 * Durability, the rules in one place. On a file the connection commits with `synchronous = NORMAL`:
 * in WAL mode a commit is then in the log, seen by every connection and process and kept through a
 * process crash, but SQLite does not fsync it (a power loss could forget it). A write an answer
 * depends on runs in `immediate`, whose promise resolves only once an fdatasync of the `-wal` file
 * has completed since its COMMIT: that fsync runs on libuv's threadpool, never on the event loop, and
 * is shared (`walSync`): one in flight covers every commit made before it started, and commits made
 * while it runs wait for the next one. So a write is durable when its promise resolves, as with
 * `synchronous = FULL`, without holding the event loop (an fsync took up to 180 ms on the bench
 * machine's disk). `unflushed` commits the same way but does not wait: only for writes no answer
 * depends on. A write statement run outside both fails at once (a programming error), so no write
 * can commit unawaited by accident. Why the `-wal` file alone suffices: SQLite, in NORMAL, syncs the
 * WAL before each checkpoint copies it and the database file after (https://sqlite.org/pragma.html
 * #pragma_synchronous), and rewinds or deletes the WAL only after a complete checkpoint; so a commit
 * is either still in the current `-wal` file or already in the synced database file.
 */
import { closeSync, fdatasync as fdatasyncCallback, openSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { UnavailableError } from '../../wire/errors.ts';
import { ConflictError } from '../types.ts';
import { makeDir } from '../../util/make-dir.ts';

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
 * share it, with `synchronous = FULL` until `sqliteDb` takes over the flushing (NORMAL, and its own
 * fsync off the event loop): a connection used without it still commits durably.
 */
export function openDatabase({ dir, busyTimeoutMs = 5000 }: DatabaseOptions): Database {
  const file = databaseFile(dir) ?? ':memory:';
  if (dir !== ':memory:') {
    makeDir(dir, 0o700);
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
  /** A statement; one that writes (INSERT, UPDATE, DELETE, REPLACE) runs only inside a transaction of this `Db`. */
  prepare<R = never>(sql: string): Statement<R>;
  /** Runs a script of statements (migrations, pragmas). */
  exec(sql: string): void;
  /**
   * Runs `fn` inside `BEGIN IMMEDIATE`, which takes the write lock up front, and commits; rolls back
   * and rejects if `fn` throws. When the write lock is free the transaction runs at once,
   * synchronously; when another connection holds it, this waits for it off the event loop (and
   * rejects with `UnavailableError` after the busy timeout). The promise resolves once the commit is
   * durable (an fsync of the WAL, shared, off the event loop), or rejects with `UnavailableError` if
   * that fsync failed (the commit is then visible but not known to be on disk). After such a failure
   * the connection refuses every write, `immediate` and `unflushed` alike, before it begins: see
   * `failure`.
   */
  immediate<T>(fn: () => T): Promise<T>;
  /**
   * `immediate` without waiting for durability: the commit is in the log, seen by every process
   * and kept through a process crash; a power loss before the next fsync (of any later durable write,
   * or a checkpoint) can forget it. Only for writes no answer depends on. A lock held by another
   * connection is waited for as `immediate` waits, off the event loop.
   */
  unflushed<T>(fn: () => T): Promise<T>;
  /**
   * `unflushed`, synchronous: a lock held by another connection is waited for in SQLite's busy
   * handler, on the calling thread. For opening the store (migrations), before anything is served.
   */
  blocking<T>(fn: () => T): T;
  /**
   * Why this connection refuses writes for good, once an fsync of its log has failed; undefined until
   * then. Linux may drop the pages of a failed write-back and report the error once, so a later fsync
   * that succeeds proves nothing about the earlier commits: rather than acknowledge writes on a disk
   * that lost some, the store stops writing (as PostgreSQL panics) until the process is restarted.
   */
  failure(): string | undefined;
  /** Waits for the fsyncs in flight or asked for, then closes the connection. */
  close(): Promise<void>;
}

export interface DurabilityOptions {
  /** fdatasync(2) of a file descriptor, off the event loop; a test holds or fails it. */
  readonly fdatasync?: (fd: number) => Promise<void>;
  /**
   * Once, when an fsync of the log fails: why, one line. The writes waiting on it fail with
   * `UnavailableError`, and so does every later one (`Db.failure`).
   */
  readonly onSyncFailure?: (cause: string) => void;
}

const WRITE_SQL = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/**
 * The connection's `Db`. On a file (found by `PRAGMA database_list`) it commits with NORMAL and
 * flushes the `-wal` file itself; an in-memory database has nothing to flush and never waits.
 */
export function sqliteDb(database: Database, { fdatasync, onSyncFailure }: DurabilityOptions = {}): Db {
  const exec = (sql: string): void => {
    try {
      database.exec(sql);
    } catch (err) {
      throw translate(err);
    }
  };
  let inTransaction = false;
  /** `fn` and COMMIT, on a connection that has just begun a transaction; ROLLBACK if `fn` throws. */
  const run = <T>(fn: () => T): T => {
    inTransaction = true;
    try {
      const result = fn();
      exec('COMMIT');
      return result;
    } catch (err) {
      exec('ROLLBACK');
      throw err;
    } finally {
      inTransaction = false;
    }
  };
  /** Waits for the write lock in SQLite's busy handler, which sleeps on the calling thread. */
  const transaction = <T>(fn: () => T): T => {
    exec('BEGIN IMMEDIATE');
    return run(fn);
  };
  const busyTimeoutMs = (database.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout;
  /** `BEGIN IMMEDIATE` without the busy handler: false at once when another connection holds the write lock. */
  const tryBegin = (): boolean => {
    database.exec('PRAGMA busy_timeout = 0');
    try {
      database.exec('BEGIN IMMEDIATE');
      return true;
    } catch (err) {
      if (isBusy(err)) return false;
      throw translate(err);
    } finally {
      database.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    }
  };
  /**
   * A transaction that waits for the write lock without holding the event loop: it begins at once
   * when the lock is free (the usual case: `fn` runs before this returns), else tries again after
   * 1, 2, 4, 8, 16, 16 … ms until the busy timeout has passed, then fails with `UnavailableError`.
   * SQLite's own busy handler sleeps between its tries on the calling thread, which for the serving
   * connection is the event loop: every request, reads included, waited as long as another
   * connection (the upkeep worker's checkpoint rewind, a purge batch, the CLI) held the lock.
   */
  const lockedTransaction = async <T>(fn: () => T): Promise<T> => {
    if (tryBegin()) return run(fn);
    const deadline = performance.now() + busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 16)) {
      await sleep(delay);
      if (tryBegin()) return run(fn);
      if (performance.now() >= deadline) throw new UnavailableError('SQLite database is locked', { what: 'sqlite-lock' });
    }
  };
  /** Guards a statement's every call: a write outside a transaction would commit unawaited. */
  const guard = (sql: string): (() => void) =>
    WRITE_SQL.test(sql)
      ? () => {
          if (!inTransaction) throw new Error(`SQLite write outside db.immediate/db.unflushed/db.blocking: ${sql.slice(0, 60)}`);
        }
      : () => {};
  const { file } = database.prepare('PRAGMA database_list').get() as { file: string };
  const wal = file === '' ? undefined : walSync(`${file}-wal`, fdatasync ?? defaultFdatasync, onSyncFailure ?? (() => {}));
  if (wal) exec('PRAGMA synchronous = NORMAL');
  return {
    prepare<R>(sql: string): Statement<R> {
      let s: DriverStatement;
      try {
        s = database.prepare(sql);
      } catch (err) {
        throw translate(err);
      }
      const check = guard(sql);
      // The driver types rows as plain records; the statement's SQL decides their shape.
      return {
        run(...params) {
          check();
          try {
            return Number(s.run(...params).changes);
          } catch (err) {
            throw translate(err);
          }
        },
        get(...params) {
          check();
          try {
            return s.get(...params) as R | undefined;
          } catch (err) {
            throw translate(err);
          }
        },
        all(...params) {
          check();
          try {
            return s.all(...params) as R[];
          } catch (err) {
            throw translate(err);
          }
        },
      };
    },
    exec,
    async immediate(fn) {
      wal?.check();
      const result = await lockedTransaction(fn);
      await wal?.flushed();
      return result;
    },
    async unflushed(fn) {
      wal?.check();
      return lockedTransaction(fn);
    },
    failure: () => wal?.failure?.message,
    blocking: transaction,
    async close() {
      await wal?.close();
      if (database.isOpen) database.close();
    },
  };
}

const defaultFdatasync: (fd: number) => Promise<void> = promisify(fdatasyncCallback);

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Group fsync of the WAL file `path`, off the event loop. `flushed()` resolves once an fdatasync that
 * started after the call has completed: if none is in flight one starts now; if one is, the caller
 * waits for the next, which starts when it ends and covers every caller that came meanwhile.
 *
 * The descriptor is opened on first use and re-opened whenever `path` names another file than the
 * one held (SQLite deletes the WAL when the last connection closes and the next creates it; comparing
 * device and inode finds that), and the directory is fsynced after each (re-)open, as a new file's
 * directory entry must reach the disk too. A `path` that does not exist holds nothing to flush: SQLite
 * deletes the WAL only after checkpointing all of it into the database file and syncing that.
 *
 * The first fsync that fails ends it: the callers waiting on it and every later one are rejected
 * with the same `UnavailableError`, and no fsync runs again (`Db.failure` says why).
 */
function walSync(path: string, fdatasync: (fd: number) => Promise<void>, onFailure: (cause: string) => void) {
  let handle: FileHandle | undefined;
  let held: { dev: number; ino: number } | undefined;
  let running: Promise<void> | undefined;
  let waiting: Waiter[] = [];
  /** Set by the first failed fsync, for good: every later write is refused with it. */
  let failure: UnavailableError | undefined;

  const release = async (): Promise<void> => {
    const h = handle;
    handle = undefined;
    held = undefined;
    await h?.close().catch(() => {});
  };

  const flush = async (): Promise<void> => {
    const now = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (now === undefined) return release();
    if (!handle || !held || held.dev !== now.dev || held.ino !== now.ino) {
      await release();
      handle = await open(path, 'r+');
      const opened = await handle.stat();
      held = { dev: opened.dev, ino: opened.ino };
      if (process.platform !== 'win32') {
        const dir = await open(dirname(path), 'r');
        try {
          await fdatasync(dir.fd);
        } finally {
          await dir.close();
        }
      }
    }
    await fdatasync(handle.fd);
  };

  const start = (): void => {
    const batch = waiting;
    waiting = [];
    running = (failure ? Promise.reject(failure) : flush()).then(
      () => {
        for (const w of batch) w.resolve();
      },
      async (err: unknown) => {
        const first = failure === undefined;
        failure ??= new UnavailableError('SQLite could not flush its log to disk: check the disk, then restart Keymint', { cause: err, what: 'sqlite-disk' });
        for (const w of batch) w.reject(failure);
        if (first) onFailure(`fsync of the SQLite log failed: ${(err as Error)?.message ?? String(err)}`.split('\n', 1)[0]!);
        await release();
      },
    );
    const next = (): void => {
      running = undefined;
      if (waiting.length > 0) start();
    };
    // Whatever the report did, the next fsync starts and `running` never stays a rejected promise.
    void running.then(next, next);
  };

  return {
    /** Throws the failure that stopped writes, if an fsync has failed. */
    check(): void {
      if (failure) throw failure;
    },
    get failure(): UnavailableError | undefined {
      return failure;
    },
    flushed(): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (!running) start();
      });
    },
    /** Waits for every fsync in flight or asked for, then closes the descriptor. */
    async close(): Promise<void> {
      while (running) await running.catch(() => {});
      await release();
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

function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED);
}

function translate(err: unknown): unknown {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return err;
  if (isBusy(err)) return new UnavailableError('SQLite database is locked', { cause: err, what: 'sqlite-lock' });
  if (code === SQLITE_CONSTRAINT_PRIMARYKEY || code === SQLITE_CONSTRAINT_UNIQUE) return new ConflictError('duplicate key');
  return err;
}

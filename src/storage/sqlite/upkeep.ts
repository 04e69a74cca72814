/**
 * A serving process's SQLite upkeep off the event loop: WAL checkpoints and purge batches, run by a
 * worker thread on a connection of its own. `node:sqlite` is synchronous, so whatever the serving
 * connection does holds the event loop; on a store of ten million tokens the two jobs below held it
 * for 13–65 ms at a time while a purge worked through a backlog (docs/performance.md, "Data scale"):
 *
 * - Checkpoints. SQLite copies the WAL back into the database file whenever a commit leaves more
 *   than 1,000 pages in the WAL, inside that commit. On a large store those pages are scattered over
 *   the file (each token's digest lands on a random index page), so copying and syncing them took
 *   50–75 ms, every fifth purge batch. The worker runs a PASSIVE checkpoint every
 *   `CHECKPOINT_INTERVAL_MS`, which copies and syncs what has been committed so far without taking
 *   the write lock. SQLite rewinds the WAL only once every page in it has been copied, which a
 *   checkpoint racing new commits rarely achieves, so the serving connection keeps a checkpoint of
 *   its own at a higher threshold (`BACKSTOP_PAGES`): rarely, and with little left to copy by then.
 *   A checkpoint runs only when something was committed since the last one (another connection's
 *   commit changes `data_version`; the worker's own purge batches are counted).
 * - Rewinding the WAL. When a commit is the first after a checkpoint copied the whole WAL, SQLite
 *   rewinds the log and fsyncs its new header inside that commit, even with `synchronous = NORMAL`
 *   (db.ts): on the serving connection, an fsync on the event loop. So when its checkpoint copied
 *   everything, the worker commits one frame itself (page 1 rewritten unchanged, by setting
 *   `user_version` to its value), which rewinds the log and syncs the header on the worker's thread;
 *   the serving connection then appends. A commit of the serving connection that lands between the
 *   checkpoint and that frame still rewinds it (2–5 in 300 sequential writes, bench/sqlite-fsyncs.ts).
 *   The frame changes `data_version` for the other connections, at most once per checkpoint interval
 *   and only after commits (clients cached in a serving process are re-read after it).
 * - Purge batches. Deleting 100 expired tokens touches a few hundred pages of the table and its
 *   indexes, scattered likewise. The worker runs each batch as the serving connection would (its own
 *   `BEGIN IMMEDIATE`, committed unflushed), so a batch holds the write lock, not the event loop: a
 *   request that writes meanwhile waits for the lock, one that reads does not wait at all.
 *
 * If the worker fails (an uncaught error, an exit nobody asked for, a batch that fails on its
 * connection for any reason but a lock held past the busy timeout), the serving connection takes both
 * jobs back for good (`available` turns false) and `onFailure` hears of it once.
 */
import { Worker } from 'node:worker_threads';
import type { SQLInputValue } from 'node:sqlite';
import type { Db } from './db.ts';

/** SQLite's own threshold (pages in the WAL), restored when the worker stops. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** The serving connection's threshold while the worker checkpoints: about 40 MB of WAL. */
export const BACKSTOP_PAGES = 10_000;
/** How often the worker checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The worker, CommonJS source (a bundled build needs no file of its own). Its writes are purge
 * batches only, so its connection commits with `synchronous = NORMAL` (checkpoints still sync the
 * WAL before copying and the file after). Messages in: `{id, sql, params}` (a batch) or `'stop'`;
 * out: `'ready'`, `{id, changes}` or `{id, error, busy}`, and each checkpoint's `{busy, log, checkpointed, rewound}`.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = ' + workerData.busyTimeoutMs);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const dataVersion = db.prepare('PRAGMA data_version');
const userVersion = db.prepare('PRAGMA user_version');
const statements = new Map();
// Others' commits seen so far, and whether this connection has committed (a purge batch) since.
let seen = -1;
let wrote = false;
/** Rewinds a WAL that is wholly in the database file: one frame rewriting page 1 as it is. */
const rewind = () => {
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('PRAGMA user_version = ' + Number(userVersion.get().user_version));
      db.exec('COMMIT');
      return true;
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  } catch {
    return false; // the lock was held too long: the serving connection rewinds it this time
  }
};
const timer = setInterval(() => {
  const version = dataVersion.get().data_version;
  if (version === seen && !wrote) return; // nothing committed since the last checkpoint but its own rewind
  seen = version;
  wrote = false;
  const { busy, log, checkpointed } = checkpoint.get();
  const rewound = busy === 0 && log > 0 && checkpointed === log && rewind();
  if (log > 0) parentPort.postMessage({ busy, log, checkpointed, rewound });
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
    return;
  }
  try {
    let s = statements.get(m.sql);
    if (!s) statements.set(m.sql, (s = db.prepare(m.sql)));
    db.exec('BEGIN IMMEDIATE');
    let changes;
    try {
      changes = Number(s.run(...m.params).changes);
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    db.exec('COMMIT');
    wrote = true;
    parentPort.postMessage({ id: m.id, changes });
  } catch (err) {
    // SQLITE_BUSY/LOCKED (and their extended codes): the lock was held too long, the connection is fine.
    const busy = err != null && [5, 6].includes(err.errcode & 0xff);
    parentPort.postMessage({ id: m.id, error: String(err && err.message), busy });
  }
});
parentPort.postMessage('ready');
`;

export interface CheckpointResult {
  /** 1 when another connection held the checkpoint (this one did nothing). */
  readonly busy: number;
  /** Pages in the WAL. */
  readonly log: number;
  /** Pages of it copied into the database file, by this checkpoint or earlier ones. */
  readonly checkpointed: number;
  /** All of it was copied, and the worker rewound the WAL (so no commit of the serving connection does). */
  readonly rewound: boolean;
}

export interface Upkeep {
  /** Resolves when the worker has opened the file (or failed to). */
  readonly ready: Promise<void>;
  /** False once the worker has failed or stopped: the serving connection does the work again. */
  available(): boolean;
  /** Runs one write statement in its own `BEGIN IMMEDIATE` on the worker's connection; resolves the rows it changed. */
  write(sql: string, params: SQLInputValue[]): Promise<number>;
  /** Stops the worker and gives the serving connection back its own checkpoint threshold. */
  stop(): Promise<void>;
}

export interface UpkeepOptions {
  readonly intervalMs?: number;
  readonly busyTimeoutMs?: number;
  /** Each checkpoint that found pages in the WAL (tests). */
  readonly onCheckpoint?: (r: CheckpointResult) => void;
  /** Once, when the worker fails (not when `stop` stops it): why, one line. */
  readonly onFailure?: (cause: string) => void;
}

type FromWorker = 'ready' | CheckpointResult | { id: number; changes: number } | { id: number; error: string; busy: boolean };

export function startUpkeep(db: Db, file: string, options: UpkeepOptions = {}): Upkeep {
  db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let up = true;
  const pending = new Map<number, { resolve(n: number): void; reject(err: Error): void }>();
  let nextId = 0;
  let stopping = false;
  /** The serving connection takes the work back; `cause` (a failure, not a stop) is reported once. */
  const down = (why: string, cause?: string) => {
    if (!up) return;
    up = false;
    try {
      db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // closed already: nothing left to checkpoint for
    }
    for (const p of pending.values()) p.reject(new Error(`SQLite upkeep worker ${why}`));
    pending.clear();
    if (cause !== undefined) options.onFailure?.(cause.split('\n', 1)[0]!);
  };
  const worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS, busyTimeoutMs: options.busyTimeoutMs ?? 5000 } });
  worker.unref();
  let ready!: () => void;
  const opened = new Promise<void>((resolve) => (ready = resolve));
  worker.on('message', (m: FromWorker) => {
    if (m === 'ready') return ready();
    if (!('id' in m)) return options.onCheckpoint?.(m);
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (!('error' in m)) return p?.resolve(m.changes);
    p?.reject(new Error(m.error));
    if (m.busy) return;
    // Anything else wrong with its connection: the worker is done for, and with it its checkpoints.
    down('failed', `a purge batch failed on its connection: ${m.error}`);
    void worker.terminate();
  });
  // A worker that cannot open the file or fails later leaves both jobs to the serving connection.
  worker.on('error', (err) => down('failed', err.message));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      down('stopped', stopping ? undefined : `it exited (code ${code})`);
      ready();
      resolve();
    }),
  );
  return {
    ready: opened,
    available: () => up,
    write(sql, params) {
      if (!up) return Promise.reject(new Error('SQLite upkeep worker stopped'));
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref(); // a batch in flight keeps this process waiting for its answer
        worker.postMessage({ id, sql, params });
      });
    },
    async stop() {
      stopping = true;
      worker.ref(); // this process waits for the worker to close its connection
      worker.postMessage('stop');
      await exited;
    },
  };
}

/**
 * One-time keys as an append-only log that every process on the file shares: `replays` rows in
 * `seq` order (AUTOINCREMENT: never reused), and in each process a map of the keys it has read from
 * the log. A claim runs under the write lock (`BEGIN IMMEDIATE`): the process first reads the rows
 * other processes appended since its last read, then decides from its map (a live key loses; an
 * absent or expired one wins) and appends the winners. Writers are serialised by that lock and each
 * reads everything committed before it decides, so of N concurrent claims in any processes exactly
 * one wins, as with a unique index, but without one: keys are random, and a unique index on them
 * costs a random page write per claim, where appending keeps a batch of claims on one or two pages
 * (docs/performance.md has the figures).
 *
 * Claims are group-committed like token inserts: those made in one turn of the event loop share one
 * transaction, and each resolves after COMMIT; a transaction that fails changes no map, so its claims
 * may be made again. Those commits are unflushed (`Db.unflushed`: the claim does not wait for the
 * WAL's fsync): in WAL mode a commit is then in the log, seen by every process and kept through a
 * process crash, but not yet flushed to the disk, so only a power loss can forget the last claims, and
 * with them reopen a replay window of at most one proof or assertion lifetime. That spares every DPoP
 * or `private_key_jwt` request waiting for an fsync that no token needs from it.
 *
 * The map holds the keys of the last proof and assertion lifetimes (rows of expired keys are purged
 * from the table by GROW-01, and dropped from the map a few at each commit, oldest first).
 */
import type { ReplayRepo } from '../types.ts';
import type { Db, Statement } from './db.ts';

interface Pending {
  readonly key: string;
  readonly expiresAt: number;
  readonly at: number;
  resolve(won: boolean): void;
  reject(err: unknown): void;
}

/** Entries of the map looked at per commit for expiry: enough to keep up with any claim rate. */
const SWEEP_STEP = 64;
/**
 * Rows appended per INSERT: one statement per batch rather than per claim (each statement also reads
 * and writes the table's AUTOINCREMENT counter), in chunks of this many.
 */
const ROWS_PER_INSERT = 16;

export function sqliteReplays(db: Db): ReplayRepo {
  const appends: Statement<never>[] = [];
  /** The INSERT of `rows` rows, prepared on first use. */
  const append = (rows: number): Statement<never> =>
    (appends[rows] ??= db.prepare(`INSERT INTO replays (key, expires_at) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')}`));
  // The last of this transaction's rows (RETURNING on each insert costs more than the insert).
  const lastAppended = db.prepare<{ seq: number }>('SELECT last_insert_rowid() AS seq');
  const unread = db.prepare<{ seq: number; key: string; expires_at: number }>('SELECT seq, key, expires_at FROM replays WHERE seq > ? ORDER BY seq');
  /** Key → until when it is taken: every row of the log up to `readTo`. */
  const taken = new Map<string, number>();
  let readTo = 0;
  let sweep: Iterator<[string, number]> | undefined;
  let pending: Pending[] = [];

  const take = (key: string, until: number): void => {
    const held = taken.get(key);
    if (held === undefined || held < until) {
      // Re-inserted, so the map stays in (roughly) expiry order for the sweep.
      taken.delete(key);
      taken.set(key, until);
    }
  };

  /** Drops a few expired keys, oldest first (their rows expired: a claim of them wins anyway). */
  const sweepSome = (at: number): void => {
    sweep ??= taken.entries();
    for (let i = 0; i < SWEEP_STEP; i++) {
      const next = sweep.next();
      if (next.done) {
        sweep = undefined;
        return;
      }
      const [key, until] = next.value;
      if (until <= at) taken.delete(key);
    }
  };

  const flush = (): void => {
    const batch = pending;
    pending = [];
    db.unflushed(() => {
      // Rows others committed are facts whatever becomes of this transaction: read them in.
      for (const row of unread.all(readTo)) {
        take(row.key, row.expires_at);
        readTo = row.seq;
      }
      const mine = new Map<string, number>();
      const rows: (string | number)[] = [];
      const results = batch.map((p) => {
        const held = mine.get(p.key) ?? taken.get(p.key);
        if (held !== undefined && held > p.at) return false;
        mine.set(p.key, p.expiresAt);
        rows.push(p.key, p.expiresAt);
        return true;
      });
      // In claim order, so the log's order is the order the claims were decided in.
      for (let i = 0; i < rows.length; i += 2 * ROWS_PER_INSERT) {
        const chunk = rows.slice(i, i + 2 * ROWS_PER_INSERT);
        append(chunk.length / 2).run(...chunk);
      }
      return { won: results, appended: mine, lastSeq: mine.size > 0 ? lastAppended.get()!.seq : undefined };
    }).then(
      ({ won, appended, lastSeq }) => {
        // Committed: this process's own rows are read (no one else wrote in between: the lock was held).
        for (const [key, until] of appended) take(key, until);
        if (lastSeq !== undefined) readTo = lastSeq;
        sweepSome(batch[0]!.at);
        batch.forEach((p, i) => p.resolve(won[i]!));
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  };

  return {
    claim(key, expiresAt, at) {
      return new Promise<boolean>((resolve, reject) => {
        if (pending.push({ key, expiresAt, at, resolve, reject }) === 1) setImmediate(flush);
      });
    },
  };
}

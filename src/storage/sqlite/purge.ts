/**
 * Purging expired rows (GROW-01). Each batch is its own `BEGIN IMMEDIATE`: it takes the write lock,
 * which every writer of the file (other processes included) waits for, deletes at most `limit` rows
 * and commits, so purging never holds the lock longer than one bounded batch and the batches of two
 * processes never run at once. Within a process one pass runs at a time.
 *
 * A batch runs synchronously: while it deletes, the event loop serves nothing. Deleting one expired
 * token from a large table costs several random page writes (the row and each of its four indexes),
 * so a batch of a thousand blocked requests for hundreds of milliseconds on a store of millions of
 * tokens (docs/performance.md); batches are capped at `SQLITE_PURGE_BATCH` rows. A batch commits
 * unflushed (`Db.unflushed`): a power loss can forget only deletions of rows nothing reads any more,
 * which the next pass makes again, and nothing waits for an fsync per batch (12 ms median, up to 95 ms
 * on the bench machine's disk: with a backlog, one in every batch's worth of requests).
 *
 * In a serving process the upkeep worker (upkeep.ts) runs the batches instead, the same way on its
 * own connection, so a batch holds the write lock but not the event loop. It still holds the lock,
 * and a write of the serving connection that finds it held waits for it (on a timer since db.ts's
 * `immediate` stopped using SQLite's busy handler, which slept on the event loop): on a million
 * tokens a batch of 100 held it 2.4–3.9 ms (p50; p90 16–18 ms, max 59–94 ms), a batch of 25 holds it
 * 0.6–0.9 ms (p90 0.7–1.1 ms, max 1.3 ms), for the same rows per second (bench/purge-batches.ts
 * --store sqlite --sizes 100,25).
 *
 * Should the worker fail, a batch it had in hand and every later one run here again.
 */
import { purgeSql } from '../sql/purge.ts';
import { PURGE_TABLES, type PurgeRepo, type PurgeTable } from '../types.ts';
import type { Db, Statement } from './db.ts';
import type { Upkeep } from './upkeep.ts';

/** SQLite's `replays` is a log keyed by `seq`, with no index on `key` (replays.ts): rows go by `seq`. */
const REPLAYS_PURGE = 'DELETE FROM replays WHERE seq IN (SELECT seq FROM replays WHERE expires_at < ? LIMIT ?)';

/** The most rows one SQLite purge batch deletes, whatever `purgeBatchSize` asks. */
export const SQLITE_PURGE_BATCH = 25;

/** `upkeep`: the serving process's worker, while it runs. */
export function sqlitePurge(db: Db, upkeep: () => Upkeep | undefined = () => undefined): PurgeRepo {
  const sql = (t: PurgeTable) => (t === 'replays' ? REPLAYS_PURGE : purgeSql(t, '?', '?'));
  const statements = new Map<PurgeTable, Statement<never>>(PURGE_TABLES.map((t) => [t, db.prepare(sql(t))]));
  let running = false;
  return {
    maxBatch: SQLITE_PURGE_BATCH,
    async exclusive(pass) {
      if (running) return undefined;
      running = true;
      try {
        return await pass(async (table, before, limit) => {
          const params = [before, Math.min(limit, SQLITE_PURGE_BATCH)];
          const worker = upkeep();
          if (worker?.available()) {
            try {
              return await worker.write(sql(table), params);
            } catch (err) {
              // A worker that failed meanwhile leaves the batch to the serving connection, below.
              if (worker.available()) throw err;
            }
          }
          return db.unflushed(() => statements.get(table)!.run(...params));
        });
      } finally {
        running = false;
      }
    },
  };
}

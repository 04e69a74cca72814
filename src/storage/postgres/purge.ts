/**
 * Purging expired rows (GROW-01), one node at a time: a pass holds a session advisory lock, keyed by
 * the schema, on one connection and runs every batch on it (each batch a statement of its own, so
 * committed as it goes). A node that finds the lock held skips its pass; a node that dies while
 * purging loses its connection and with it the lock.
 *
 * The batches commit without waiting for their WAL to reach the disk (`synchronous_commit = off` on
 * the purge's connection for the pass, reset before the connection goes back to the pool): a crash
 * can forget only deletions of rows nothing reads any more, which the next pass makes again, and
 * the issued tokens' commits beside it stop queueing behind a flush per purge batch. The same
 * reasoning as SQLite's unflushed batches (../sqlite/purge.ts).
 */
import { purgeSql } from '../sql/purge.ts';
import type { PurgeRepo } from '../types.ts';
import { counted, type Db } from './db.ts';

const LOCK_KEY = "hashtextextended('keymint purge ' || current_schema(), 0)";

export function postgresPurge(db: Db): PurgeRepo {
  return {
    exclusive: (pass) =>
      db.session(async (q) => {
        const [row] = await q<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`);
        if (row?.locked !== true) return undefined;
        try {
          await q('SET synchronous_commit = off');
          return await pass((table, before, limit) => counted(q, purgeSql(table, '$1', '$2'), [before, limit]));
        } finally {
          await q('RESET synchronous_commit');
          await q(`SELECT pg_advisory_unlock(${LOCK_KEY})`);
        }
      }),
  };
}

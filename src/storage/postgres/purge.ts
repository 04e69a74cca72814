/**
 * Purging expired rows (GROW-01), one node at a time: a pass holds a session advisory lock, keyed by
 * the schema, on one connection and runs every batch on it (each batch a statement of its own, so
 * committed as it goes). A node that finds the lock held skips its pass; a node that dies while
 * purging loses its connection and with it the lock.
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
          return await pass((table, before, limit) => counted(q, purgeSql(table, '$1', '$2'), [before, limit]));
        } finally {
          await q(`SELECT pg_advisory_unlock(${LOCK_KEY})`);
        }
      }),
  };
}

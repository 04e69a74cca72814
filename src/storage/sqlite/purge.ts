/**
 * Purging expired rows (GROW-01). Each batch is its own `BEGIN IMMEDIATE`: it takes the write lock,
 * which every writer of the file (other processes included) waits for, deletes at most `limit` rows
 * and commits, so purging never holds the lock longer than one bounded batch and the batches of two
 * processes never run at once. Within a process one pass runs at a time.
 */
import { purgeSql } from '../sql/purge.ts';
import { PURGE_TABLES, type PurgeRepo, type PurgeTable } from '../types.ts';
import type { Db, Statement } from './db.ts';

export function sqlitePurge(db: Db): PurgeRepo {
  const statements = new Map<PurgeTable, Statement<never>>(PURGE_TABLES.map((t) => [t, db.prepare(purgeSql(t, '?', '?'))]));
  let running = false;
  return {
    async exclusive(pass) {
      if (running) return undefined;
      running = true;
      try {
        return await pass(async (table, before, limit) => db.immediate(() => statements.get(table)!.run(before, limit)));
      } finally {
        running = false;
      }
    },
  };
}

/**
 * The keyring. `mutate` locks the single `keyring` row (`SELECT … FOR UPDATE`) for the whole
 * read-change-write, so two nodes rotating at once are serialised and the second sees the first's keys.
 */
import type { KeyRecord, KeyRepo } from '../types.ts';
import type { Db, Query } from './db.ts';

const list = async (q: Query): Promise<KeyRecord[]> =>
  (await q<{ doc: KeyRecord }>('SELECT doc FROM keys ORDER BY kid')).map((r) => r.doc);

export function postgresKeys(db: Db): KeyRepo {
  return {
    list: () => list(db.query),
    mutate(change) {
      return db.tx(async (q) => {
        await q('SELECT version FROM keyring WHERE id = 1 FOR UPDATE');
        const { put, remove } = change(await list(q));
        if (remove.length > 0) await q('DELETE FROM keys WHERE kid = ANY($1::text[])', [remove]);
        for (const k of put) {
          await q('INSERT INTO keys (kid, doc) VALUES ($1, $2::jsonb) ON CONFLICT (kid) DO UPDATE SET doc = excluded.doc', [k.kid, JSON.stringify(k)]);
        }
        if (put.length > 0 || remove.length > 0) await q('UPDATE keyring SET version = version + 1 WHERE id = 1');
        return list(q);
      });
    },
    async version() {
      const rows = await db.query<{ version: string }>('SELECT version FROM keyring WHERE id = 1');
      return Number(rows[0]?.version ?? 0);
    },
  };
}

/**
 * The keyring. `mutate` locks the single `keyring` row (`SELECT … FOR UPDATE`) for the whole
 * read-change-write, so two nodes rotating at once are serialised and the second sees the first's keys.
 */
import { KEY_COLUMNS, keyValues, toKey, type DocRow } from '../sql/rows.ts';
import type { KeyRecord, KeyRepo } from '../types.ts';
import { insertSql, type Db, type Query } from './db.ts';

const UPSERT = `${insertSql('keys', KEY_COLUMNS)} ON CONFLICT (kid) DO UPDATE SET doc = excluded.doc`;

const list = async (q: Query): Promise<KeyRecord[]> => (await q<DocRow>('SELECT doc FROM keys ORDER BY kid')).map(toKey);

export function postgresKeys(db: Db): KeyRepo {
  return {
    list: () => list(db.query),
    mutate(change) {
      return db.tx(async (q) => {
        await q('SELECT version FROM keyring WHERE id = 1 FOR UPDATE');
        const { put, remove } = change(await list(q));
        if (remove.length > 0) await q('DELETE FROM keys WHERE kid = ANY($1::text[])', [remove]);
        for (const k of put) await q(UPSERT, keyValues(k));
        if (put.length > 0 || remove.length > 0) await q('UPDATE keyring SET version = version + 1 WHERE id = 1');
        return list(q);
      });
    },
    async version() {
      const [row] = await db.query<{ version: number }>('SELECT version FROM keyring WHERE id = 1');
      return row?.version ?? 0;
    },
  };
}

/**
 * The keyring. `mutate` runs its read-change-write inside `BEGIN IMMEDIATE`, so two processes rotating
 * at once are serialised and the second sees the first's keys.
 */
import { KEY_COLUMNS, keyValues, toKey, type DocRow } from '../sql/rows.ts';
import type { KeyRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteKeys(db: Db): KeyRepo {
  const list = db.prepare<DocRow>('SELECT doc FROM keys ORDER BY kid');
  const put = db.prepare(`${insertSql('keys', KEY_COLUMNS)} ON CONFLICT (kid) DO UPDATE SET doc = excluded.doc`);
  const remove = db.prepare('DELETE FROM keys WHERE kid = ?');
  const bump = db.prepare('UPDATE keyring_version SET version = version + 1 WHERE id = 1');
  const version = db.prepare<{ version: number }>('SELECT version FROM keyring_version WHERE id = 1');
  const all = () => list.all().map(toKey);
  return {
    async list() {
      return all();
    },
    async mutate(change) {
      return db.immediate(() => {
        const { put: upserts, remove: removals } = change(all());
        for (const kid of removals) remove.run(kid);
        for (const k of upserts) put.run(...keyValues(k));
        if (upserts.length > 0 || removals.length > 0) bump.run();
        return all();
      });
    },
    async version() {
      return version.get()?.version ?? 0;
    },
  };
}

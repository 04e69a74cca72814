/** Clients as JSON documents; `update` is a read-modify-write inside `BEGIN IMMEDIATE`. */
import { CLIENT_COLUMNS, clientValues, toClient, type DocRow } from '../sql/rows.ts';
import { secretUsed, type ClientRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteClients(db: Db): ClientRepo {
  const insert = db.prepare(insertSql('clients', CLIENT_COLUMNS));
  const get = db.prepare<DocRow>('SELECT doc FROM clients WHERE id = ?');
  const list = db.prepare<DocRow>('SELECT doc FROM clients ORDER BY id');
  const put = db.prepare('UPDATE clients SET doc = ?, updated_at = ? WHERE id = ?');
  const remove = db.prepare('DELETE FROM clients WHERE id = ?');
  const update: ClientRepo['update'] = async (id, change) =>
    db.immediate(() => {
      const row = get.get(id);
      if (!row) return undefined;
      const next = change(toClient(row));
      put.run(JSON.stringify(next), next.updatedAt, id);
      return next;
    });
  return {
    async insert(c) {
      insert.run(...clientValues(c));
    },
    async get(id) {
      const row = get.get(id);
      return row && toClient(row);
    },
    async list() {
      return list.all().map(toClient);
    },
    update,
    async delete(id) {
      return remove.run(id) === 1;
    },
    async touchSecret(clientId, secretId, at) {
      await update(clientId, (c) => secretUsed(c, secretId, at));
    },
  };
}

/** Clients as JSON documents; `update` is a read-modify-write inside `BEGIN IMMEDIATE`. */
import { CLIENT_COLUMNS, clientValues, toClient, type DocRow } from '../sql/rows.ts';
import { secretUsed, type ClientRecord, type ClientRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteClients(db: Db): ClientRepo {
  const insert = db.prepare(insertSql('clients', CLIENT_COLUMNS));
  const get = db.prepare<DocRow>('SELECT doc FROM clients WHERE id = ?');
  const list = db.prepare<DocRow>('SELECT doc FROM clients ORDER BY id');
  const put = db.prepare('UPDATE clients SET doc = ?, updated_at = ? WHERE id = ?');
  const remove = db.prepare('DELETE FROM clients WHERE id = ?');
  const change = (id: string, fn: (c: ClientRecord) => ClientRecord) => () => {
    const row = get.get(id);
    if (!row) return undefined;
    const next = fn(toClient(row));
    put.run(JSON.stringify(next), next.updatedAt, id);
    return next;
  };
  const update: ClientRepo['update'] = async (id, fn) => db.immediate(change(id, fn));
  return {
    async insert(c) {
      await db.immediate(() => insert.run(...clientValues(c)));
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
      return db.immediate(() => remove.run(id) === 1);
    },
    // Bookkeeping (a secret's last use, shown to operators), written in the request that used the
    // secret: unflushed, so that request waits for no fsync.
    async touchSecret(clientId, secretId, at) {
      await db.unflushed(change(clientId, (c) => secretUsed(c, secretId, at)));
    },
  };
}

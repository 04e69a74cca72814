/** Clients as JSON documents; `update` is a read-modify-write under `SELECT … FOR UPDATE`. */
import { CLIENT_COLUMNS, clientValues, toClient, type DocRow } from '../sql/rows.ts';
import { secretUsed, type ClientRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

const INSERT = insertSql('clients', CLIENT_COLUMNS);

export function postgresClients(db: Db): ClientRepo {
  const update: ClientRepo['update'] = (id, change) =>
    db.tx(async (q) => {
      // The row lock serialises concurrent updates of one client across every node.
      const [row] = await q<DocRow>('SELECT doc FROM clients WHERE id = $1 FOR UPDATE', [id]);
      if (!row) return undefined;
      const next = change(toClient(row));
      await q('UPDATE clients SET doc = $2, updated_at = $3 WHERE id = $1', [id, JSON.stringify(next), next.updatedAt]);
      return next;
    });
  return {
    async insert(c) {
      await db.query(INSERT, clientValues(c));
    },
    async get(id) {
      const [row] = await db.query<DocRow>('SELECT doc FROM clients WHERE id = $1', [id]);
      return row && toClient(row);
    },
    async list() {
      return (await db.query<DocRow>('SELECT doc FROM clients ORDER BY id')).map(toClient);
    },
    update,
    async delete(id) {
      return (await db.query('DELETE FROM clients WHERE id = $1 RETURNING id', [id])).length === 1;
    },
    async touchSecret(clientId, secretId, at) {
      await update(clientId, (c) => secretUsed(c, secretId, at));
    },
  };
}

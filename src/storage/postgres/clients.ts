/** Clients as JSON documents; `update` is a read-modify-write under `SELECT … FOR UPDATE`. */
import type { ClientRecord, ClientRepo } from '../types.ts';
import type { Db } from './db.ts';

export function postgresClients(db: Db): ClientRepo {
  const repo: ClientRepo = {
    async insert(c) {
      // A duplicate id raises 23505, which db.ts maps to ConflictError.
      await db.query('INSERT INTO clients (id, doc, updated_at) VALUES ($1, $2::jsonb, $3)', [c.id, JSON.stringify(c), c.updatedAt]);
    },
    async get(id) {
      const rows = await db.query<{ doc: ClientRecord }>('SELECT doc FROM clients WHERE id = $1', [id]);
      return rows[0]?.doc;
    },
    async list() {
      return (await db.query<{ doc: ClientRecord }>('SELECT doc FROM clients ORDER BY id')).map((r) => r.doc);
    },
    update(id, change) {
      return db.tx(async (q) => {
        // The row lock serialises concurrent updates of one client across every node.
        const rows = await q<{ doc: ClientRecord }>('SELECT doc FROM clients WHERE id = $1 FOR UPDATE', [id]);
        const current = rows[0]?.doc;
        if (!current) return undefined;
        const next = change(current);
        await q('UPDATE clients SET doc = $2::jsonb, updated_at = $3 WHERE id = $1', [id, JSON.stringify(next), next.updatedAt]);
        return next;
      });
    },
    async delete(id) {
      return (await db.query('DELETE FROM clients WHERE id = $1 RETURNING id', [id])).length === 1;
    },
    async touchSecret(clientId, secretId, at) {
      await repo.update(clientId, (c) => ({
        ...c,
        secrets: c.secrets.map((s) => (s.id === secretId ? { ...s, lastUsedAt: at } : s)),
      }));
    },
  };
  return repo;
}

/** Clients in a map; every record is copied in and out, so callers never share the stored object. */
import { ConflictError, secretUsed, type ClientRecord, type ClientRepo } from '../types.ts';

export class MemoryClients implements ClientRepo {
  readonly #rows = new Map<string, ClientRecord>();

  async insert(client: ClientRecord): Promise<void> {
    if (this.#rows.has(client.id)) throw new ConflictError('duplicate key');
    this.#rows.set(client.id, structuredClone(client));
  }
  async get(id: string): Promise<ClientRecord | undefined> {
    const row = this.#rows.get(id);
    return row && structuredClone(row);
  }
  async list(): Promise<ClientRecord[]> {
    return [...this.#rows.values()].map((c) => structuredClone(c));
  }
  async update(id: string, change: (c: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined> {
    const row = this.#rows.get(id);
    if (!row) return undefined;
    const next = change(structuredClone(row));
    this.#rows.set(id, structuredClone(next));
    return structuredClone(next);
  }
  async delete(id: string): Promise<boolean> {
    return this.#rows.delete(id);
  }
  async touchSecret(clientId: string, secretId: string, at: number): Promise<void> {
    const row = this.#rows.get(clientId);
    if (row) this.#rows.set(clientId, secretUsed(row, secretId, at));
  }
}

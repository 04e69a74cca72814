/**
 * Wraps the client and key repositories so that every committed change is announced on the feed,
 * whoever made it (admin API, CLI, a future grant): the publish happens after the store resolved.
 */
import type { ClientRepo, KeyRepo } from '../storage/types.ts';
import type { Feed } from './types.ts';

export function publishingClients(repo: ClientRepo, feed: Feed): ClientRepo {
  return {
    async insert(client) {
      await repo.insert(client);
      await feed.publish({ type: 'client', id: client.id });
    },
    get: (id) => repo.get(id),
    list: () => repo.list(),
    async update(id, change) {
      const next = await repo.update(id, change);
      if (next) await feed.publish({ type: 'client', id });
      return next;
    },
    async delete(id) {
      const removed = await repo.delete(id);
      if (removed) await feed.publish({ type: 'client', id });
      return removed;
    },
    // Bookkeeping only (lastUsedAt): nothing a cache relies on changes.
    touchSecret: (clientId, secretId, at) => repo.touchSecret(clientId, secretId, at),
  };
}

export function publishingKeys(repo: KeyRepo, feed: Feed): KeyRepo {
  return {
    list: () => repo.list(),
    version: () => repo.version(),
    async mutate(change) {
      let changed = false;
      const keys = await repo.mutate((current) => {
        const c = change(current);
        changed = c.put.length > 0 || c.remove.length > 0;
        return c;
      });
      if (changed) await feed.publish({ type: 'keys' });
      return keys;
    },
  };
}

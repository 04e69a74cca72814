/**
 * Clients cached in memory, so authenticating a known client costs no store round-trip. An entry
 * lives `ttlMs` at most; writes through this node drop it at once, and writes elsewhere drop it
 * when the feed says so (`invalidate`). Concurrent misses for one id share one load, and a load that
 * raced an invalidation is not cached. Unknown ids are not cached (the rate limits bound them). A hit
 * is answered as it is, not as a promise: the token path then runs without waiting when nothing else
 * makes it wait (src/util/maybe.ts).
 */
import type { ClientRecord, ClientRepo } from '../storage/types.ts';

export interface CachedClients extends ClientRepo {
  /** Drops one client, or every client when `id` is omitted. */
  invalidate(id?: string): void;
}

export function cachedClients(repo: ClientRepo, ttlMs: number, now: () => number = Date.now): CachedClients {
  const entries = new Map<string, { record: ClientRecord; until: number }>();
  const loading = new Map<string, Promise<ClientRecord | undefined>>();
  let epoch = 0;
  const invalidate = (id?: string) => {
    epoch++;
    if (id === undefined) {
      entries.clear();
      loading.clear();
    } else {
      entries.delete(id);
      loading.delete(id);
    }
  };
  const load = (id: string): Promise<ClientRecord | undefined> => {
    const started = epoch;
    // The store's own answer is a promise (only this cache answers at once).
    const p = Promise.resolve(repo.get(id)).then(
      (record) => {
        if (loading.get(id) === p) loading.delete(id);
        if (record && epoch === started && ttlMs > 0) entries.set(id, { record, until: now() + ttlMs });
        return record;
      },
      (err: unknown) => {
        if (loading.get(id) === p) loading.delete(id);
        throw err;
      },
    );
    loading.set(id, p);
    return p;
  };
  return {
    invalidate,
    get(id) {
      const hit = entries.get(id);
      // Records are readonly: the cached object is handed out as is.
      if (hit && hit.until > now()) return hit.record;
      return loading.get(id) ?? load(id);
    },
    list: () => repo.list(),
    async insert(client) {
      await repo.insert(client);
      invalidate(client.id);
    },
    async update(id, change) {
      try {
        return await repo.update(id, change);
      } finally {
        invalidate(id);
      }
    },
    async delete(id) {
      try {
        return await repo.delete(id);
      } finally {
        invalidate(id);
      }
    },
    touchSecret: (clientId, secretId, at) => repo.touchSecret(clientId, secretId, at),
  };
}

/** How stale the client cache may be with respect to changes committed by another process (SQLite). */
export const CHANGE_CHECK_MS = 20;

/**
 * When the store can tell cheaply that another connection committed (SQLite's `data_version`), drop
 * the whole client cache before answering from it, checking at most every CHANGE_CHECK_MS: a change
 * made by the CLI or another process takes effect within 20 ms, while a busy node pays for the check
 * on one request in many rather than on each.
 */
export function followCommits(cache: CachedClients, marker: (() => number) | undefined, now: () => number = Date.now): CachedClients {
  if (!marker) return cache;
  let seen = marker();
  let checkedAt = now();
  const check = () => {
    const t = now();
    if (t - checkedAt < CHANGE_CHECK_MS && t >= checkedAt) return;
    checkedAt = t;
    const current = marker();
    if (current !== seen) {
      seen = current;
      cache.invalidate();
    }
  };
  return {
    ...cache,
    get: (id) => {
      check();
      return cache.get(id);
    },
  };
}

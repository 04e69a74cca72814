/**
 * One-time use of a proof or an assertion (`jti`), shared by every node that accepts them: a DPoP
 * proof (RFC 9449 §11.1) and a `private_key_jwt` assertion (RFC 7523 §3, item 7) are refused the
 * second time they are seen while they could still be accepted.
 *
 * Two backends: the store's `replays` repository (a table with the key as primary key on SQLite and
 * PostgreSQL: every process on the store shares it; a map in the memory store), or Redis
 * `SET key 1 NX PXAT` when Redis is configured (limits/redis-replay.ts), which spares the database a
 * write per request.
 */
import type { ReplayRepo } from '../storage/types.ts';

export interface ReplayGuard {
  /**
   * Records `key` as used until `expiresAtMs` (epoch ms). Resolves true for the first claimer, false
   * for every later one while the record lives. Atomic: of N concurrent claims exactly one is true.
   */
  claim(key: string, expiresAtMs: number): Promise<boolean>;
}

/** The guard over the store's repository; expired records are removed by the store's purge (GROW-01). */
export function storeReplayGuard(repo: ReplayRepo, now: () => number): ReplayGuard {
  return { claim: (key, expiresAtMs) => repo.claim(key, expiresAtMs, now()) };
}

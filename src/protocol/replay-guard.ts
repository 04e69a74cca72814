/**
 * One-time use of a proof or an assertion (`jti`), shared by every node that accepts them: a DPoP
 * proof (RFC 9449 §11.1) and a `private_key_jwt` assertion (RFC 7523 §3, item 7) are refused the
 * second time they are seen while they could still be accepted.
 *
 * A backend needs one atomic "insert unless present" per key, kept until `expiresAtMs`:
 * a unique key in a table (`INSERT … ON CONFLICT DO NOTHING`, expired rows purged), or Redis
 * `SET key 1 NX PXAT expiresAtMs`. The in-memory guard below serves one process only.
 */

export interface ReplayGuard {
  /**
   * Records `key` as used until `expiresAtMs` (epoch ms). Resolves true for the first claimer, false
   * for every later one while the record lives. Atomic: of N concurrent claims exactly one is true.
   */
  claim(key: string, expiresAtMs: number): Promise<boolean>;
}

export interface MemoryReplayGuardOptions {
  /** Most keys held (default 100 000). When full, the key closest to expiry is dropped first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * A process-local guard. Keys are kept in insertion order, which is close to expiry order (proofs
 * live one fixed window, assertions a few minutes at most): each claim drops expired keys from the
 * front until it meets a live one, so the purge costs O(1) amortised and the size stays bounded.
 */
export function memoryReplayGuard(options: MemoryReplayGuardOptions = {}): ReplayGuard {
  const max = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  return {
    async claim(key, expiresAtMs) {
      const t = now();
      for (const [oldest, until] of seen) {
        if (until > t && seen.size < max) break;
        seen.delete(oldest);
      }
      const held = seen.get(key);
      if (held !== undefined && held > t) return false;
      seen.delete(key); // re-inserted at the end, in expiry order
      seen.set(key, expiresAtMs);
      return true;
    },
  };
}

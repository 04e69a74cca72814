/**
 * Digests of bearer secrets (client secrets, opaque tokens): HMAC-SHA256 under a server pepper,
 * stored as `kid:hex` (SECURITY S-01, D-01). Comparison is constant-time over fixed-length digests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pepper } from './keyring.ts';

export const hmacHex = (pepper: Pepper, value: string): string =>
  createHmac('sha256', pepper.key).update(value).digest('hex');

/** `kid:hex` under the current pepper: the form a new record is stored with. */
export const storedDigest = (pepper: Pepper, value: string): string => `${pepper.kid}:${hmacHex(pepper, value)}`;

/** One candidate per live pepper, current first, for lookups by digest. */
export const candidateDigests = (peppers: readonly Pepper[], value: string): string[] =>
  peppers.map((p) => storedDigest(p, value));

/** Constant-time equality of two hex digests of equal length (unequal lengths compare false). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  if (x.length !== 32 || y.length !== 32) {
    // Still spend one comparison so a malformed stored digest is not faster to reject.
    timingSafeEqual(x.length === 32 ? x : Buffer.alloc(32), Buffer.alloc(32));
    return false;
  }
  return timingSafeEqual(x, y);
}

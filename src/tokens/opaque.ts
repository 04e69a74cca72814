/**
 * Opaque token formats. Each knows how to mint a token and how to tell, without any lookup, whether
 * a string could be one of its tokens (SECURITY D-03: malformed tokens never reach the store).
 */
import { randomBytes } from 'node:crypto';
import { randomBase62, withChecksum, hasValidChecksum } from './random.ts';

export interface OpaqueFormat {
  readonly name: string;
  mint(): string;
  recognises(token: string): boolean;
}

/**
 * `prefix` + 37 random base62 characters (≈ 220 bits) + 6-character base62 CRC32 of everything
 * before it, in the style of Polar's and GitHub's tokens.
 */
export function prefixedFormat(name: string, prefix: string): OpaqueFormat {
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9]/g, '\\$&')}[0-9A-Za-z]{43}$`);
  return {
    name,
    mint: () => withChecksum(prefix + randomBase62(37)),
    recognises: (token) => pattern.test(token) && hasValidChecksum(token),
  };
}

/**
 * `prefix` + `bytes` random bytes as lowercase hex, without a checksum: for provider contracts that
 * fix such a shape (Fuuffy's `sk-` + 32 hex). Prefer `prefixedFormat` where the shape is ours.
 */
export function hexFormat(name: string, prefix: string, bytes: number): OpaqueFormat {
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9]/g, '\\$&')}[0-9a-f]{${bytes * 2}}$`);
  return {
    name,
    mint: () => prefix + randomBytes(bytes).toString('hex'),
    recognises: (token) => pattern.test(token),
  };
}

/** Keymint's own opaque access tokens (used when a deployment or dialect asks for opaque). */
export const keymintAccessFormat = prefixedFormat('keymint', 'km_at_');

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

/** Fuuffy's documented shape: `sk-` + 32 lowercase hex characters (128 bits, no checksum). */
export const fuuffyFormat: OpaqueFormat = {
  name: 'fuuffy',
  mint: () => `sk-${randomBytes(16).toString('hex')}`,
  recognises: (token) => /^sk-[0-9a-f]{32}$/.test(token),
};

/** Keymint's own opaque access tokens (used when a deployment or dialect asks for opaque). */
export const keymintAccessFormat = prefixedFormat('keymint', 'km_at_');

/**
 * Opaque token formats. Each knows how to mint a token and how to tell, without any lookup, whether
 * a string could be one of its tokens (SECURITY D-03: malformed tokens never reach the store). A
 * format is built from its shape, which dialects declare as data.
 */
import { randomBytes } from 'node:crypto';
import { randomBase62, withChecksum, hasValidChecksum } from './random.ts';

/** The shape of an opaque token. */
export type OpaqueShape =
  /** `prefix` + 37 random base62 characters (≈ 220 bits) + a 6-character base62 CRC32 of what precedes it. */
  | { readonly kind: 'checksummed'; readonly prefix: string }
  /** `prefix` + `bytes` random bytes as lowercase hex, no checksum: only where a provider's contract fixes it. */
  | { readonly kind: 'hex'; readonly prefix: string; readonly bytes: number };

export interface OpaqueFormat {
  readonly shape: OpaqueShape;
  mint(): string;
  recognises(token: string): boolean;
}

const escape = (prefix: string): string => prefix.replace(/[^A-Za-z0-9]/g, '\\$&');

export function opaqueFormat(shape: OpaqueShape): OpaqueFormat {
  if (shape.kind === 'checksummed') {
    const pattern = new RegExp(`^${escape(shape.prefix)}[0-9A-Za-z]{43}$`);
    return {
      shape,
      mint: () => withChecksum(shape.prefix + randomBase62(37)),
      recognises: (token) => pattern.test(token) && hasValidChecksum(token),
    };
  }
  const pattern = new RegExp(`^${escape(shape.prefix)}[0-9a-f]{${shape.bytes * 2}}$`);
  return {
    shape,
    mint: () => shape.prefix + randomBytes(shape.bytes).toString('hex'),
    recognises: (token) => pattern.test(token),
  };
}

/** Keymint's own opaque access and refresh tokens. */
export const KEYMINT_ACCESS: OpaqueShape = { kind: 'checksummed', prefix: 'km_at_' };
export const KEYMINT_REFRESH: OpaqueShape = { kind: 'checksummed', prefix: 'km_rt_' };

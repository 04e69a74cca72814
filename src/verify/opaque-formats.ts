/**
 * The opaque token formats a resource server expects, so a string that fits none of them is refused
 * locally instead of costing an introspection call (a spray of random strings would otherwise spend
 * the introspection budget of the resource server's credentials; SECURITY VER-01).
 *
 * A format is a prefix, a number of characters after it from one alphabet, and optionally a checksum
 * in its last 6 characters. The checksum of Keymint's and Polar's tokens is CRC32 of everything before
 * it, as 6 base62 digits (most significant first): it catches typos and random strings, but it is not
 * a MAC, so anyone can make strings that pass it; those still go to introspection.
 */

export interface OpaqueFormat {
  /** What every token of the format starts with, e.g. `km_at_`. */
  readonly prefix: string;
  /** Characters after the prefix, checksum included. */
  readonly length: number;
  /** Alphabet of those characters: `base62` = `[0-9A-Za-z]`, `hex` = `[0-9a-f]`. */
  readonly charset: 'base62' | 'hex';
  /** `crc32-base62`: the last 6 characters are the base62 CRC32 of everything before them. */
  readonly checksum?: 'crc32-base62';
}

/** The opaque access tokens Keymint issues, by dialect. */
export const OPAQUE_FORMATS = {
  /** Keymint's own `km_at_` tokens. */
  keymint: { prefix: 'km_at_', length: 43, charset: 'base62', checksum: 'crc32-base62' },
  /** Polar dialect, user tokens. */
  polarUser: { prefix: 'polar_at_u_', length: 43, charset: 'base62', checksum: 'crc32-base62' },
  /** Polar dialect, organization tokens. */
  polarOrganization: { prefix: 'polar_at_o_', length: 43, charset: 'base62', checksum: 'crc32-base62' },
  /** Fuuffy dialect: `sk-` and 32 lowercase hex digits, no checksum (the provider's contract). */
  fuuffy: { prefix: 'sk-', length: 32, charset: 'hex' },
} as const satisfies Record<string, OpaqueFormat>;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHARSETS = { base62: /^[0-9A-Za-z]*$/, hex: /^[0-9a-f]*$/ } as const;

/** A predicate for "fits one of `formats`"; throws a TypeError on a format that cannot be met. */
export function formatMatcher(formats: readonly OpaqueFormat[]): (token: string) => boolean {
  for (const f of formats) {
    const ok =
      typeof f.prefix === 'string' && f.prefix.length > 0 &&
      Number.isInteger(f.length) && f.length > 0 && f.length <= 1024 &&
      Object.hasOwn(CHARSETS, f.charset) &&
      (f.checksum === undefined || (f.checksum === 'crc32-base62' && f.charset === 'base62' && f.length > 6));
    if (!ok) throw new TypeError(`createVerifier: introspection.formats has an invalid format (prefix ${JSON.stringify(f.prefix)})`);
  }
  return (token) =>
    formats.some(
      (f) =>
        token.length === f.prefix.length + f.length &&
        token.startsWith(f.prefix) &&
        CHARSETS[f.charset].test(token.slice(f.prefix.length)) &&
        (f.checksum === undefined || crc32Base62(token.slice(0, -6)) === token.slice(-6)),
    );
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib) of the UTF-8 bytes of `text`, as 6 base62 digits. */
export function crc32Base62(text: string): string {
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  let n = (crc ^ 0xffffffff) >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

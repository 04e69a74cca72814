/**
 * Random strings and checksums for credentials and opaque tokens. Every alphabet is a subset of
 * `[A-Za-z0-9_-]`, so Basic-auth encodings of every client library decode to the same bytes.
 */
import { randomBytes } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * CSPRNG output drawn 4 KiB at a time: one `randomBytes` call per ~100 tokens instead of one per
 * token (each call has a fixed cost of a few µs). Every byte is used once.
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

function randomByte(): number {
  if (offset >= pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  return pool[offset++]!;
}

const BASE62_CODES = Buffer.from(BASE62, 'latin1');

/**
 * Uniform base62 string of `length` characters (rejection sampling: no modulo bias). Written into a
 * buffer and decoded once: appending a character at a time builds one string object per character.
 */
export function randomBase62(length: number): string {
  const out = Buffer.allocUnsafe(length);
  let n = 0;
  while (n < length) {
    const b = randomByte();
    if (b < 248) out[n++] = BASE62_CODES[b % 62]!; // 248 = 4 × 62: accept only an unbiased range
  }
  return out.toString('latin1');
}

/** 43 base62 characters carry 256.03 bits (SECURITY A-11: ≥ 2^-128 guessing, we give 2^-256). */
export const SECRET_CHARS = 43;

let crcTable: Int32Array | undefined;

/**
 * CRC-32 (IEEE 802.3, as zlib's crc32) of the UTF-8 bytes of `text` (its first `end` characters). In JavaScript rather than
 * node:zlib's, whose module costs ~8 ms of CPU to load at every start for these few lines.
 * (keymint/verify has its own copy: it imports nothing of the service.)
 */
export function crc32(text: string, end = text.length): number {
  crcTable ??= Int32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  let crc = -1;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return crc32Bytes(Buffer.from(text.slice(0, end)), crcTable);
    crc = crcTable[(crc ^ code) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

function crc32Bytes(bytes: Uint8Array, table: Int32Array): number {
  let crc = -1;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** CRC32 of `body` as 6 base62 characters (62^6 > 2^32). Detects typos; it is not a MAC. */
export function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** `body + checksum(body)`. */
export const withChecksum = (body: string): string => body + checksum(body);

/** The value of a BASE62 character's code, or -1 for any other character. */
const base62Digit = (code: number): number =>
  code >= 48 && code <= 57 ? code - 48 : code >= 65 && code <= 90 ? code - 55 : code >= 97 && code <= 122 ? code - 61 : -1;

/**
 * True when the last 6 characters are the checksum of the rest. They are read as the number they
 * spell and compared with the CRC (6 base62 digits spell each number below 62^6 one way only), so a
 * check on every token request builds no strings.
 */
export function hasValidChecksum(value: string): boolean {
  if (value.length < 7) return false;
  const end = value.length - 6;
  let spelled = 0;
  for (let i = end; i < value.length; i++) {
    const digit = base62Digit(value.charCodeAt(i));
    if (digit < 0) return false;
    spelled = spelled * 62 + digit;
  }
  return spelled === crc32(value, end);
}

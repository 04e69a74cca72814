/**
 * Random strings and checksums for credentials and opaque tokens. Every alphabet is a subset of
 * `[A-Za-z0-9_-]`, so Basic-auth encodings of every client library decode to the same bytes.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

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

/** True when the last 6 characters are the checksum of the rest. */
export function hasValidChecksum(value: string): boolean {
  if (value.length < 7) return false;
  return checksum(value.slice(0, -6)) === value.slice(-6);
}

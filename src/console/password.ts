/**
 * Console passwords, hashed with scrypt (RFC 7914), memory-hard: N = 2^15, r = 8, p = 1 (32 MiB per
 * hash, OWASP's minimum for scrypt), a 16-byte random salt and a 32-byte key. The parameters are
 * stored with the hash (`scrypt$N$r$p$salt$hash`, base64url), so raising them later leaves existing
 * hashes verifiable. scrypt runs on libuv's threadpool: a sign-in never blocks the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** Hashes with larger parameters than these are refused (a planted row must not exhaust memory). */
const MAX_N = 2 ** 20;

/** Shortest and longest password accepted (a longer one would only be truncated by nothing, but costs). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly 128·N·r for N = 2^15, r = 8: allow twice what is needed.
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/.exec(stored);
  if (!m) return undefined;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 || n > MAX_N || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { n, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** A well-formed hash of a password nobody knows: what an unknown user is checked against. */
const DUMMY = `scrypt$${N}$${R}$${P}$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

/**
 * True when `password` matches `stored`. With `stored` undefined (no such user) a hash of the same
 * cost is still computed against a dummy, so the answer takes as long either way (SECURITY CO-01).
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parsed = parse(stored ?? DUMMY) ?? parse(DUMMY)!;
  const key = await derive(password.slice(0, PASSWORD_MAX), parsed.salt, parsed.n, parsed.r, parsed.p);
  return timingSafeEqual(key, parsed.key) && stored !== undefined && parse(stored) !== undefined;
}

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < PASSWORD_MIN) return `a password must have at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `a password must have at most ${PASSWORD_MAX} characters`;
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'a password must not contain control characters';
  return undefined;
}

/** The parameters a stored hash was made with (for tests and `users list`). */
export function hashParameters(stored: string): { n: number; r: number; p: number } | undefined {
  const parsed = parse(stored);
  return parsed && { n: parsed.n, r: parsed.r, p: parsed.p };
}

/**
 * JWT signing on `node:crypto` directly (the hot path: measured faster than going through jose).
 * Verification goes through jose, except for client assertions and DPoP proofs at the token endpoint
 * (jws-verify.ts: jose's rules on `node:crypto`, for the same reason).
 */
import type { Maybe } from '../util/maybe.ts';
import { constants, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Signer } from './keyring.ts';

const b64url = (value: string): string => Buffer.from(value).toString('base64url');

/** Encoded headers by signer and `typ`: the same few strings on every token of a key. */
const headers = new WeakMap<Signer, Map<string, string>>();

function encodedHeader(signer: Signer, typ: string): string {
  let byTyp = headers.get(signer);
  if (!byTyp) headers.set(signer, (byTyp = new Map()));
  let header = byTyp.get(typ);
  if (header === undefined) byTyp.set(typ, (header = b64url(JSON.stringify({ alg: signer.alg, typ, kid: signer.kid }))));
  return header;
}

function prepare(signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>) {
  const input = `${encodedHeader(signer, typ)}.${b64url(JSON.stringify(payload))}`;
  const algorithm = signer.alg === 'EdDSA' ? null : 'sha256';
  return { input, algorithm };
}

/** PS256's signing input by signer: the key with PSS padding and a salt as long as the hash (RFC 7518 §3.5), made once per key. */
const pssKeys = new WeakMap<Signer, SignKeyObjectInput>();

/**
 * What Node signs with: the KeyObject itself for RS256, ES256 and EdDSA (see jwsSignature on why no
 * options object), and for PS256 the one options object per key that asks for RSASSA-PSS, since a
 * KeyObject alone signs RSA with PKCS#1 v1.5 padding.
 */
function signingKey(signer: Signer): KeyObject | SignKeyObjectInput {
  if (signer.alg !== 'PS256') return signer.key;
  let input = pssKeys.get(signer);
  if (!input) pssKeys.set(signer, (input = { key: signer.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }));
  return input;
}

/**
 * The signature as a JWS carries it. For RS256, ES256 and EdDSA Node is handed the KeyObject itself,
 * never an options object (`{ key, dsaEncoding: 'ieee-p1363' }` makes it probe the object for a
 * KeyObject and a CryptoKey, an internal exception each: some 250 k instructions, as much as the
 * ES256 signature itself; PS256 pays that, small beside an RSA signature, since only an options
 * object asks for PSS: `signingKey`), so an ECDSA signature comes in DER and is turned into r ‖ s here.
 */
function jwsSignature(signer: Signer, signature: Buffer): string {
  return (signer.alg === 'ES256' ? p1363Signature(signature, 32) : signature).toString('base64url');
}

/** Compact JWS over `payload` with header `{alg, typ, kid}`. */
export function signJwt(signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>): string {
  const { input, algorithm } = prepare(signer, typ, payload);
  return `${input}.${jwsSignature(signer, sign(algorithm, Buffer.from(input), signingKey(signer)))}`;
}

/**
 * A DER `SEQUENCE { INTEGER r, INTEGER s }` (what OpenSSL signs ECDSA with) as the JWS form r ‖ s,
 * each integer left-padded with zeros to `size` bytes (RFC 7518 §3.4): the inverse of
 * jws-verify.ts's `derSignature`.
 */
export function p1363Signature(der: Buffer, size: number): Buffer {
  const out = Buffer.alloc(2 * size);
  // Past the SEQUENCE's tag and length (one byte, or 0x81 and one more).
  let at = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  for (let i = 1; i <= 2; i++) {
    const length = der[at + 1]!;
    const start = at + 2;
    const end = start + length;
    // An INTEGER longer than `size` only carries a zero that keeps it positive.
    const from = length > size ? end - size : start;
    der.copy(out, i * size - (end - from), from, end);
    at = end;
  }
  return out;
}

/**
 * Where a signature is computed. `inline`: on the event loop, the cheapest in CPU (no thread hand-off:
 * two context switches and a wake-up per token); `threadpool`: on libuv's threadpool, which uses cores
 * the event loop cannot. See docs/performance.md for the measurements behind `auto`.
 */
export type SigningMode = 'inline' | 'threadpool';

/**
 * `auto`: inline when this process may use one core only (pinned: the hand-off is pure cost there),
 * else the threadpool, whatever the number of workers. On two cores, two workers signing on the
 * threadpool served as many or more tokens as two signing inline, at half the p99 on RS256 (an
 * inline RSA signature holds every request queued behind it on that worker's loop); see
 * docs/performance.md, "Where to sign".
 */
export function resolveSigning(option: SigningMode | 'auto', cores = availableParallelism()): SigningMode {
  if (option !== 'auto') return option;
  return cores > 1 ? 'threadpool' : 'inline';
}

/** `signJwt` or `signJwtAsync`, as the mode says: the token at once, or a promise of it. */
export function jwtSigner(mode: SigningMode): (signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>) => Maybe<string> {
  return mode === 'inline' ? signJwt : signJwtAsync;
}

/** Same, with the signature computed on libuv's threadpool, leaving the event loop free meanwhile. */
export function signJwtAsync(signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>): Promise<string> {
  const { input, algorithm } = prepare(signer, typ, payload);
  return new Promise((resolve, reject) => {
    sign(algorithm, Buffer.from(input), signingKey(signer), (err, signature) => (err ? reject(err) : resolve(`${input}.${jwsSignature(signer, signature)}`)));
  });
}

/**
 * JWT signing on `node:crypto` directly (the hot path: measured faster than going through jose).
 * Verification goes through jose, except for client assertions and DPoP proofs at the token endpoint
 * (jws-verify.ts: jose's rules on `node:crypto`, for the same reason).
 */
import type { Maybe } from '../util/maybe.ts';
import { sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
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
  const key: KeyObject | SignKeyObjectInput = signer.alg === 'ES256' ? { key: signer.key, dsaEncoding: 'ieee-p1363' } : signer.key;
  return { input, algorithm, key };
}

/** Compact JWS over `payload` with header `{alg, typ, kid}`. */
export function signJwt(signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>): string {
  const { input, algorithm, key } = prepare(signer, typ, payload);
  return `${input}.${sign(algorithm, Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Where a signature is computed. `inline`: on the event loop, the cheapest in CPU (no thread hand-off:
 * two context switches and a wake-up per token); `threadpool`: on libuv's threadpool, which uses cores
 * the event loop cannot. See docs/performance.md for the measurements behind `auto`.
 */
export type SigningMode = 'inline' | 'threadpool';

/**
 * `auto`: the threadpool only pays when it has a core of its own — when this process may use more
 * cores than there are serving processes. One process pinned to one core, or one worker per core,
 * signs inline.
 */
export function resolveSigning(option: SigningMode | 'auto', workers: number, cores = availableParallelism()): SigningMode {
  if (option !== 'auto') return option;
  return cores > workers ? 'threadpool' : 'inline';
}

/** `signJwt` or `signJwtAsync`, as the mode says: the token at once, or a promise of it. */
export function jwtSigner(mode: SigningMode): (signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>) => Maybe<string> {
  return mode === 'inline' ? signJwt : signJwtAsync;
}

/** Same, with the signature computed on libuv's threadpool, leaving the event loop free meanwhile. */
export function signJwtAsync(signer: Signer, typ: string, payload: Readonly<Record<string, unknown>>): Promise<string> {
  const { input, algorithm, key } = prepare(signer, typ, payload);
  return new Promise((resolve, reject) => {
    sign(algorithm, Buffer.from(input), key, (err, signature) => (err ? reject(err) : resolve(`${input}.${signature.toString('base64url')}`)));
  });
}

/**
 * Compact JWS (and JWT) verification on `node:crypto` with a cached `KeyObject`, for the checks a
 * token request pays on every call: `private_key_jwt` assertions and DPoP proofs. jose's `jwtVerify`
 * goes through WebCrypto (a CryptoKey, a job and a promise per signature) and re-parses what the
 * caller already parsed; here the key is imported and checked against its alg once, and each token is
 * split and parsed once.
 *
 * The rules are jose's (`compactVerify` + `jwtVerify`), none dropped: three base64url segments;
 * header and claims set strict UTF-8 JSON objects; `alg` a non-empty string from the caller's list;
 * `crit` a non-empty array of distinct non-empty strings naming only parameters understood here
 * (`b64`, which must then be present, and true: a JWT never has an unencoded payload); the key of the
 * family, curve and size the alg needs (RSA ≥ 2048 bits), a JWK's `key_ops` including `verify`; an
 * ECDSA signature of exactly the curve's length; `typ`, required claims and the time claims as
 * `checkJwtClaims` says. Anything else about a token is the caller's (issuer, audience, `jti`, ...).
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Why a token failed; the message names the rule, never the input. */
export class JwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwsError';
  }
}

/** A compact JWS split, its header and claims set parsed (not yet verified). */
export interface ParsedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  /** The first segment as sent (equal strings: equal headers, which callers may cache by). */
  readonly encodedHeader: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `header.payload`, the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw new JwsError(`the ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsError(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** RFC 7515 §4.1.11 as jose applies it to JWTs: only `b64` is understood, and a JWT keeps it true. */
function checkCrit(header: Record<string, unknown>): void {
  const { crit } = header;
  if (crit === undefined) return;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((p) => typeof p !== 'string' || p === '') || new Set(crit).size !== crit.length) {
    throw new JwsError('crit is not an array of distinct non-empty strings');
  }
  for (const parameter of crit) {
    if (parameter !== 'b64') throw new JwsError('crit names a parameter that is not understood');
    if (header.b64 === undefined) throw new JwsError('crit names a parameter that is missing');
    if (typeof header.b64 !== 'boolean') throw new JwsError('b64 is not a boolean');
    if (!header.b64) throw new JwsError('a JWT must not have an unencoded payload');
  }
}

/**
 * Parsed headers by their encoded form: one client sends the same header on every assertion or proof
 * (a proof's carries its whole `jwk`), so it is decoded, and its characters checked, once. Frozen, as
 * callers share them (and may key what they derive from a header by its object). Bounded; oldest
 * dropped.
 */
const headers = new Map<string, Readonly<Record<string, unknown>>>();
const HEADERS_MAX = 10_000;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function parsedHeader(encoded: string): Readonly<Record<string, unknown>> {
  let header = headers.get(encoded);
  if (!header) {
    // Only a header met for the first time needs its characters checked: a cached one equals one that passed.
    if (!BASE64URL.test(encoded)) throw new JwsError('not a compact JWS');
    const parsed = jsonObject(encoded, 'header');
    checkCrit(parsed);
    for (const value of Object.values(parsed)) if (typeof value === 'object' && value !== null) Object.freeze(value);
    header = Object.freeze(parsed);
    if (headers.size >= HEADERS_MAX) headers.delete(headers.keys().next().value!);
    headers.set(encoded, header);
  }
  return header;
}

/**
 * Splits and parses a compact JWT: three non-empty base64url segments, header and claims set JSON
 * objects, `crit` understood. (Split at the dots rather than matched by one regular expression: the
 * header, most of a DPoP proof, is then looked at once, by the cache, when it was seen before.)
 */
export function parseJwt(token: string): ParsedJwt {
  const first = token.indexOf('.');
  const second = first < 1 ? -1 : token.indexOf('.', first + 1);
  if (second < 0) throw new JwsError('not a compact JWS');
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  // A length of 4n+1 is no base64url (Buffer would drop the last character; jose refuses it). The
  // signature's test also refuses a fourth segment (a dot is not base64url).
  if (first % 4 === 1 || payload.length % 4 === 1 || signature.length % 4 === 1 || !BASE64URL.test(payload) || !BASE64URL.test(signature)) throw new JwsError('not a compact JWS');
  const encodedHeader = token.slice(0, first);
  return { header: parsedHeader(encodedHeader), encodedHeader, claims: jsonObject(payload, 'claims set'), signingInput: token.slice(0, second), signature: Buffer.from(signature, 'base64url') };
}

/** What verifies one alg: the digest and the `verify` options; ECDSA signatures have a fixed length. */
interface AlgSpec {
  readonly kty: 'EC' | 'OKP' | 'RSA';
  readonly hash: string | null;
  readonly crv?: string;
  readonly curve?: string;
  readonly signatureBytes?: number;
  readonly pss?: number;
}

const ALGS: Readonly<Record<string, AlgSpec>> = {
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256', curve: 'prime256v1', signatureBytes: 64 },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384', curve: 'secp384r1', signatureBytes: 96 },
  ES512: { kty: 'EC', hash: 'sha512', crv: 'P-521', curve: 'secp521r1', signatureBytes: 132 },
  EdDSA: { kty: 'OKP', hash: null, crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', hash: null, crv: 'Ed25519' },
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: 32 },
  PS384: { kty: 'RSA', hash: 'sha384', pss: 48 },
  PS512: { kty: 'RSA', hash: 'sha512', pss: 64 },
};

/** A public key imported and checked for one alg: verifying costs the signature check alone. */
export interface JwsVerifyKey {
  readonly alg: string;
  readonly key: KeyObject;
  /** Whether `signature` is a valid signature of `signingInput` under this key and alg. */
  verify(signingInput: string, signature: Buffer): boolean;
}

/**
 * Imports a public JWK for `alg`, with the checks WebCrypto makes when jose imports it: the key type
 * and curve of the alg, RSA of at least 2048 bits, `key_ops` (when present) allowing `verify`. Throws
 * `JwsError` for an alg not verified here (`none`, HS*, anything unknown) or a key that does not fit.
 * The JWK's `alg` and `use` are the caller's to judge (jose ignores them too).
 */
export function jwsVerifyKey(jwk: Readonly<Record<string, unknown>>, alg: string): JwsVerifyKey {
  const spec = Object.hasOwn(ALGS, alg) ? ALGS[alg] : undefined;
  if (!spec) throw new JwsError('the alg is not an asymmetric JWS algorithm');
  if (jwk.kty !== spec.kty || (spec.crv !== undefined && jwk.crv !== spec.crv)) throw new JwsError('the key does not fit the alg');
  if (jwk.key_ops !== undefined && (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))) throw new JwsError('the key may not verify');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e } as never, format: 'jwk' });
  } catch {
    throw new JwsError('the key cannot be imported');
  }
  const details = key.asymmetricKeyDetails ?? {};
  const fits =
    spec.kty === 'RSA' ? key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048
    : spec.kty === 'EC' ? key.asymmetricKeyType === 'ec' && details.namedCurve === spec.curve
    : key.asymmetricKeyType === 'ed25519';
  if (!fits) throw new JwsError('the key does not fit the alg');
  // The KeyObject itself wherever the alg allows: an options object ({ key, dsaEncoding }) costs
  // Node two internal exceptions per call (it probes for a KeyObject and a CryptoKey first), a third
  // of an ES256 verification. ECDSA signatures are turned into DER instead, the default encoding.
  const input = spec.pss !== undefined ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pss } : key;
  return {
    alg,
    key,
    verify(signingInput, signature) {
      if (spec.signatureBytes !== undefined && signature.length !== spec.signatureBytes) return false;
      try {
        return verify(spec.hash, Buffer.from(signingInput, 'latin1'), input, spec.signatureBytes === undefined ? signature : derSignature(signature));
      } catch {
        return false;
      }
    },
  };
}

/** Where an unsigned big-endian integer's significant bytes start (one zero kept for zero itself). */
function firstSignificant(bytes: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to - 1 && bytes[i] === 0) i++;
  return i;
}

/**
 * A JWS ECDSA signature (r ‖ s, RFC 7518 §3.4) as the DER `SEQUENCE { INTEGER r, INTEGER s }` OpenSSL
 * verifies: each integer without its leading zeros, with one zero before a top bit that is set. Written
 * into one buffer (concatenating the parts cost as much again as the rest of the check around it).
 */
export function derSignature(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const r = firstSignificant(p1363, 0, half);
  const s = firstSignificant(p1363, half, p1363.length);
  const rPad = p1363[r]! & 0x80 ? 1 : 0;
  const sPad = p1363[s]! & 0x80 ? 1 : 0;
  const rLen = half - r + rPad;
  const sLen = p1363.length - s + sPad;
  const body = 2 + rLen + 2 + sLen;
  const head = body < 0x80 ? 2 : 3;
  const der = Buffer.allocUnsafe(head + body);
  let at = 0;
  der[at++] = 0x30;
  if (head === 3) der[at++] = 0x81;
  der[at++] = body;
  der[at++] = 0x02;
  der[at++] = rLen;
  if (rPad) der[at++] = 0;
  at += p1363.copy(der, at, r, half);
  der[at++] = 0x02;
  der[at++] = sLen;
  if (sPad) der[at++] = 0;
  p1363.copy(der, at, s);
  return der;
}

export interface JwtClaimRules {
  /** Accepted `typ`, compared as jose does: case-insensitively, `application/` implied. */
  readonly typ?: string;
  /** Claims that must be present (own members). */
  readonly required?: readonly string[];
  /** Seconds of leeway on `exp` and `nbf`. */
  readonly clockToleranceSeconds?: number;
  readonly nowMs: number;
}

const TIME_CLAIMS = ['iat', 'nbf', 'exp'] as const;

const normalTyp = (typ: string): string => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);

/**
 * jose's claim checks of `jwtVerify`: `typ` when asked; every required claim present; `iat`, `nbf`,
 * `exp` numbers when present; `nbf` not after now, `exp` after now (each within the tolerance).
 */
export function checkJwtClaims(jwt: ParsedJwt, rules: JwtClaimRules): void {
  const { header, claims } = jwt;
  // The exact `typ` asked for needs no normalising (the usual case: every proof says `dpop+jwt`).
  if (rules.typ !== undefined && header.typ !== rules.typ && (typeof header.typ !== 'string' || normalTyp(header.typ) !== normalTyp(rules.typ))) throw new JwsError('unexpected typ');
  for (const claim of rules.required ?? []) if (!Object.hasOwn(claims, claim)) throw new JwsError('a required claim is missing');
  for (const claim of TIME_CLAIMS) if (claims[claim] !== undefined && typeof claims[claim] !== 'number') throw new JwsError('a time claim is not a number');
  const now = Math.floor(rules.nowMs / 1000);
  const tolerance = rules.clockToleranceSeconds ?? 0;
  const { nbf, exp } = claims as { nbf?: number; exp?: number };
  if (nbf !== undefined && nbf > now + tolerance) throw new JwsError('not yet valid');
  if (exp !== undefined && exp <= now - tolerance) throw new JwsError('expired');
}

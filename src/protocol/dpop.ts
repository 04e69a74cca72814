/**
 * DPoP proofs at the authorization server (RFC 9449 §4.3), HTTP-free: the caller passes the method,
 * the absolute URL the request was sent to and the `DPoP` header value(s) it received.
 *
 * Checked, in the order of §4.3: one header; a compact JWS whose header has `typ` `dpop+jwt`, an
 * `alg` from `algorithms` (asymmetric only) and a public `jwk` (no private members, RSA ≥ 2048 bits,
 * the key able to make that `alg`); the signature under that key; `jti`, `htm`, `htu`, `iat`
 * present; `htm` equal to the method; `htu` equal to the URL after normalisation, query and fragment
 * ignored; the server nonce when nonces are on; `iat` within the window; `ath` when an access token
 * comes with the proof; last, the `jti` claimed once per key for as long as the proof could pass.
 *
 * This does NOT decide whether DPoP is required for a client, bind the token (the caller puts the
 * returned `jkt` in `cnf`), or check a refresh token's binding: those belong to the token endpoint.
 */
import { createHash, hash } from 'node:crypto';
import type { JWK } from 'jose';
import { checkJwtClaims, jwsVerifyKey, parseJwt, type JwsVerifyKey, type ParsedJwt } from '../tokens/jws-verify.ts';
import { OAuthError } from '../wire/errors.ts';
import type { DpopNonces } from './dpop-nonce.ts';
import type { ReplayGuard } from './replay-guard.ts';

/** Every asymmetric JWS algorithm jose verifies; the default of `algorithms` and of the metadata. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;

export interface DpopSettings {
  /** Accepted `alg` values, advertised as `dpop_signing_alg_values_supported`. */
  readonly algorithms: readonly string[];
  /** How old a proof's `iat` may be, seconds (RFC 9449 §11.1). */
  readonly proofMaxAgeSeconds: number;
  /** Leeway for a client's clock ahead of ours, and added to the age, seconds. */
  readonly clockToleranceSeconds: number;
  /** When set, every proof must carry a nonce it accepts (§8); unset: nonces are not used. */
  readonly nonces: DpopNonces | undefined;
  readonly replay: ReplayGuard;
  readonly now: () => number;
}

export interface DpopProofInput {
  readonly method: string;
  /** The absolute URL the request was sent to (as the client saw it). */
  readonly url: string;
  /** Every `DPoP` header value received, or the one value. */
  readonly proof: string | readonly string[] | undefined;
  /** Present when the request also carries an access token: `ath` must be its hash (§4.3, item 12). */
  readonly accessToken?: string;
}

export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: the value for `cnf.jkt` (§6.1). */
  readonly jkt: string;
  /** The proof's `alg` (a client's profile may allow fewer than the server: FAPI-06). */
  readonly alg: string;
  /** A fresh nonce to send back in `DPoP-Nonce` when the proof used an older one (§8.2). */
  readonly freshNonce: string | undefined;
}

/** `400 use_dpop_nonce`; the answer must carry `DPoP-Nonce: <nonce>` (RFC 9449 §8). */
export class UseDpopNonceError extends OAuthError {
  readonly nonce: string;

  constructor(nonce: string) {
    super('use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.');
    this.nonce = nonce;
  }
}

const invalidProof = (description: string, cause?: unknown): OAuthError =>
  new OAuthError('invalid_dpop_proof', description, { cause });

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** An RSA 4096 key in the header is about 1 KB; this bounds the work done before the signature. */
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Key type by the first two letters of the alg (ES256 → EC, EdDSA/Ed25519 → OKP, PS/RS → RSA). */
const KEY_TYPES: Readonly<Record<string, string>> = { ES: 'EC', Ed: 'OKP', PS: 'RSA', RS: 'RSA' };

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };

/** RFC 7638 SHA-256 thumbprint, computed synchronously (the value of `cnf.jkt`). */
export function jwkThumbprint(jwk: JWK): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''];
  if (!members || members.some((m) => typeof (jwk as Record<string, unknown>)[m] !== 'string')) throw invalidProof('The DPoP proof jwk is incomplete.');
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify((jwk as Record<string, unknown>)[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** What a proof header gives once checked: its alg, the thumbprint of its `jwk` and that key, imported. */
interface ProofHeader {
  readonly alg: string;
  readonly jkt: string;
  readonly key: JwsVerifyKey;
}

/**
 * Checked proof headers: a client signs many proofs with one key, and every proof of one key has the
 * same header (`typ`, `alg`, `jwk`; the claims that change are in the payload), so its key is checked,
 * thumbprinted and imported once. Keyed by the parsed header, which parseJwt shares between tokens of
 * the same encoded header (and keeps, bounded: an entry here lives as long as that one). Only what
 * the header alone decides is kept; the alg list is checked on every proof.
 */
const checkedHeaders = new WeakMap<object, ProofHeader>();

function proofHeader(jwt: ParsedJwt): ProofHeader {
  let checked = checkedHeaders.get(jwt.header);
  if (!checked) {
    const { alg } = jwt.header;
    if (typeof alg !== 'string' || alg === '') throw invalidProof('The DPoP proof is invalid.');
    const jwk = checkedJwk(jwt.header.jwk, alg);
    const jkt = jwkThumbprint(jwk);
    let key: JwsVerifyKey;
    try {
      key = jwsVerifyKey(jwk as Record<string, unknown>, alg);
    } catch (cause) {
      throw invalidProof('The DPoP proof is invalid.', cause);
    }
    checked = { alg, jkt, key };
    checkedHeaders.set(jwt.header, checked);
  }
  return checked;
}

/** Verifies the proof, or returns undefined when the request carries none (the caller decides if it must). */
export async function verifyDpopProof(input: DpopProofInput, settings: DpopSettings): Promise<DpopProof | undefined> {
  const values = input.proof === undefined ? [] : typeof input.proof === 'string' ? [input.proof] : input.proof;
  if (values.length === 0) return undefined;
  if (values.length > 1) throw invalidProof('More than one DPoP header.');
  const proof = values[0]!.trim();
  if (proof.length > MAX_PROOF_LENGTH) throw invalidProof('The DPoP proof is not a compact JWS.');

  let jwt: ParsedJwt;
  try {
    jwt = parseJwt(proof);
  } catch (cause) {
    // parseJwt checks the compact form itself: the form is looked at again only to say what failed.
    throw invalidProof(COMPACT_JWS.test(proof) ? 'The DPoP proof is invalid.' : 'The DPoP proof is not a compact JWS.', cause);
  }
  // In jose's order: the alg allowed, the key (from the header), the signature, then the claims.
  if (typeof jwt.header.alg !== 'string' || !settings.algorithms.includes(jwt.header.alg)) throw invalidProof('The DPoP proof is invalid.');
  const { alg, jkt, key } = proofHeader(jwt);
  if (!key.verify(jwt.signingInput, jwt.signature)) throw invalidProof('The DPoP proof is invalid.', new Error('signature verification failed'));
  try {
    // typ compared as jose does: case-insensitively, and application/dpop+jwt accepted.
    checkJwtClaims(jwt, { typ: 'dpop+jwt', required: ['jti', 'htm', 'htu', 'iat'], nowMs: settings.now() });
  } catch (cause) {
    throw invalidProof('The DPoP proof is invalid.', cause);
  }
  const { jti, htm, htu, iat, ath, nonce } = jwt.claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw invalidProof('The DPoP proof jti is invalid.');
  if (htm !== input.method) throw invalidProof('The DPoP proof htm does not match the request method.');
  if (typeof htu !== 'string' || !sameResource(htu, input.url)) throw invalidProof('The DPoP proof htu does not match the request URL.');

  let freshNonce: string | undefined;
  if (settings.nonces) {
    const verdict = typeof nonce === 'string' ? settings.nonces.check(nonce) : 'invalid';
    if (verdict === 'invalid') throw new UseDpopNonceError(settings.nonces.current());
    if (verdict === 'stale') freshNonce = settings.nonces.current();
  }

  const nowSec = settings.now() / 1000;
  const tolerance = settings.clockToleranceSeconds;
  if (typeof iat !== 'number' || iat > nowSec + tolerance || iat < nowSec - settings.proofMaxAgeSeconds - tolerance) {
    throw invalidProof('The DPoP proof iat is outside the accepted window.');
  }
  if (input.accessToken !== undefined && ath !== accessTokenHash(input.accessToken)) {
    throw invalidProof('The DPoP proof ath does not match the access token.');
  }

  const lastAcceptedMs = (iat + settings.proofMaxAgeSeconds + tolerance + 1) * 1000;
  const replayKey = `dpop:${hash('sha256', `${jkt}\0${jti}`, 'base64url')}`;
  if (!(await settings.replay.claim(replayKey, lastAcceptedMs))) throw invalidProof('The DPoP proof was already used.');
  return { jkt, alg, freshNonce };
}

/** `ath`: base64url(SHA-256(ASCII access token)) (RFC 9449 §4.2). */
export const accessTokenHash = (accessToken: string): string => createHash('sha256').update(accessToken, 'ascii').digest('base64url');

/** RFC 9449 §4.3 item 7 and RFC 8725 §3.1: a public key of the family the `alg` belongs to. */
function checkedJwk(value: unknown, alg: string | undefined): JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidProof('The DPoP proof header has no jwk.');
  const jwk = value as JWK;
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw invalidProof('The DPoP proof jwk holds private key material.');
  const family = alg === undefined ? undefined : KEY_TYPES[alg.slice(0, 2)];
  if (family === undefined || jwk.kty !== family) throw invalidProof('The DPoP proof jwk does not fit its alg.');
  if (jwk.kty === 'RSA' && (typeof jwk.n !== 'string' || Buffer.from(jwk.n, 'base64url').length * 8 < 2048)) {
    throw invalidProof('The DPoP proof RSA key is shorter than 2048 bits.');
  }
  return jwk;
}

/**
 * `htu` against the request URL: scheme and host compared case-insensitively, default ports
 * dropped, dot segments resolved (RFC 3986 §6.2.2, §6.2.3, as WHATWG URL parsing does); query and
 * fragment ignored (RFC 9449 §4.3 item 9).
 */
export function sameResource(htu: string, requestUrl: string): boolean {
  // The usual case, a proof naming the URL exactly as the server does: no parsing twice per request.
  if (htu === requestUrl && htu === lastPlainUrl) return true;
  const a = URL.parse(htu);
  const b = URL.parse(requestUrl);
  if (!a || !b || (a.protocol !== 'https:' && a.protocol !== 'http:')) return false;
  const same = a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname && a.username === '' && a.password === '';
  if (same && htu === requestUrl) lastPlainUrl = htu;
  return same;
}

/** The last URL found to name itself (http or https, no user info): a proof with that exact `htu` matches it. */
let lastPlainUrl: string | undefined;

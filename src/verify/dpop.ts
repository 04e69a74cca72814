/**
 * DPoP at the resource server (RFC 9449 §7): the proof that comes with a DPoP-bound access token.
 *
 * Checked: one `DPoP` header; `typ` `dpop+jwt`; `alg` from `algorithms`; a public `jwk` of the
 * alg's family; the signature; `jti`, `htm`, `htu`, `iat` and `ath` present; `htm` = the method;
 * `htu` = the request URL (scheme, host, port and path after WHATWG URL normalisation; query and
 * fragment ignored); `iat` no older than `proofMaxAgeSeconds` and not ahead beyond the tolerance;
 * `ath` = base64url(SHA-256(token)); the nonce, when a nonce source is given; the key's RFC 7638
 * thumbprint = the token's `cnf.jkt`; last, the `jti` once per key through the replay cache.
 *
 * This does NOT check: that the URL given is the one the client used (behind a proxy give the
 * middleware `origin`); proofs across several resource servers sharing keys (give them one replay
 * cache); and the default replay cache holds one process's proofs only.
 */
import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose/jwt/verify';
import { importJWK } from 'jose/key/import';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { VerifyError } from './errors.ts';

/** A server-chosen nonce the proofs must carry (RFC 9449 §9). */
export interface DpopNonceSource {
  /** The nonce to hand out in `DPoP-Nonce` now. */
  current(): string | Promise<string>;
  /** Whether a proof's nonce is (still) accepted. */
  isValid(nonce: string): boolean | Promise<boolean>;
}

/** Remembers proof `jti`s (per key) while the proof could pass; true for the first claim only. */
export interface DpopReplayCache {
  claim(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

export interface DpopOptions {
  /** Proof `alg`s accepted, sent as `algs` in challenges (default: every asymmetric one). */
  readonly algorithms?: readonly string[];
  /** Refuse Bearer tokens altogether: only DPoP-bound ones pass (default false). */
  readonly required?: boolean;
  /** How old a proof may be, seconds (default 60; the verifier's `clockTolerance` is added). */
  readonly proofMaxAgeSeconds?: number;
  readonly nonce?: DpopNonceSource;
  /** Default: an in-memory cache of at most `replayCacheSize` entries. */
  readonly replay?: DpopReplayCache;
  /** Entries of the default replay cache (default 100 000); past that the oldest go first. */
  readonly replayCacheSize?: number;
}

/** The request a proof must match. */
export interface DpopRequest {
  readonly method: string;
  /** Absolute URL of the request as the client addressed it. */
  readonly url: string;
  /** Every `DPoP` header value, or the one value. */
  readonly dpop: string | readonly string[] | undefined;
}

export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;

const FAMILY: Readonly<Record<string, string>> = { ES: 'EC', Ed: 'OKP', PS: 'RSA', RS: 'RSA' };
/** RFC 7638 §3.2 members per key type, sorted: what the thumbprint hashes. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
const KEYS_KEPT = 10_000;
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const proofError = (message: string, cause?: unknown) => new VerifyError('invalid_dpop_proof', message, { scheme: 'DPoP', cause });

/** A bounded in-memory replay cache: insertion order is close to expiry order, so purging is cheap. */
export function memoryDpopReplayCache(maxEntries = 100_000, now: () => number = Date.now): DpopReplayCache {
  const seen = new Map<string, number>();
  return {
    claim(key, expiresAtMs) {
      const t = now();
      for (const [first, until] of seen) {
        if (until > t && seen.size < maxEntries) break;
        seen.delete(first);
      }
      if ((seen.get(key) ?? 0) > t) return false;
      seen.set(key, expiresAtMs);
      return true;
    },
  };
}

export interface DpopChecker {
  readonly algorithms: readonly string[];
  /** Checks the proof for `token` bound to `jkt`; resolves when it passes, or throws a `VerifyError`. */
  check(request: DpopRequest, token: string, jkt: string): Promise<void>;
}

export function createDpopChecker(options: DpopOptions, clockTolerance: number, now: () => number): DpopChecker {
  const algorithms = [...(options.algorithms ?? DPOP_ALGORITHMS)];
  for (const alg of algorithms) {
    if (!(DPOP_ALGORITHMS as readonly string[]).includes(alg)) throw new TypeError(`createVerifier: DPoP algorithm ${alg} is not allowed`);
  }
  const maxAge = options.proofMaxAgeSeconds ?? 60;
  const replay = options.replay ?? memoryDpopReplayCache(options.replayCacheSize, now);
  // A client signs its proofs with one key: each key is imported once (by alg and thumbprint).
  const keys = new Map<string, Promise<CryptoKey>>();

  function thumbprintOf(jwk: JWK): string {
    const members = REQUIRED[jwk.kty!]!;
    const fields = jwk as Record<string, unknown>;
    if (members.some((m) => typeof fields[m] !== 'string')) throw proofError('The DPoP proof jwk is incomplete.');
    return createHash('sha256').update(`{${members.map((m) => `"${m}":${JSON.stringify(fields[m])}`).join(',')}}`).digest('base64url');
  }

  function keyOf(header: { jwk?: unknown; alg?: string }, found: { jkt: string }) {
    const jwk = header.jwk as JWK | undefined;
    if (typeof jwk !== 'object' || jwk === null || SECRET_MEMBERS.some((m) => m in jwk)) throw proofError('The DPoP proof jwk is not a public key.');
    if (jwk.kty !== FAMILY[header.alg?.slice(0, 2) ?? '']) throw proofError('The DPoP proof jwk does not fit its alg.');
    found.jkt = thumbprintOf(jwk);
    const id = `${header.alg}:${found.jkt}`;
    let key = keys.get(id);
    if (!key) {
      key = importJWK(jwk, header.alg) as Promise<CryptoKey>;
      key.catch(() => keys.delete(id));
      if (keys.size >= KEYS_KEPT) keys.delete(keys.keys().next().value!);
      keys.set(id, key);
    }
    return key;
  }

  return {
    algorithms,
    async check(request, token, jkt) {
      const values = request.dpop === undefined ? [] : typeof request.dpop === 'string' ? [request.dpop] : request.dpop;
      if (values.length !== 1) throw proofError(values.length === 0 ? 'A DPoP-bound token needs a DPoP proof.' : 'More than one DPoP header.');
      let payload: JWTPayload;
      const found = { jkt: '' };
      try {
        const verified = await jwtVerify(values[0]!.trim(), (header) => keyOf(header, found), {
          typ: 'dpop+jwt',
          algorithms,
          requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
          currentDate: new Date(now()),
        });
        payload = verified.payload;
      } catch (error) {
        throw error instanceof VerifyError ? error : proofError('The DPoP proof is invalid.', error);
      }
      const { jti, htm, htu, iat, ath, nonce } = payload;
      if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw proofError('The DPoP proof jti is invalid.');
      if (htm !== request.method) throw proofError('The DPoP proof htm does not match the request method.');
      if (typeof htu !== 'string' || !sameTarget(htu, request.url)) throw proofError('The DPoP proof htu does not match the request URL.');
      const t = now() / 1000;
      if (typeof iat !== 'number' || iat > t + clockTolerance || iat < t - maxAge - clockTolerance) {
        throw proofError('The DPoP proof iat is outside the accepted window.');
      }
      if (ath !== createHash('sha256').update(token, 'ascii').digest('base64url')) throw proofError('The DPoP proof ath does not match the access token.');
      if (options.nonce && (typeof nonce !== 'string' || !(await options.nonce.isValid(nonce)))) {
        throw new VerifyError('use_dpop_nonce', 'The resource server requires a nonce in the DPoP proof.', {
          scheme: 'DPoP',
          nonce: await options.nonce.current(),
        });
      }
      const thumbprint = found.jkt;
      if (thumbprint !== jkt) throw new VerifyError('invalid_token', 'The access token is bound to another key.', { scheme: 'DPoP' });
      const key = `${thumbprint}:${createHash('sha256').update(jti).digest('base64url')}`;
      if (!(await replay.claim(key, (iat + maxAge + clockTolerance + 1) * 1000))) throw proofError('The DPoP proof was already used.');
    },
  };
}

/** RFC 9449 §4.3 item 9, with the normalisations of RFC 3986 §6.2.2 and §6.2.3 that URL parsing does. */
export function sameTarget(htu: string, requestUrl: string): boolean {
  const a = URL.parse(htu);
  const b = URL.parse(requestUrl);
  if (!a || !b || !/^https?:$/.test(a.protocol) || a.username !== '' || a.password !== '') return false;
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}

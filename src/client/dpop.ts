/**
 * DPoP proofs made by a client (RFC 9449 §4): one key pair per prover (generated, P-256, unless
 * given), a fresh `jti` per proof, `htu` without query and fragment, `ath` when an access token goes
 * with the request, and the last nonce each server (origin) sent in `DPoP-Nonce` (§8, §9).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { signingKey, signJws, thumbprint, type PrivateKeyInput, type SigningAlgorithm } from './jws.ts';

export interface DpopProverOptions {
  /** The private key proofs are signed with (default: a new P-256 key, kept in memory only). */
  readonly privateKey?: PrivateKeyInput;
  /** Default: the key's natural algorithm (ES256 for P-256). */
  readonly algorithm?: SigningAlgorithm;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export interface DpopProver {
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` of the tokens bound to it. */
  readonly jkt: string;
  /** A proof for one request; the nonce remembered for the URL's origin is included. */
  proof(method: string, url: string | URL, accessToken?: string): string;
  /** Keeps the `DPoP-Nonce` a server sent, for the next proofs to its origin. */
  rememberNonce(url: string | URL, nonce: string): void;
  nonceFor(url: string | URL): string | undefined;
}

/** RFC 9449 §8.1: `DPoP-Nonce` is 1*NQCHAR. */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function createDpopProver(options: DpopProverOptions = {}): DpopProver {
  const key = signingKey(options.privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, options.algorithm);
  const now = options.now ?? Date.now;
  const nonces = new Map<string, string>();
  const jkt = thumbprint(key.publicJwk);
  const nonceFor = (url: string | URL) => nonces.get(new URL(url).origin);
  return {
    jkt,
    nonceFor,
    rememberNonce(url, nonce) {
      if (NONCE.test(nonce)) nonces.set(new URL(url).origin, nonce);
    },
    proof(method, url, accessToken) {
      const target = new URL(url);
      const nonce = nonces.get(target.origin);
      const payload: Record<string, unknown> = {
        jti: randomBytes(16).toString('base64url'),
        htm: method.toUpperCase(),
        htu: `${target.origin}${target.pathname}`,
        iat: Math.floor(now() / 1000),
      };
      if (nonce !== undefined) payload.nonce = nonce;
      if (accessToken !== undefined) payload.ath = createHash('sha256').update(accessToken, 'ascii').digest('base64url');
      return signJws(key, { typ: 'dpop+jwt', jwk: key.publicJwk }, payload);
    },
  };
}

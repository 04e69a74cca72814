/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9): each token request carries
 * a new assertion with `iss` = `sub` = the client id, `aud` = the authorization server's issuer
 * identifier, a short `exp`, a unique `jti`, signed with the client's private key.
 */
import { randomBytes } from 'node:crypto';
import { signingKey, signJws, type PrivateKeyInput, type SigningAlgorithm } from './jws.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface PrivateKeyJwtOptions {
  readonly privateKey: PrivateKeyInput;
  /** The `kid` of the matching public key in the client's registered JWKS. */
  readonly keyId?: string;
  /** Default: the key's natural algorithm (ES256 for P-256, RS256 for RSA, EdDSA for Ed25519). */
  readonly algorithm?: SigningAlgorithm;
  /** `aud`: the authorization server's issuer identifier, e.g. `https://auth.example.com`. */
  readonly audience: string;
  /** Assertion lifetime, seconds (default 60). */
  readonly lifetimeSeconds?: number;
}

export function assertionSigner(clientId: string, options: PrivateKeyJwtOptions, now: () => number): () => string {
  const key = signingKey(options.privateKey, options.algorithm);
  const lifetime = options.lifetimeSeconds ?? 60;
  if (!(lifetime > 0 && lifetime <= 300)) throw new TypeError('privateKeyJwt: lifetimeSeconds in (0, 300]');
  new URL(options.audience); // throws early on a bad audience
  const header = options.keyId === undefined ? { typ: 'JWT' } : { typ: 'JWT', kid: options.keyId };
  return () => {
    const iat = Math.floor(now() / 1000);
    const claims = { iss: clientId, sub: clientId, aud: options.audience, jti: randomBytes(16).toString('base64url'), iat, exp: iat + lifetime };
    return signJws(key, header, claims);
  };
}

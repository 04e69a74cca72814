/**
 * Verifies JWTs this server signed against its current JWKS (through jose, as every verification in
 * the project). `localJwtVerifier`: its access tokens; checks the signature with a published key,
 * `typ` at+jwt, `iss`, `exp` (at `now`, no leeway). Does NOT check `aud`, scope or revocation: that
 * is the caller's business. `ownSignatureVerifier`: any JWT it signed (an ID token given back as
 * `id_token_hint`), signature only, expired or not; the caller checks the claims.
 */
import { createLocalJWKSet } from 'jose/jwks/local';
import { compactVerify } from 'jose/jws/compact/verify';
import { jwtVerify } from 'jose/jwt/verify';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { SIGNING_ALGS, type Keyring } from './keyring.ts';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** What the keyring may sign with (SIGNING_ALGS): a JWK's own `alg` then decides per key. */
const ALGORITHMS: string[] = [...SIGNING_ALGS];

/** The published keys as jose reads them, rebuilt only when the JWKS changes (a rotation). */
function publishedKeys(keyring: Pick<Keyring, 'jwksJson'>) {
  let source = '';
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  return () => {
    const current = keyring.jwksJson();
    if (current !== source || !keys) {
      keys = createLocalJWKSet(JSON.parse(current) as JSONWebKeySet);
      source = current;
    }
    return keys;
  };
}

export function localJwtVerifier(keyring: Pick<Keyring, 'jwksJson'>, issuer: string) {
  const keys = publishedKeys(keyring);
  return async (token: string, now: number): Promise<JWTPayload | undefined> => {
    if (token.length > 8192 || !JWT_SHAPE.test(token)) return undefined;
    try {
      const { payload } = await jwtVerify(token, keys(), {
        issuer,
        typ: 'at+jwt',
        algorithms: ALGORITHMS,
        currentDate: new Date(now),
        clockTolerance: 0,
      });
      return payload;
    } catch {
      return undefined;
    }
  };
}

export type LocalJwtVerifier = ReturnType<typeof localJwtVerifier>;

/**
 * The header and claims of a JWT whose signature verifies with a key this server publishes, whatever
 * its `exp` (OIDC RP-Initiated Logout §2 accepts an expired ID token as a hint); undefined for
 * anything else: malformed, another issuer's key, a forged or altered token, a key no longer published.
 */
export function ownSignatureVerifier(keyring: Pick<Keyring, 'jwksJson'>) {
  const keys = publishedKeys(keyring);
  return async (token: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> } | undefined> => {
    if (token.length > 8192 || !JWT_SHAPE.test(token)) return undefined;
    try {
      const { payload, protectedHeader } = await compactVerify(token, keys(), { algorithms: ALGORITHMS });
      const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
      return { header: protectedHeader as Record<string, unknown>, claims: claims as Record<string, unknown> };
    } catch {
      return undefined;
    }
  };
}

export type OwnSignatureVerifier = ReturnType<typeof ownSignatureVerifier>;

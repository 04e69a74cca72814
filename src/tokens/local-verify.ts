/**
 * Verifies this server's own JWT access tokens against its current JWKS (through jose, as every
 * verification in the project). Checks: signature with a published key, `typ` at+jwt, `iss`, `exp`
 * (at `now`, no leeway). Does NOT check `aud`, scope or revocation: that is the caller's business.
 */
import { createLocalJWKSet } from 'jose/jwks/local';
import { jwtVerify } from 'jose/jwt/verify';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { SIGNING_ALGS, type Keyring } from './keyring.ts';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function localJwtVerifier(keyring: Pick<Keyring, 'jwksJson'>, issuer: string) {
  let source = '';
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  return async (token: string, now: number): Promise<JWTPayload | undefined> => {
    if (token.length > 8192 || !JWT_SHAPE.test(token)) return undefined;
    const current = keyring.jwksJson();
    if (current !== source || !keys) {
      keys = createLocalJWKSet(JSON.parse(current) as JSONWebKeySet);
      source = current;
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
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

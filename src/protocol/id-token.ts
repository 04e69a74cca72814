/**
 * OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6), signed with the client's
 * `id_token_signed_response_alg` (OIDC Dynamic Client Registration §2; RS256 unless it registered
 * another that the keyring keeps). `at_hash` is the left half of the hash of the access token,
 * base64url, the hash being the one of the JWS alg: SHA-256 for RS256, PS256 and ES256, SHA-512 for EdDSA
 * with Ed25519 (OIDC Core errata set 2; oauth4webapi's `idTokenHash` computes the same).
 */
import { createHash } from 'node:crypto';
import type { SigningAlg } from '../config/types.ts';
import { signJwt } from '../tokens/jwt.ts';
import type { Keyring } from '../tokens/keyring.ts';

export interface IdTokenInput {
  readonly issuer: string;
  readonly subject: string;
  readonly clientId: string;
  /** Epoch seconds. */
  readonly iat: number;
  readonly exp: number;
  readonly authTime: number | undefined;
  readonly nonce: string | undefined;
  /** The session the user authenticated in (OIDC Front-/Back-Channel Logout `sid`), stable for that session. */
  readonly sid?: string | undefined;
  readonly accessToken: string;
  /** `user` | `organization`, carried as `sub_type` (Polar's claim) when known. */
  readonly subjectType: string | undefined;
}

/** The hash `at_hash` takes half of, per JWS alg (OIDC Core §3.1.3.6). */
const AT_HASH: Record<SigningAlg, string> = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', EdDSA: 'sha512' };

export function atHash(accessToken: string, alg: SigningAlg = 'RS256'): string {
  const digest = createHash(AT_HASH[alg]).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export function mintIdToken(keyring: Pick<Keyring, 'signer'>, input: IdTokenInput, alg: SigningAlg = 'RS256'): string {
  return signJwt(keyring.signer(alg), 'JWT', {
    iss: input.issuer,
    sub: input.subject,
    aud: input.clientId,
    exp: input.exp,
    iat: input.iat,
    ...(input.authTime === undefined ? {} : { auth_time: input.authTime }),
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
    ...(input.sid === undefined ? {} : { sid: input.sid }),
    at_hash: atHash(input.accessToken, alg),
    ...(input.subjectType === undefined ? {} : { sub_type: input.subjectType }),
  });
}

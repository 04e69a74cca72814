/**
 * OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6), always RS256 (the algorithm every relying
 * party must support). `at_hash` is the left half of SHA-256 of the access token, base64url.
 */
import { createHash } from 'node:crypto';
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
  readonly accessToken: string;
  /** `user` | `organization`, carried as `sub_type` (Polar's claim) when known. */
  readonly subjectType: string | undefined;
}

export const atHash = (accessToken: string): string =>
  createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');

export function mintIdToken(keyring: Pick<Keyring, 'signer'>, input: IdTokenInput): string {
  return signJwt(keyring.signer('RS256'), 'JWT', {
    iss: input.issuer,
    sub: input.subject,
    aud: input.clientId,
    exp: input.exp,
    iat: input.iat,
    ...(input.authTime === undefined ? {} : { auth_time: input.authTime }),
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
    at_hash: atHash(input.accessToken),
    ...(input.subjectType === undefined ? {} : { sub_type: input.subjectType }),
  });
}

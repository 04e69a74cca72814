/**
 * Helpers for the sender-constraint suites: clients registered for `private_key_jwt`, and
 * assertions and DPoP proofs made by hand (jose) for the requests no library would send.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { CreateClientInput } from '../../src/credentials/client-inputs.ts';
import type { KeymintCore } from '../../src/service.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
  readonly alg: string;
}

export async function keyPair(alg: string, kid?: string): Promise<KeyPair> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), ...(kid === undefined ? {} : { kid }) };
  return { ...pair, jwk, alg };
}

/** A confidential client that authenticates with `private_key_jwt` against `keys` (inline) or `jwksUri`. */
export async function privateKeyJwtClient(
  keymint: Pick<KeymintCore, 'clients'>,
  source: { keys: readonly KeyPair[] } | { jwksUri: string },
  input: Partial<CreateClientInput> = {},
): Promise<string> {
  const keys = 'keys' in source ? { jwks: { keys: source.keys.map((k) => k.jwk) } } : { jwksUri: source.jwksUri };
  const { client, clientSecret } = await keymint.clients.create({ name: 'private_key_jwt client', authMethod: 'private_key_jwt', ...keys, ...input }, 'test');
  if (clientSecret !== null) throw new Error('a private_key_jwt client got a secret');
  return client.client_id;
}

export interface AssertionClaims {
  readonly clientId: string;
  readonly aud: string | string[];
  readonly jti?: string;
  /** Seconds from now. */
  readonly expiresIn?: number;
  readonly iss?: string;
  readonly sub?: string;
}

export async function assertion(key: KeyPair, claims: AssertionClaims, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: claims.jti ?? randomBytes(12).toString('base64url') })
    .setProtectedHeader({ alg: key.alg, ...(key.jwk.kid === undefined ? {} : { kid: key.jwk.kid }), ...header })
    .setIssuer(claims.iss ?? claims.clientId)
    .setSubject(claims.sub ?? claims.clientId)
    .setAudience(claims.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 60))
    .sign(key.privateKey);
}

export interface ProofClaims {
  readonly htu: string;
  readonly htm?: string;
  readonly nonce?: string;
  readonly ath?: string;
  readonly jti?: string;
  /** Seconds from now (negative: in the past). */
  readonly iatOffset?: number;
}

export async function dpopProof(key: KeyPair, claims: ProofClaims): Promise<string> {
  const { kid: _kid, ...jwk } = key.jwk;
  return new SignJWT({
    jti: claims.jti ?? randomBytes(12).toString('base64url'),
    htm: claims.htm ?? 'POST',
    htu: claims.htu,
    ...(claims.nonce === undefined ? {} : { nonce: claims.nonce }),
    ...(claims.ath === undefined ? {} : { ath: claims.ath }),
  })
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk })
    .setIssuedAt(Math.floor(Date.now() / 1000) + (claims.iatOffset ?? 0))
    .sign(key.privateKey);
}

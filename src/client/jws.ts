/**
 * Compact JWS signing with node:crypto alone (keymint/client has no dependency): the DPoP proofs
 * and `private_key_jwt` assertions a client makes. The algorithm follows the key unless given:
 * P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA, RSA → RS256 (or PS256).
 */
import { constants, createHash, createPrivateKey, createPublicKey, KeyObject, sign, webcrypto, type JsonWebKey } from 'node:crypto';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'PS256';

/** A private key: a KeyObject, a WebCrypto CryptoKey, a PEM (PKCS#8, SEC1 or PKCS#1) or a private JWK. */
export type PrivateKeyInput = KeyObject | webcrypto.CryptoKey | string | JsonWebKey;

export interface SigningKey {
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  /** The public half as a JWK (`kty` and its required members only). */
  readonly publicJwk: Readonly<Record<string, string>>;
}

const CURVE_ALG: Readonly<Record<string, SigningAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };

const isCryptoKey = (v: webcrypto.CryptoKey | JsonWebKey): v is webcrypto.CryptoKey => 'usages' in v && typeof v.algorithm === 'object';

export function signingKey(input: PrivateKeyInput, alg?: SigningAlgorithm): SigningKey {
  const privateKey =
    input instanceof KeyObject
      ? input
      : typeof input === 'string'
        ? createPrivateKey(input)
        : isCryptoKey(input)
          ? KeyObject.from(input)
          : createPrivateKey({ key: input, format: 'jwk' });
  if (privateKey.type !== 'private') throw new TypeError('keymint/client: a private key is needed');
  const type = privateKey.asymmetricKeyType;
  const natural =
    type === 'ec' ? CURVE_ALG[privateKey.asymmetricKeyDetails?.namedCurve ?? ''] : type === 'ed25519' ? 'EdDSA' : type === 'rsa' ? 'RS256' : undefined;
  if (natural === undefined) throw new TypeError('keymint/client: keys are EC P-256/384/521, Ed25519 or RSA');
  const chosen = alg ?? natural;
  const fits = chosen === natural || (type === 'rsa' && chosen === 'PS256');
  if (!fits) throw new TypeError(`keymint/client: ${chosen} does not fit this key`);
  if (type === 'rsa' && (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new TypeError('keymint/client: RSA keys of at least 2048 bits');
  const full = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  const publicJwk = Object.fromEntries(THUMBPRINT_MEMBERS[full.kty!]!.map((m) => [m, full[m]!]));
  return { alg: chosen, privateKey, publicJwk };
}

/** RFC 7638 SHA-256 thumbprint of a public JWK. */
export function thumbprint(publicJwk: Readonly<Record<string, string>>): string {
  const members = THUMBPRINT_MEMBERS[publicJwk.kty!]!;
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(publicJwk[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signJws(key: SigningKey, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64({ alg: key.alg, ...header })}.${b64(payload)}`;
  const data = Buffer.from(input);
  const hash = key.alg === 'EdDSA' ? null : `sha${key.alg.slice(2)}`;
  const signature =
    key.alg.startsWith('ES')
      ? sign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : key.alg === 'PS256'
        ? sign(hash, data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign(hash, data, key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

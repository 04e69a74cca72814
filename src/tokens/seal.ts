/**
 * Encryption at rest for private key material: AES-256-GCM under the key-encryption key (KEK).
 * Sealed form: `<version>.<iv b64url>.<ciphertext+tag b64url>` with a 12-byte IV and a 16-byte tag.
 * The caller's additional data binds a blob to its record (the keyring passes the kid, use and
 * alg), so a sealed blob cannot be moved onto another record.
 *
 * `v2` is written; `v1` (same layout) is still read: the keyring gave it other additional data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SEAL_VERSION = 'v2';
const READABLE = new Set(['v1', SEAL_VERSION]);
const IV_BYTES = 12;
/** NIST SP 800-38D §5.2.1.2: shorter tags weaken the authentication; only the full tag is accepted. */
const TAG_BYTES = 16;

export function seal(kek: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${SEAL_VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The version tag of a sealed blob (`v1`, `v2`), or undefined when it is not one. */
export const sealVersion = (sealed: string): string | undefined => {
  const version = sealed.slice(0, sealed.indexOf('.'));
  return READABLE.has(version) ? version : undefined;
};

export function unseal(kek: Buffer, sealed: string, aad: string): Buffer {
  const [version, ivText, bodyText, extra] = sealed.split('.');
  const iv = Buffer.from(ivText ?? '', 'base64url');
  const body = Buffer.from(bodyText ?? '', 'base64url');
  if (!READABLE.has(version ?? '') || extra !== undefined || iv.length !== IV_BYTES || body.length < TAG_BYTES) {
    throw new Error('sealed key material has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
}

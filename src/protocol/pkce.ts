/** PKCE — RFC 7636, S256 only (RFC 9700 §2.1.1; SECURITY P-*, BCP-01..04). */
import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../wire/errors.ts';

/** code-verifier = 43*128unreserved (§4.1). */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** BASE64URL(SHA-256) of anything: exactly 43 base64url characters (§4.2). */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isCodeChallenge = (value: string): boolean => CHALLENGE.test(value);

export const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/**
 * Checks a verifier against the stored S256 challenge. Out-of-grammar → invalid_request (P-01);
 * missing → invalid_grant (P-05); mismatch → invalid_grant, compared in constant time (P-04); a
 * verifier for a code issued without a challenge → invalid_grant (BCP-03).
 */
export function verifyPkce(challenge: string | null, verifier: string | undefined): void {
  if (verifier !== undefined && !VERIFIER.test(verifier)) {
    throw new OAuthError('invalid_request', 'The code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].', { field: 'code_verifier', reason: 'malformed' });
  }
  if (challenge === null) {
    if (verifier !== undefined) throw new OAuthError('invalid_grant', 'The code was issued without a code_challenge.', { field: 'code_verifier' });
    return;
  }
  if (verifier === undefined) throw new OAuthError('invalid_grant', 'The code_verifier is required.', { field: 'code_verifier' });
  const expected = Buffer.from(challenge);
  const actual = Buffer.from(s256(verifier));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge.', { field: 'code_verifier' });
  }
}

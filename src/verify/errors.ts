/**
 * The one error type of `keymint/verify`. Callers switch on `code`, which is stable across releases;
 * `message` is for humans and may change. Nothing in an error repeats the token.
 */

export const VERIFY_ERROR_CODES = [
  /** No bearer token in the request (RFC 6750 §3.1: answer without an error code). */
  'missing_token',
  /** The Authorization header is not `Bearer <b64token>`, or it appears more than once. */
  'malformed_header',
  /** More than one way of sending the token was used (header and query, two headers). */
  'multiple_methods',
  /** The token came in the URI query (`access_token=`), which is refused (RFC 6750 §2.3, SECURITY B-03). */
  'token_in_query',
  /** Bad signature, wrong `typ`/`alg`/`iss`/`aud`, unknown key, not yet valid, inactive, wrong mode/env. */
  'invalid_token',
  /** `exp` has passed (beyond `clockTolerance`). */
  'expired',
  /** The token was revoked (revocation feed or a `{revocations}` source). */
  'revoked',
  /** The token is valid but lacks at least one required scope; `scopes` lists the missing ones. */
  'insufficient_scope',
  /** The issuer's metadata or JWKS could not be fetched, so no signature could be checked. */
  'jwks_unavailable',
  /** The introspection endpoint could not be reached or refused our credentials. */
  'introspection_unavailable',
  /** The DPoP proof is missing, malformed, for another request, stale or replayed (RFC 9449 §7.1). */
  'invalid_dpop_proof',
  /** The proof lacks the nonce this resource server requires; `nonce` holds the one to use (RFC 9449 §9). */
  'use_dpop_nonce',
] as const;

export type VerifyErrorCode = (typeof VERIFY_ERROR_CODES)[number];

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  /** For `insufficient_scope`: the required scopes the token does not carry. */
  readonly scopes: readonly string[];
  /** The authentication scheme the refusal speaks of: `DPoP` for a DPoP request or a DPoP-bound token. */
  readonly scheme: 'Bearer' | 'DPoP';
  /** For `use_dpop_nonce`: the value of the `DPoP-Nonce` answer header. */
  readonly nonce: string | undefined;

  constructor(
    code: VerifyErrorCode,
    message: string,
    options: { scopes?: readonly string[]; scheme?: 'Bearer' | 'DPoP'; nonce?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerifyError';
    this.code = code;
    this.scopes = options.scopes ?? [];
    this.scheme = options.scheme ?? 'Bearer';
    this.nonce = options.nonce;
  }
}

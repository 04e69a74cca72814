/**
 * `keymint/verify`: bearer-token verification for resource servers, with RFC 6750 middleware.
 * Stands alone on `jose` and Node built-ins (Node >= 22).
 */
export { VerifyError, VERIFY_ERROR_CODES, type VerifyErrorCode } from './errors.ts';
export {
  createVerifier,
  SAFE_ALGORITHMS,
  type AccessTokenClaims,
  type Verifier,
  type VerifierOptions,
  type VerifyAlgorithm,
  type VerifyCallOptions,
} from './verifier.ts';
export type { IntrospectionOptions } from './introspection.ts';
export { OPAQUE_FORMATS, type OpaqueFormat } from './opaque-formats.ts';
export { pollRevocations, type PollRevocationsOptions, type RevocationPoller, type RevocationSource } from './revocations.ts';
export { tokenFromRequest, type BearerSource } from './bearer.ts';
export { challenge, type Challenge, type ChallengeOptions } from './challenge.ts';
export { protectNode, expressBearer, fastifyBearer, fetchBearer, honoBearer, type ProtectOptions } from './middleware.ts';

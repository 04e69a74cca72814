/**
 * `keymint/verify`: access-token verification for resource servers (Bearer and DPoP), with RFC 6750
 * / RFC 9449 middleware and RFC 9728 metadata. Stands alone on `jose` and Node built-ins (Node >= 22).
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
export { credentialsFromRequest, tokenFromRequest, type BearerSource, type Presented } from './bearer.ts';
export {
  DPOP_ALGORITHMS,
  memoryDpopReplayCache,
  type DpopNonceSource,
  type DpopOptions,
  type DpopReplayCache,
  type DpopRequest,
} from './dpop.ts';
export { resourceMetadata, type ResourceMetadata, type ResourceMetadataOptions } from './resource-metadata.ts';
export { challenge, type Challenge, type ChallengeOptions } from './challenge.ts';
export { protectNode, expressBearer, fastifyBearer, fetchBearer, honoBearer, corsHeaders, type ProtectOptions } from './middleware.ts';
export type { CorsOptions } from './cors.ts';

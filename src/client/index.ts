/**
 * `keymint/client`: a cached, single-flight access-token source for API callers, speaking every
 * Keymint dialect (with `private_key_jwt` and DPoP on the standard one), and a fetch wrapper that
 * uses it. Stands alone on Node built-ins (Node >= 22).
 */
export { createTokenSource, type Authorization, type TokenSource, type TokenSourceOptions } from './token-source.ts';
export { createDpopProver, type DpopProver, type DpopProverOptions } from './dpop.ts';
export { JWT_BEARER_ASSERTION_TYPE, type PrivateKeyJwtOptions } from './client-assertion.ts';
export type { PrivateKeyInput, SigningAlgorithm } from './jws.ts';
export { authorizedFetch, type AuthorizedFetchOptions } from './authorized-fetch.ts';
export { DIALECTS, basicAuth, type DialectName, type Grant } from './dialects.ts';
export { TokenSourceError, TOKEN_SOURCE_ERROR_CODES, type TokenSourceErrorCode } from './errors.ts';

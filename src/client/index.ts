/**
 * `keymint/client`: a cached, single-flight access-token source for API callers, speaking every
 * Keymint dialect, and a fetch wrapper that uses it. Stands alone on Node built-ins (Node >= 22).
 */
export { createTokenSource, type TokenSource, type TokenSourceOptions } from './token-source.ts';
export { authorizedFetch, type AuthorizedFetchOptions } from './authorized-fetch.ts';
export { DIALECTS, basicAuth, type DialectName, type Grant } from './dialects.ts';
export { TokenSourceError, TOKEN_SOURCE_ERROR_CODES, type TokenSourceErrorCode } from './errors.ts';

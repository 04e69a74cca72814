/**
 * The one error type of `keymint/client`. `code` is stable; `status` and `providerCode` say what the
 * token endpoint answered (the provider's own error code, e.g. `invalid_client`, `Unauthorized`,
 * `missing_client_id`, `invalid_client` from Fuuffy's `code_reason`). Secrets never appear in it.
 */

export const TOKEN_SOURCE_ERROR_CODES = [
  /** The endpoint refused the credentials (401, or an `invalid_client`-style answer). */
  'invalid_client',
  /** The refresh token or session was refused (`invalid_grant`). */
  'invalid_grant',
  /** Any other 4xx: the request itself is wrong for this endpoint. */
  'token_request_failed',
  /** 429 after the retries, or a `Retry-After` longer than `maxDelayMs`; `retryAfterMs` says when to try again. */
  'rate_limited',
  /** 5xx after the retries. */
  'unavailable',
  /** The endpoint could not be reached (DNS, connection, timeout) after the retries. */
  'network_error',
  /** A 200 whose body does not have the dialect's shape. */
  'invalid_response',
] as const;

export type TokenSourceErrorCode = (typeof TOKEN_SOURCE_ERROR_CODES)[number];

export class TokenSourceError extends Error {
  readonly code: TokenSourceErrorCode;
  readonly status: number | undefined;
  readonly providerCode: string | undefined;
  /** For `rate_limited` / `unavailable`: how long the endpoint asked us to wait, ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: TokenSourceErrorCode,
    message: string,
    options: { status?: number; providerCode?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenSourceError';
    this.code = code;
    this.status = options.status;
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The one error type of the token service. Every failure below the dialects is an `OAuthError`;
 * a dialect maps it outward in exactly one place (its `encodeError`). RFC 6749 §5.2.
 */

/** Canonical codes (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 6750 §3.1, RFC 9449 §12.2) plus the service's own. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  // RFC 9101 §7: a request object that fails its checks, and a request_uri by reference (not a PAR URN).
  invalid_request_object: 400,
  request_uri_not_supported: 400,
  // RFC 8628 §3.5: the device authorization grant's answers while the user has not approved.
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  access_denied: 403,
  invalid_token: 401,
  insufficient_scope: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  rate_limited: 429,
  server_error: 500,
  temporarily_unavailable: 503,
} as const;

export type OAuthErrorCode = keyof typeof ERROR_STATUS;

/**
 * Why a request failed, finer than the code, for dialects whose catalogues distinguish more
 * (Orum's per-field codes, Polygon's `cause`). Never holds request input.
 */
export type ErrorReason =
  | 'missing' // a required parameter is absent
  | 'not_string' // a JSON parameter has the wrong type
  | 'malformed' // a parameter fails its grammar
  | 'duplicate' // a parameter appears more than once
  | 'content_type' // the body's media type is not accepted
  | 'body' // the body cannot be parsed
  | 'credentials' // unknown client or wrong secret (one reason: they must look identical)
  | 'disabled' // the client authenticated but is disabled
  | 'environment' // the client belongs to another deployment environment
  | 'revoked'
  | 'method'
  | 'rate_limited'
  | 'overloaded';

export interface OAuthErrorOptions {
  /** Overrides the code's default status (e.g. `invalid_client` without Basic may be 400). */
  status?: number;
  /** The request parameter at fault, if one is (a name, never a value). */
  field?: string;
  reason?: ErrorReason;
  /** Seconds, for 429 and 503. */
  retryAfter?: number;
  /** Limit state for 429s, for dialects that document rate-limit headers. */
  rateLimit?: RateLimitState;
  /** Private cause, logged, never sent. */
  cause?: unknown;
}

export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly resetAt: number;
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;
  /** Fixed public text: never built from request input (SECURITY R-05). */
  readonly description: string;
  readonly field: string | undefined;
  readonly reason: ErrorReason | undefined;
  readonly retryAfter: number | undefined;
  readonly rateLimit: RateLimitState | undefined;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.description = description;
    this.field = options.field;
    this.reason = options.reason;
    this.retryAfter = options.retryAfter;
    this.rateLimit = options.rateLimit;
  }
}

/** Anything thrown becomes an OAuthError; unknown errors leave as a generic `server_error`. */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof UnavailableError) {
    return new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable.', {
      retryAfter: 1,
      reason: 'overloaded',
      cause: err,
    });
  }
  return new OAuthError('server_error', 'An internal error occurred.', { cause: err });
}

/**
 * What was unavailable, for an operator's message (the CLI names the fix by it): PostgreSQL, Redis,
 * the SQLite write lock another process held past the busy timeout, or SQLite's flush to disk.
 */
export type Unavailable = 'postgres' | 'redis' | 'sqlite-lock' | 'sqlite-disk';

/** Storage and dependency failures that mean "try again", not "bug". */
export class UnavailableError extends Error {
  readonly what: Unavailable | undefined;

  constructor(message: string, options?: { cause?: unknown; what?: Unavailable }) {
    super(message, options);
    this.name = 'UnavailableError';
    this.what = options?.what;
  }
}

export const invalidClient = (options: OAuthErrorOptions = {}): OAuthError =>
  new OAuthError('invalid_client', 'Client authentication failed.', { reason: 'credentials', ...options });

/** Response headers every dialect's error answer shares (RFC 6749 §5.1, SECURITY R-03, D-02). */
import type { OAuthError } from '../../wire/errors.ts';
import { NO_STORE } from '../../wire/http.ts';

/** Seconds a client should wait after a 429 or 503 (1 when the error does not say). */
export const retryAfter = (err: OAuthError): number => Math.max(1, Math.ceil(err.retryAfter ?? 1));

/** `Cache-Control: no-store`, `Pragma: no-cache`, and `Retry-After` on every 429 and 503. */
export function errorHeaders(err: OAuthError, status: number): Record<string, string> {
  const headers: Record<string, string> = { ...NO_STORE };
  if (status === 429 || status === 503) headers['Retry-After'] = String(retryAfter(err));
  return headers;
}

/** The `X-RateLimit-*` triple, when the limiter said what the limit state is. */
export function rateLimitHeaders(err: OAuthError): Record<string, string> {
  const rl = err.rateLimit;
  if (rl === undefined) return {};
  return {
    'X-RateLimit-Limit': String(rl.limit),
    'X-RateLimit-Remaining': String(Math.max(0, rl.remaining)),
    'X-RateLimit-Reset': String(Math.ceil(rl.resetAt)),
  };
}

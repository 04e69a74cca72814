/**
 * How long a 429 or 503 asks the caller to wait, and the bounded exponential backoff used when it
 * does not say. Providers say it differently: `Retry-After` (RFC 9110 §10.2.3: seconds or an
 * HTTP-date), Orum's `X-Retry-In` (ms), Fuuffy's `X-RateLimit-Reset` (a unix time, seconds).
 */

/** The wait asked for, ms, or undefined when the answer does not say. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ra = headers.get('retry-after')?.trim();
  if (ra) {
    if (/^\d+$/.test(ra)) return Number(ra) * 1000;
    const at = Date.parse(ra);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const retryIn = headers.get('x-retry-in')?.trim();
  if (retryIn && /^\d+$/.test(retryIn)) return Number(retryIn);
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return undefined;
}

export interface BackoffOptions {
  /** First delay, ms (default 500). */
  readonly baseDelayMs: number;
  /** Longest single wait, ms (default 30 000); a longer Retry-After ends the attempts instead. */
  readonly maxDelayMs: number;
}

/** Delay before retry `attempt` (0-based): base·2^attempt capped, with "equal jitter" (½ to 1×). */
export function backoffMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

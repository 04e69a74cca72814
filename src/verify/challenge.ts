/**
 * The RFC 6750 §3 answer to a refused request, framework-neutral: status, headers, body.
 *
 *   no token                        401  WWW-Authenticate: Bearer realm="…"            (no error code)
 *   malformed / two methods / query 400  … error="invalid_request", error_description="…"
 *   invalid, expired, revoked       401  … error="invalid_token", error_description="…"
 *   missing scope                   403  … error="insufficient_scope", error_description="…", scope="…"
 *   keys or introspection down      503  Retry-After, no challenge: the token was not judged
 */
import { VerifyError } from './errors.ts';

export interface ChallengeOptions {
  /** `realm` of the challenge (default `api`); quoted-string without `"` or `\`. */
  readonly realm?: string;
  /** Seconds in `Retry-After` of a 503 (default 5). */
  readonly retryAfter?: number;
}

export interface Challenge {
  readonly status: 400 | 401 | 403 | 503;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text, or '' for the 401 without an error code. */
  readonly body: string;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  malformed_header: 'The Authorization header is malformed',
  multiple_methods: 'The token was sent by more than one method',
  token_in_query: 'Tokens in the URI query are not accepted',
  invalid_token: 'The access token is invalid',
  expired: 'The access token expired',
  revoked: 'The access token was revoked',
  insufficient_scope: 'The access token lacks a required scope',
};

/** Checks a realm once, at setup: it goes into a quoted-string verbatim. */
export function checkRealm(realm: string): string {
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(realm)) throw new TypeError('realm: only printable ASCII without " or \\');
  return realm;
}

export function challenge(error: unknown, options: ChallengeOptions = {}): Challenge {
  const realm = checkRealm(options.realm ?? 'api');
  const code = error instanceof VerifyError ? error.code : 'invalid_token';
  const json = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (code === 'missing_token') {
    return { status: 401, headers: { 'WWW-Authenticate': `Bearer realm="${realm}"`, 'Cache-Control': 'no-store' }, body: '' };
  }
  if (code === 'jwks_unavailable' || code === 'introspection_unavailable') {
    const body = { error: 'temporarily_unavailable', error_description: 'The token could not be checked now' };
    return { status: 503, headers: { ...json, 'Retry-After': String(options.retryAfter ?? 5) }, body: JSON.stringify(body) };
  }
  const [status, oauthCode] =
    code === 'malformed_header' || code === 'multiple_methods' || code === 'token_in_query'
      ? ([400, 'invalid_request'] as const)
      : code === 'insufficient_scope'
        ? ([403, 'insufficient_scope'] as const)
        : ([401, 'invalid_token'] as const);
  const description = DESCRIPTIONS[code] ?? DESCRIPTIONS.invalid_token!;
  let header = `Bearer realm="${realm}", error="${oauthCode}", error_description="${description}"`;
  const body: Record<string, string> = { error: oauthCode, error_description: description };
  if (code === 'insufficient_scope') {
    // RFC 6750 §3: scope-tokens contain no `"` or `\` (RFC 6749 §3.3), so they quote as they are.
    const scope = (error as VerifyError).scopes.join(' ');
    header += `, scope="${scope}"`;
    body.scope = scope;
  }
  return { status, headers: { ...json, 'WWW-Authenticate': header }, body: JSON.stringify(body) };
}

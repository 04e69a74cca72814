/**
 * The RFC 6750 §3 answer to a refused request, framework-neutral: status, headers, body.
 *
 *   no token                        401  WWW-Authenticate: Bearer realm="…"            (no error code)
 *   malformed / two methods / query 400  … error="invalid_request", error_description="…"
 *   invalid, expired, revoked       401  … error="invalid_token", error_description="…"
 *   missing scope                   403  … error="insufficient_scope", error_description="…", scope="…"
 *   keys or introspection down      503  Retry-After, no challenge: the token was not judged
 *
 * With DPoP on (RFC 9449 §7.1), a refusal of a DPoP request or a DPoP-bound token is a `DPoP`
 * challenge with `algs="…"`: `invalid_dpop_proof` 401, `use_dpop_nonce` 401 plus `DPoP-Nonce`
 * (§9), the others as above; a request without a token is challenged with both schemes (only DPoP
 * when it is required). With `resourceMetadata` every challenge names it (RFC 9728 §5.1).
 */
import { VerifyError } from './errors.ts';

export interface ChallengeOptions {
  /** `realm` of the challenge (default `api`); quoted-string without `"` or `\`. */
  readonly realm?: string;
  /** Seconds in `Retry-After` of a 503 (default 5). */
  readonly retryAfter?: number;
  /** DPoP is on: the proof algorithms, sent as `algs` in DPoP challenges. */
  readonly dpopAlgorithms?: readonly string[];
  /** Only DPoP-bound tokens are accepted: a missing token gets the DPoP challenge alone. */
  readonly dpopRequired?: boolean;
  /** URL of this resource's RFC 9728 metadata, sent as `resource_metadata` in every challenge. */
  readonly resourceMetadata?: string;
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
  invalid_dpop_proof: 'The DPoP proof is invalid',
  use_dpop_nonce: 'The resource server requires a nonce in the DPoP proof',
};

const OWN_CODES = new Set(['insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce']);

/** Checks a realm (or another quoted parameter) once, at setup: it goes into a quoted-string verbatim. */
export function checkRealm(realm: string, name = 'realm'): string {
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(realm)) throw new TypeError(`${name}: only printable ASCII without " or \\`);
  return realm;
}

export function challenge(error: unknown, options: ChallengeOptions = {}): Challenge {
  const realm = checkRealm(options.realm ?? 'api');
  const metadata = options.resourceMetadata === undefined ? '' : `, resource_metadata="${checkRealm(options.resourceMetadata, 'resourceMetadata')}"`;
  const algs = options.dpopAlgorithms ? `, algs="${options.dpopAlgorithms.join(' ')}"` : '';
  const code = error instanceof VerifyError ? error.code : 'invalid_token';
  const json = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (code === 'missing_token') {
    const bearer = `Bearer realm="${realm}"${metadata}`;
    const dpop = `DPoP realm="${realm}"${algs}${metadata}`;
    const header = !options.dpopAlgorithms ? bearer : options.dpopRequired ? dpop : `${bearer}, ${dpop}`;
    return { status: 401, headers: { 'WWW-Authenticate': header, 'Cache-Control': 'no-store' }, body: '' };
  }
  if (code === 'jwks_unavailable' || code === 'introspection_unavailable') {
    const body = { error: 'temporarily_unavailable', error_description: 'The token could not be checked now' };
    return { status: 503, headers: { ...json, 'Retry-After': String(options.retryAfter ?? 5) }, body: JSON.stringify(body) };
  }
  const [status, oauthCode] =
    code === 'malformed_header' || code === 'multiple_methods' || code === 'token_in_query'
      ? ([400, 'invalid_request'] as const)
      : code === 'insufficient_scope'
        ? ([403, code] as const)
        : OWN_CODES.has(code)
          ? ([401, code] as const)
          : ([401, 'invalid_token'] as const);
  const description = DESCRIPTIONS[code] ?? DESCRIPTIONS.invalid_token!;
  const scheme = error instanceof VerifyError && error.scheme === 'DPoP' && options.dpopAlgorithms ? 'DPoP' : 'Bearer';
  let header = `${scheme} realm="${realm}", error="${oauthCode}", error_description="${description}"`;
  const body: Record<string, string> = { error: oauthCode, error_description: description };
  if (code === 'insufficient_scope') {
    // RFC 6750 §3: scope-tokens contain no `"` or `\` (RFC 6749 §3.3), so they quote as they are.
    const scope = (error as VerifyError).scopes.join(' ');
    header += `, scope="${scope}"`;
    body.scope = scope;
  }
  if (scheme === 'DPoP') header += algs;
  header += metadata;
  const headers: Record<string, string> = { ...json, 'WWW-Authenticate': header };
  if (code === 'use_dpop_nonce' && (error as VerifyError).nonce !== undefined) headers['DPoP-Nonce'] = (error as VerifyError).nonce!;
  return { status, headers, body: JSON.stringify(body) };
}

/**
 * Body reading for dialects that accept an explicit set of media types, and the typed reading of
 * the fields they require. Failures are `invalid_request` with a reason and (for known fields) the
 * field's name, which each dialect maps to its own catalogue; never the field's value.
 */
import { OAuthError } from '../../wire/errors.ts';
import type { HttpRequest } from '../../wire/http.ts';
import type { TokenRequest } from '../../protocol/token-request.ts';
import { mediaType, parseForm, parseJsonObject, rejectQueryCredentials, type Params } from './params.ts';

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

export type BodyKind = typeof FORM | typeof JSON_TYPE;

/**
 * The body as a parameter bag, if its Content-Type is one of `accept` (UTF-8 only). A missing or
 * other Content-Type is `invalid_request` (reason `content_type`) even when the body is empty.
 */
export function readBody(req: HttpRequest, accept: readonly BodyKind[]): { params: Params; kind: BodyKind } {
  const media = mediaType(req);
  const kind = accept.find((k) => k === media?.type);
  if (media === undefined || kind === undefined) {
    throw new OAuthError('invalid_request', 'The Content-Type of the request is not accepted.', { reason: 'content_type' });
  }
  if (media.charset !== undefined && media.charset !== 'utf-8') {
    throw new OAuthError('invalid_request', 'The request body must be UTF-8.', { reason: 'content_type' });
  }
  return { params: kind === FORM ? parseForm(req.body) : parseJsonObject(req.body), kind };
}

/**
 * The value of a required string field. Absent or empty (RFC 6749 §3.2: empty ≡
 * omitted) → reason `missing`; any non-string JSON value (number, null, object) → `not_string`.
 */
export function requiredString(params: Params, field: string): string {
  const value = optionalString(params, field);
  if (value === undefined) {
    throw new OAuthError('invalid_request', `The ${field} parameter is required.`, { field, reason: 'missing' });
  }
  return value;
}

/** The value of an optional string field; undefined when absent or empty, `not_string` otherwise. */
export function optionalString(params: Params, field: string): string | undefined {
  if (!(field in params)) return undefined;
  const value = params[field];
  if (typeof value !== 'string') {
    throw new OAuthError('invalid_request', `The ${field} parameter must be a string.`, { field, reason: 'not_string' });
  }
  return value === '' ? undefined : value;
}

/** An optional `grant_type` that, when present, must name the dialect's one grant. */
export function impliedGrant(params: Params, grant: string): string {
  const value = optionalString(params, 'grant_type');
  if (value !== undefined && value !== grant) {
    throw new OAuthError('invalid_request', `The grant_type parameter must be ${grant}.`, { field: 'grant_type', reason: 'malformed' });
  }
  return grant;
}

/**
 * The client_credentials request of a dialect whose clients send `client_id` and `client_secret` in
 * the body, with an optional `grant_type` that must then be client_credentials (Orum, Fuuffy).
 */
export function bodyCredentialsRequest(req: HttpRequest, accept: readonly BodyKind[]): TokenRequest {
  const { params } = readBody(req, accept);
  rejectQueryCredentials(req, params);
  const clientId = requiredString(params, 'client_id');
  const clientSecret = requiredString(params, 'client_secret');
  return {
    grantType: impliedGrant(params, 'client_credentials'),
    params: {},
    client: { method: 'client_secret_post', clientId, clientSecret },
  };
}

/** The error's field if it is one of the dialect's own names (a duplicate of any key would echo input). */
export const knownField = (err: OAuthError, names: readonly string[]): string | undefined =>
  err.field !== undefined && names.includes(err.field) ? err.field : undefined;

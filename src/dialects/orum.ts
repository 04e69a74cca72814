/**
 * `orum` — Orum: `POST /oauth/token`, JSON or form `{client_id, client_secret}`,
 * `grant_type` optional (when present, `client_credentials`). 200 `{access_token, token_type:
 * "Bearer", expires_in}`; errors `{error_code, message, details}` with the per-field codes of the
 * seed's `x-orum-error-missing` / `x-orum-error-invalid` (docs/dialects/).
 */
import type { OAuthError } from '../wire/errors.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { bodyCredentialsRequest, FORM, JSON_TYPE, knownField } from './codec/body.ts';
import { errorHeaders, retryAfter } from './codec/response.ts';

type Entry = readonly [status: number, errorCode: string, message: string];

const BAD_BODY: Entry = [400, 'invalid_request', 'request body is not valid JSON or form data'];

/** Per-field codes: `missing_<field>` when absent, `invalid_<field>` when of the wrong type or value. */
const FIELD_ERRORS: Readonly<Record<string, { missing: Entry; invalid: Entry }>> = {
  client_id: {
    missing: [400, 'missing_client_id', 'client_id is required'],
    invalid: [400, 'invalid_client_id', 'client_id must be a string'],
  },
  client_secret: {
    missing: [400, 'missing_client_secret', 'client_secret is required'],
    invalid: [400, 'invalid_client_secret', 'client_secret must be a string'],
  },
  grant_type: {
    missing: [400, 'invalid_grant_type', 'grant_type must be client_credentials'],
    invalid: [400, 'invalid_grant_type', 'grant_type must be client_credentials'],
  },
};

const BY_STATUS: Readonly<Record<number, Entry>> = {
  400: [400, 'invalid_request', 'request is invalid'],
  401: [401, 'unauthorized', 'invalid client credentials'],
  403: [403, 'forbidden', 'client is not allowed to use this endpoint'],
  404: [404, 'not_found', 'Not Found'],
  405: [405, 'method_not_allowed', 'Method Not Allowed'],
  413: [413, 'payload_too_large', 'Payload Too Large'],
  429: [429, 'too_many_requests', 'Too Many Requests'],
  500: [500, 'internal_server_error', 'Internal Server Error'],
  503: [503, 'service_unavailable', 'Service Unavailable'],
};

const DISABLED: Entry = [403, 'forbidden', 'client is disabled'];

function entryOf(err: OAuthError): Entry {
  if (err.code === 'invalid_request') {
    const field = knownField(err, Object.keys(FIELD_ERRORS));
    if (field !== undefined && err.reason !== 'duplicate') return FIELD_ERRORS[field]![err.reason === 'missing' ? 'missing' : 'invalid'];
    return err.reason === 'content_type' || err.reason === 'body' || err.reason === 'duplicate' ? BAD_BODY : BY_STATUS[400]!;
  }
  if (err.code === 'invalid_client') return err.reason === 'disabled' ? DISABLED : BY_STATUS[401]!;
  if (err.code === 'unauthorized_client' || err.code === 'access_denied') return BY_STATUS[403]!;
  return BY_STATUS[err.status] ?? (err.status >= 500 ? BY_STATUS[500]! : BY_STATUS[400]!);
}

const stringField = { type: 'string', minLength: 1 } as const;
const body = {
  type: 'object',
  required: ['client_id', 'client_secret'],
  properties: {
    client_id: { ...stringField, description: 'ID returned when generating API credentials.' },
    client_secret: { ...stringField, description: 'Secret returned when generating API credentials.' },
    grant_type: { type: 'string', enum: ['client_credentials'], description: 'Optional.' },
  },
} as const;

export const orum = {
  name: 'orum',
  defaultPath: '/oauth/token',
  grants: ['client_credentials'],
  accessToken: { format: 'jwt' },
  // Credentials in the body only (its contract has no Basic), no client assertions, no DPoP.
  authMethods: ['client_secret_post'],
  dpop: false,
  contract: {
    title: 'Orum: request an access token',
    summary: 'Client credentials as JSON or form data; a bearer token valid for one hour.',
    requestBodies: { [JSON_TYPE]: body, [FORM]: body },
    success: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in'],
      additionalProperties: false,
      properties: {
        access_token: stringField,
        token_type: { type: 'string', enum: ['Bearer'] },
        expires_in: { type: 'integer', minimum: 1 },
      },
    },
    error: {
      type: 'object',
      required: ['error_code', 'message', 'details'],
      additionalProperties: false,
      properties: {
        error_code: { type: 'string', pattern: '^[a-z_]+$' },
        message: stringField,
        details: { type: ['object', 'null'] },
      },
    },
    errorStatuses: {
      400: 'missing_client_id, invalid_client_id, missing_client_secret, invalid_client_secret, invalid_grant_type, invalid_request',
      401: 'unauthorized: invalid client credentials',
      403: 'forbidden: client disabled or not allowed here',
      405: 'method_not_allowed',
      429: 'too_many_requests (X-Retry-In in ms, Retry-After in s)',
      500: 'internal_server_error',
      503: 'service_unavailable',
    },
    rateLimitHeaders: ['X-Retry-In'],
    basicAuth: false,
  },

  decode(req: HttpRequest): TokenRequest {
    return bodyCredentialsRequest(req, [JSON_TYPE, FORM]);
  },

  encodeResult(r: TokenResult): HttpResponse {
    return json(200, { access_token: r.accessToken, token_type: 'Bearer', expires_in: r.expiresIn }, NO_STORE);
  },

  encodeError(err: OAuthError): HttpResponse {
    const [status, errorCode, message] = entryOf(err);
    const headers = errorHeaders(err, status);
    if (status === 429) headers['X-Retry-In'] = String(Math.ceil((err.retryAfter ?? retryAfter(err)) * 1000));
    return json(status, { error_code: errorCode, message, details: null }, headers);
  },
} satisfies Dialect;

/**
 * `fuuffy` — Fuuffy: `POST /v1/auth/token`, form `client_id`, `client_secret`
 * (`grant_type=client_credentials` tolerated). 200 `{"data": {access_token, token_type, expires_in}}`
 * with an opaque `sk-` + 32 hex token, stored only as a digest (tokens/formats.ts) and so
 * introspectable and revocable. Errors `{"error": {code, code_reason, message, error_trace?}}`,
 * `error_trace` (field → problem) on 400 only (docs/dialects/).
 */
import type { OAuthError } from '../wire/errors.ts';
import type { OpaqueShape } from '../protocol/issue.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { bodyCredentialsRequest, FORM, knownField } from './codec/body.ts';
import { errorHeaders, rateLimitHeaders } from './codec/response.ts';

/** Fuuffy's documented token shape: `sk-` + 32 lowercase hex characters (128 bits, no checksum). */
export const fuuffyShape = { kind: 'hex', prefix: 'sk-', bytes: 16 } as const satisfies OpaqueShape;

type Row = readonly [code: string, codeReason: string, message: string];

const CATALOGUE: Readonly<Record<number, Row>> = {
  400: ['400013', 'invalid_request', 'Missing or invalid parameters'],
  401: ['401021', 'invalid_client', 'Invalid client_id, client_secret, or session_key'],
  403: ['403001', 'forbidden', 'Access forbidden for this resource'],
  404: ['404001', 'not_found', 'Resource or endpoint not found'],
  405: ['405001', 'method_not_allowed', 'Method not allowed'],
  413: ['413001', 'payload_too_large', 'Request body too large'],
  429: ['429001', 'rate_limit_exceeded', 'Too many requests'],
  500: ['500999', 'API_ERROR', 'Api Error, please contact customer service'],
  503: ['503001', 'service_unavailable', 'Service temporarily unavailable'],
};

const FIELDS = ['client_id', 'client_secret', 'grant_type'];

function statusOf(err: OAuthError): number {
  if (err.code === 'invalid_client') return err.reason === 'disabled' ? 403 : 401;
  if (err.code === 'unauthorized_client' || err.code === 'access_denied') return 403;
  if (err.status in CATALOGUE) return err.status;
  return err.status >= 500 ? 500 : 400;
}

/** Field → what is wrong with it, for 400s; names only from the dialect's own fields. */
function errorTrace(err: OAuthError): Record<string, string> {
  if (err.reason === 'content_type') return { 'Content-Type': 'must be application/x-www-form-urlencoded' };
  const field = knownField(err, FIELDS);
  if (field === undefined) return { body: 'is not valid form data' };
  if (err.reason === 'missing') return { [field]: 'is required' };
  if (err.reason === 'duplicate') return { [field]: 'must be sent once' };
  if (field === 'grant_type') return { grant_type: 'must be client_credentials' };
  return { [field]: 'is invalid' };
}

export const fuuffy = {
  name: 'fuuffy',
  defaultPath: '/v1/auth/token',
  grants: ['client_credentials'],
  accessToken: { format: 'opaque', shapes: { default: fuuffyShape } },
  // Credentials in the body only (its contract has no Basic), no client assertions, no DPoP.
  authMethods: ['client_secret_post'],
  dpop: false,
  contract: {
    title: 'Fuuffy: OAuth authentication',
    summary: 'OAuth 2.0 client credentials; an opaque sk- token valid for one hour.',
    requestBodies: {
      [FORM]: {
        type: 'object',
        required: ['client_id', 'client_secret'],
        properties: {
          client_id: { type: 'string', minLength: 1, description: 'OAuth client identifier issued to your application.' },
          client_secret: { type: 'string', minLength: 1, description: 'OAuth client secret issued to your application.' },
          grant_type: { type: 'string', enum: ['client_credentials'], description: 'Optional.' },
        },
      },
    },
    success: {
      type: 'object',
      required: ['data'],
      additionalProperties: false,
      properties: {
        data: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in'],
          additionalProperties: false,
          properties: {
            access_token: { type: 'string', pattern: '^sk-[0-9a-f]{32}$' },
            token_type: { type: 'string', enum: ['Bearer'] },
            expires_in: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
    error: {
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: {
        error: {
          type: 'object',
          required: ['code', 'code_reason', 'message'],
          additionalProperties: false,
          properties: {
            code: { type: 'string', pattern: '^[0-9]{6}$' },
            code_reason: { type: 'string' },
            message: { type: 'string' },
            error_trace: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    },
    errorStatuses: {
      400: '400013 invalid_request (error_trace names the field)',
      401: '401021 invalid_client',
      403: '403001 forbidden: client disabled or not allowed here',
      405: '405001 method_not_allowed',
      429: '429001 rate_limit_exceeded',
      500: '500999 API_ERROR',
      503: '503001 service_unavailable',
    },
    requestHeaders: {
      'Content-Type': { required: true, description: 'Request body content type.', schema: { type: 'string', enum: [FORM] } },
    },
    rateLimitHeaders: ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    basicAuth: false,
  },

  decode(req: HttpRequest): TokenRequest {
    return bodyCredentialsRequest(req, [FORM]);
  },

  encodeResult(r: TokenResult): HttpResponse {
    return json(200, { data: { access_token: r.accessToken, token_type: 'Bearer', expires_in: r.expiresIn } }, NO_STORE);
  },

  encodeError(err: OAuthError): HttpResponse {
    const status = statusOf(err);
    const [code, codeReason, message] = CATALOGUE[status]!;
    const headers = { ...errorHeaders(err, status), ...(status === 429 ? rateLimitHeaders(err) : {}) };
    const trace = status === 400 ? { error_trace: errorTrace(err) } : {};
    return json(status, { error: { code, code_reason: codeReason, message, ...trace } }, headers);
  },
} satisfies Dialect;

/**
 * `polygon-oms` — Polygon OMS: `POST /v0.9/auth/token`, JSON `{apiKey, apiSecret}` only,
 * an RS256 JWT answered as `{accessToken, tokenType: "bearer", expiresIn, expiresAt}`, and the
 * webrpc error envelope `{error, code, msg, cause?, status}` with the OMSX catalogue (docs/dialects/).
 * `cause` names the failing part (a field, `signature`, `environment`, `revoked`), never input.
 */
import type { OAuthError } from '../wire/errors.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { JSON_TYPE, knownField, readBody, requiredString } from './codec/body.ts';
import { rejectQueryCredentials } from './codec/params.ts';
import { errorHeaders } from './codec/response.ts';

interface Row {
  readonly error: string;
  readonly code: number;
  readonly msg: string;
}

/** The OMSX catalogue by HTTP status (docs/dialects/), plus webrpc's own answers for route and method. */
const CATALOGUE: Readonly<Record<number, Row>> = {
  400: { error: 'InvalidArgument', code: 2001, msg: 'invalid argument' },
  401: { error: 'Unauthorized', code: 1000, msg: 'unauthorized access' },
  403: { error: 'PermissionDenied', code: 1001, msg: 'permission denied' },
  404: { error: 'WebrpcBadRoute', code: -2, msg: 'bad route' },
  405: { error: 'WebrpcBadMethod', code: -3, msg: 'bad method' },
  429: { error: 'RateLimited', code: 1007, msg: 'rate limited' },
  500: { error: 'InternalError', code: 5000, msg: 'internal error' },
  503: { error: 'Unavailable', code: 5003, msg: 'service unavailable' },
};

const FIELDS = ['apiKey', 'apiSecret'];

/** Canonical code → HTTP status at Polygon (a refused client is 403, every client failure 401). */
function statusOf(err: OAuthError): number {
  if (err.code === 'invalid_client') return 401;
  if (err.code === 'unauthorized_client' || err.code === 'access_denied' || err.code === 'insufficient_scope') return 403;
  if (err.status in CATALOGUE) return err.status;
  return err.status >= 500 ? 500 : 400;
}

/** The failing part, from a fixed vocabulary. Undefined for 5xx, 429, refusals and unknown routes. */
function causeOf(err: OAuthError, status: number): string | undefined {
  if (status >= 500 || status === 429 || status === 403 || status === 404) return undefined;
  switch (err.reason) {
    case 'credentials':
      return 'signature';
    case 'environment':
      return 'environment';
    case 'disabled':
    case 'revoked':
      return 'revoked';
    case 'method':
      return 'method';
    case 'content_type':
      return 'content-type';
  }
  if (err.code === 'invalid_client') return 'signature';
  return knownField(err, FIELDS) ?? 'body';
}

const errorSchema = {
  type: 'object',
  required: ['error', 'code', 'msg', 'status'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', enum: Object.values(CATALOGUE).map((r) => r.error) },
    code: { type: 'integer', enum: Object.values(CATALOGUE).map((r) => r.code) },
    msg: { type: 'string', enum: Object.values(CATALOGUE).map((r) => r.msg) },
    cause: { type: 'string', enum: ['apiKey', 'apiSecret', 'body', 'content-type', 'method', 'signature', 'environment', 'revoked'] },
    status: { type: 'integer', enum: Object.keys(CATALOGUE).map(Number) },
  },
} as const;

export const polygonOms = {
  name: 'polygon-oms',
  defaultPath: '/v0.9/auth/token',
  grants: ['client_credentials'],
  accessToken: { format: 'jwt', alg: 'RS256' },
  // apiKey and apiSecret in the JSON body: client_secret_post by another name. No assertions, no DPoP.
  authMethods: ['client_secret_post'],
  dpop: false,
  contract: {
    title: 'Polygon OMS: get bearer token',
    summary: 'Exchanges an OMS API key and secret for an RS256 bearer token.',
    requestBodies: {
      [JSON_TYPE]: {
        type: 'object',
        required: ['apiKey', 'apiSecret'],
        properties: {
          apiKey: { type: 'string', description: 'API key id; its prefix encodes mode and environment (sk_live_, sk_sdbx_, sk_<env>_live_, …).' },
          apiSecret: { type: 'string', description: 'The secret shown once at key creation.' },
        },
      },
    },
    success: {
      type: 'object',
      required: ['accessToken', 'tokenType', 'expiresIn', 'expiresAt'],
      additionalProperties: false,
      properties: {
        accessToken: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
        tokenType: { type: 'string', enum: ['bearer'] },
        expiresIn: { type: 'integer', minimum: 1 },
        expiresAt: { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' },
      },
    },
    error: errorSchema,
    errorStatuses: {
      400: 'InvalidArgument (2001): malformed body, not JSON, missing or non-string apiKey/apiSecret',
      401: 'Unauthorized (1000): invalid, revoked or other-environment credentials',
      403: 'PermissionDenied (1001): the key may not use this endpoint',
      405: 'WebrpcBadMethod (-3): method other than POST',
      429: 'RateLimited (1007)',
      500: 'InternalError (5000)',
      503: 'Unavailable (5003)',
    },
    basicAuth: false,
  },

  decode(req: HttpRequest): TokenRequest {
    const { params } = readBody(req, [JSON_TYPE]);
    rejectQueryCredentials(req, params);
    const clientId = requiredString(params, 'apiKey');
    const clientSecret = requiredString(params, 'apiSecret');
    return {
      grantType: 'client_credentials',
      params: {},
      client: { method: 'client_secret_post', clientId, clientSecret },
    };
  },

  encodeResult(r: TokenResult): HttpResponse {
    return json(
      200,
      {
        accessToken: r.accessToken,
        tokenType: 'bearer',
        expiresIn: r.expiresIn,
        // RFC 3339 UTC, whole seconds (the token's exp), as Go's time.Time marshals it.
        expiresAt: r.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      NO_STORE,
    );
  },

  encodeError(err: OAuthError): HttpResponse {
    const status = statusOf(err);
    const row = CATALOGUE[status]!;
    const cause = causeOf(err, status);
    const body = { error: row.error, code: row.code, msg: row.msg, ...(cause === undefined ? {} : { cause }), status };
    return json(status, body, errorHeaders(err, status));
  },
} satisfies Dialect;

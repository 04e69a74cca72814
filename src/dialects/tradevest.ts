/**
 * `tradevest` — Tradevest: `POST /oauth2/token` (its guide also calls `/connect/token`;
 * mount it there beside `oauth2` with `--dialect tradevest=/connect/token`). Form only, with a
 * required Content-Type; `grant_type=client_credentials` required, `scope` optional.
 * 200 `{access_token, expires_in, token_type: "Bearer"}`; errors `{error}` only. The seed documents
 * 400 with the RFC 6749 enum alone, so bad client credentials are 400 `invalid_client` here.
 */
import type { OAuthError } from '../wire/errors.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { FORM, optionalString, readBody } from './codec/body.ts';
import { rejectQueryCredentials } from './codec/params.ts';
import { errorHeaders } from './codec/response.ts';

/** The seed's 400 enum. */
const ENUM = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type'] as const;

/** Canonical codes outside the enum, mapped into it (400s) or to the documented extras. */
const MAPPED: Partial<Record<OAuthError['code'], readonly [number, string]>> = {
  invalid_scope: [400, 'invalid_request'],
  invalid_target: [400, 'invalid_request'],
  access_denied: [400, 'unauthorized_client'],
  rate_limited: [429, 'rate_limited'],
  server_error: [500, 'server_error'],
  temporarily_unavailable: [503, 'temporarily_unavailable'],
};

function entryOf(err: OAuthError): readonly [number, string] {
  if ((ENUM as readonly string[]).includes(err.code)) return [400, err.code];
  const mapped = MAPPED[err.code];
  if (mapped) return mapped;
  if (err.status === 429) return [429, 'rate_limited'];
  if (err.status === 503) return [503, 'temporarily_unavailable'];
  if (err.status >= 500) return [500, 'server_error'];
  return [err.status, 'invalid_request']; // 404, 405, 413: the status stands, the body stays in the enum
}

const stringField = { type: 'string', minLength: 1 } as const;

export const tradevest = {
  name: 'tradevest',
  defaultPath: '/oauth2/token',
  grants: ['client_credentials'],
  accessToken: { format: 'jwt' },
  // Credentials in the body only (its contract has no Basic), no client assertions, no DPoP.
  authMethods: ['client_secret_post'],
  dpop: false,
  contract: {
    title: 'Tradevest: get token',
    summary: 'OAuth 2.0 client credentials; the Content-Type header must be application/x-www-form-urlencoded.',
    requestBodies: {
      [FORM]: {
        type: 'object',
        required: ['client_id', 'client_secret', 'grant_type'],
        properties: {
          client_id: { ...stringField, description: 'Provided client_id for partner.' },
          client_secret: { ...stringField, description: 'Provided client secret for partner.' },
          grant_type: { type: 'string', enum: ['client_credentials'] },
          scope: { type: 'string', description: 'Optional, space-delimited.' },
        },
      },
    },
    success: {
      type: 'object',
      required: ['access_token', 'expires_in', 'token_type'],
      additionalProperties: false,
      properties: {
        access_token: stringField,
        expires_in: { type: 'integer', minimum: 1 },
        token_type: { type: 'string', enum: ['Bearer'] },
      },
    },
    error: {
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: { error: { type: 'string', enum: [...ENUM, 'rate_limited', 'temporarily_unavailable', 'server_error'] } },
    },
    errorStatuses: {
      400: 'invalid_request (incl. missing or other Content-Type), invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type',
      405: 'invalid_request: method other than POST',
      429: 'rate_limited',
      500: 'server_error',
      503: 'temporarily_unavailable',
    },
    requestHeaders: {
      'Content-Type': { required: true, description: "Must always be 'application/x-www-form-urlencoded'.", schema: { type: 'string', enum: [FORM] } },
    },
    basicAuth: false,
  },

  decode(req: HttpRequest): TokenRequest {
    const { params } = readBody(req, [FORM]);
    rejectQueryCredentials(req, params);
    const scope = optionalString(params, 'scope');
    const clientId = optionalString(params, 'client_id');
    const clientSecret = optionalString(params, 'client_secret');
    return {
      grantType: optionalString(params, 'grant_type'),
      params: scope === undefined ? {} : { scope },
      client: clientSecret === undefined ? { method: 'none', clientId } : { method: 'client_secret_post', clientId, clientSecret },
    };
  },

  encodeResult(r: TokenResult): HttpResponse {
    return json(200, { access_token: r.accessToken, expires_in: r.expiresIn, token_type: 'Bearer' }, NO_STORE);
  },

  encodeError(err: OAuthError): HttpResponse {
    const [status, error] = entryOf(err);
    return json(status, { error }, errorHeaders(err, status));
  },
} satisfies Dialect;

/**
 * `oauth2` — the standard dialect: RFC 6749 token endpoint (§3.2, §4.4, §5), client authentication
 * by `client_secret_basic` or `client_secret_post` (§2.3.1) or a JWT assertion (`private_key_jwt`,
 * RFC 7523 §2.2), DPoP proofs (RFC 9449), form bodies, and JSON as a documented extension. Errors
 * are `{error, error_description}` (§5.2).
 */
import { UseDpopNonceError } from '../protocol/dpop.ts';
import { OAuthError } from '../wire/errors.ts';
import { REPEATABLE_PARAMETERS, type TokenRequest, type TokenResult } from '../protocol/token-request.ts';
import { headerValues, json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { JWT_BEARER_ASSERTION_TYPE } from '../protocol/client-assertion.ts';
import { presentedClient } from './codec/client.ts';
import {
  mediaType,
  parseForm,
  parseJsonObject,
  rejectQueryCredentials,
  stringParams,
  takeList,
  type Params,
} from './codec/params.ts';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const REALM = 'keymint';

/** Wire `error` values for canonical codes with no RFC 6749 name of their own. */
const WIRE_CODE: Partial<Record<OAuthError['code'], string>> = {
  method_not_allowed: 'invalid_request',
  payload_too_large: 'invalid_request',
  rate_limited: 'temporarily_unavailable',
};

const stringProp = { type: 'string', minLength: 1 } as const;

export const oauth2 = {
  name: 'oauth2',
  defaultPath: '/oauth2/token',
  grants: 'all',
  endpoints: ['introspect', 'revoke', 'authorize', 'par', 'userinfo', 'revocations', 'device_authorization', 'end_session'],
  accessToken: { format: 'jwt' },
  authMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'],
  dpop: true,
  jwtResponseModes: true,
  jwtIntrospection: true,
  contract: {
    title: 'OAuth 2.0 token endpoint',
    summary: 'RFC 6749 token endpoint; form bodies, JSON accepted as an extension.',
    requestBodies: {
      [FORM]: {
        type: 'object',
        required: ['grant_type'],
        properties: {
          grant_type: { type: 'string' },
          scope: { type: 'string' },
          resource: { type: 'array', items: { type: 'string', format: 'uri' }, description: 'RFC 8707: one or more resources, the parameter repeated.' },
          audience: { type: 'array', items: { type: 'string' }, description: 'RFC 8693: one or more audiences, the parameter repeated.' },
          client_id: { type: 'string' },
          client_secret: { type: 'string' },
          client_assertion_type: { const: JWT_BEARER_ASSERTION_TYPE },
          client_assertion: { type: 'string' },
        },
      },
      [JSON_TYPE]: {
        type: 'object',
        required: ['grant_type'],
        properties: {
          grant_type: { type: 'string' },
          scope: { type: 'string' },
          resource: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
          audience: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
          client_id: { type: 'string' },
          client_secret: { type: 'string' },
          client_assertion_type: { const: JWT_BEARER_ASSERTION_TYPE },
          client_assertion: { type: 'string' },
        },
      },
    },
    success: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'scope'],
      additionalProperties: false,
      properties: {
        access_token: { ...stringProp, pattern: '^[A-Za-z0-9._~+/-]+=*$' },
        token_type: { enum: ['Bearer', 'DPoP'] },
        expires_in: { type: 'integer', minimum: 1 },
        scope: { type: 'string' },
        refresh_token: stringProp,
        id_token: stringProp,
        issued_token_type: stringProp,
      },
    },
    error: {
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: {
        error: { type: 'string', pattern: '^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$' },
        error_description: { type: 'string', pattern: '^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$' },
      },
    },
    errorStatuses: {
      400: 'Malformed request, unsupported or unauthorised grant, bad scope, bad DPoP proof or a DPoP nonce to use (`use_dpop_nonce`, with `DPoP-Nonce`); for the device_code grant also `authorization_pending`, `slow_down`, `access_denied` and `expired_token` (RFC 8628 §3.5)',
      401: 'Client authentication failed',
      405: 'Method other than POST',
      413: 'Body too large',
      429: 'Rate limited',
      500: 'Internal error',
      503: 'Overloaded or a dependency is down',
    },
    basicAuth: true,
    requestHeaders: {
      DPoP: { required: false, description: 'A DPoP proof (RFC 9449 §4): the access token is then bound to its key and `token_type` is `DPoP`.', schema: { type: 'string' } },
    },
  },

  decode(req: HttpRequest): TokenRequest {
    const params = readBody(req);
    rejectQueryCredentials(req, params);
    let lists: Record<string, string[]> | undefined;
    for (const name of REPEATABLE_PARAMETERS) {
      const values = takeList(params, name);
      if (values.length > 0) (lists ??= {})[name] = values;
    }
    const fields = stringParams(params);
    for (const name in params) {
      if (typeof params[name] !== 'string') {
        throw new OAuthError('invalid_request', 'Every request parameter must be a string.', { field: name, reason: 'not_string' });
      }
    }
    const dpop = headerValues(req, 'dpop');
    const certificate = req.clientCertificate;
    return {
      grantType: fields.grant_type,
      params: fields,
      ...(lists === undefined ? {} : { lists }),
      client: presentedClient(req, fields, { assertions: true, certificates: true }),
      ...(dpop === undefined || dpop.length === 0 ? {} : { dpop }),
      ...(certificate === undefined ? {} : { certificate }),
    };
  },

  encodeResult(r: TokenResult): HttpResponse {
    const body: Record<string, unknown> = { access_token: r.accessToken, token_type: r.tokenType, expires_in: r.expiresIn, scope: r.scope };
    if (r.refreshToken !== undefined) body.refresh_token = r.refreshToken;
    if (r.idToken !== undefined) body.id_token = r.idToken;
    if (r.issuedTokenType !== undefined) body.issued_token_type = r.issuedTokenType;
    return json(200, body, r.dpopNonce === undefined ? NO_STORE : { ...NO_STORE, 'DPoP-Nonce': r.dpopNonce });
  },

  encodeError(err: OAuthError, req: HttpRequest): HttpResponse {
    const headers: Record<string, string> = { ...NO_STORE };
    if (err.code === 'invalid_client' && req.headers.authorization !== undefined) {
      headers['WWW-Authenticate'] = `Basic realm="${REALM}"`; // RFC 6749 §5.2, SECURITY A-07
    }
    if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter);
    if (err instanceof UseDpopNonceError) headers['DPoP-Nonce'] = err.nonce; // RFC 9449 §8
    return json(err.status, { error: WIRE_CODE[err.code] ?? err.code, error_description: err.description }, headers);
  },
} satisfies Dialect;

function readBody(req: HttpRequest): Params {
  const media = mediaType(req);
  if (media === undefined) {
    if (req.body.length === 0) return Object.create(null) as Params;
    throw new OAuthError('invalid_request', 'The Content-Type header is required.', { reason: 'content_type' });
  }
  if (media.charset !== undefined && media.charset !== 'utf-8') {
    throw new OAuthError('invalid_request', 'The request body must be UTF-8.', { reason: 'content_type' });
  }
  if (media.type === FORM) return parseForm(req.body, REPEATABLE_PARAMETERS);
  if (media.type === JSON_TYPE) return parseJsonObject(req.body);
  throw new OAuthError('invalid_request', 'The Content-Type must be application/x-www-form-urlencoded.', { reason: 'content_type' });
}

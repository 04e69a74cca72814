/**
 * `polar` — Polar's OAuth 2.0 server (docs/user-grants.md). Paths under /v1/oauth2/; form bodies
 * only; grants authorization_code, refresh_token and `web` (client_credentials is not part of the
 * contract → unsupported_grant_type). A 200 carries all six TokenResponse fields: `refresh_token`
 * is null for `web`, `scope` is always a string, `id_token` is always an RS256 OIDC ID token.
 * Tokens are Polar-style prefixed, checksummed opaque tokens, by subject type: `polar_at_u_`,
 * `polar_at_o_`, `polar_rt_u_`, `polar_rt_o_` (stored as digests only). Introspection answers
 * Polar's IntrospectTokenResponse and revocation Polar's empty JSON object, as `@polar-sh/sdk`
 * validates them.
 */
import { OAuthError } from '../wire/errors.ts';
import type { OpaqueShape } from '../protocol/issue.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Dialect } from './types.ts';
import { presentedClient } from './codec/client.ts';
import { mediaType, parseForm, rejectQueryCredentials, stringParams } from './codec/params.ts';

const FORM = 'application/x-www-form-urlencoded';

/** Polar's token prefixes, by kind and subject type. */
export const polarShapes = {
  accessUser: { kind: 'checksummed', prefix: 'polar_at_u_' },
  accessOrganization: { kind: 'checksummed', prefix: 'polar_at_o_' },
  refreshUser: { kind: 'checksummed', prefix: 'polar_rt_u_' },
  refreshOrganization: { kind: 'checksummed', prefix: 'polar_rt_o_' },
} as const satisfies Record<string, OpaqueShape>;

const WIRE_CODE: Partial<Record<OAuthError['code'], string>> = {
  method_not_allowed: 'invalid_request',
  payload_too_large: 'invalid_request',
  rate_limited: 'temporarily_unavailable',
};

/**
 * Polar's IntrospectTokenResponse from the RFC 7662 answer: `token_type` is `access_token` or
 * `refresh_token`; `aud` stays the token's audience, which resource servers check (Polar puts its
 * client id there: a string either way, for the SDK); `organizations` lists the organization
 * an organization token acts for (a user token's is empty: Keymint knows a user's organizations only
 * in the session). An inactive token stays exactly `{"active":false}` (SECURITY I-04), as Polar
 * answers it; `cnf` (a DPoP-bound token) and `act` (an exchanged one) are kept when present, and so
 * are the client's static claims (every other member of the answer), which none of Polar's fields
 * can be shadowed by.
 */
export function polarIntrospection(answer: Readonly<Record<string, unknown>>): HttpResponse {
  if (answer.active !== true) return json(200, { active: false }, NO_STORE);
  const subType = answer.sub_type;
  const { active: _a, client_id: _c, token_type: _t, scope: _s, sub_type: _st, sub: _sub, aud: _aud, iss: _iss, exp: _exp, iat: _iat, jti: _jti, cnf: _cnf, act: _act, ...claims } = answer;
  return json(
    200,
    {
      ...claims,
      active: true,
      client_id: answer.client_id,
      token_type: answer.token_type === 'refresh_token' ? 'refresh_token' : 'access_token',
      scope: answer.scope,
      ...(subType === undefined ? {} : { sub_type: subType }),
      sub: answer.sub,
      organizations: subType === 'organization' ? [answer.sub] : [],
      aud: answer.aud,
      iss: answer.iss,
      exp: answer.exp,
      iat: answer.iat,
      ...(answer.cnf === undefined ? {} : { cnf: answer.cnf }),
      ...(answer.act === undefined ? {} : { act: answer.act }),
    },
    NO_STORE,
  );
}

const str = { type: 'string' } as const;
const client = { client_id: str, client_secret: str } as const;

export const polar = {
  name: 'polar',
  defaultPath: '/v1/oauth2/token',
  grants: ['authorization_code', 'refresh_token', 'web'],
  endpoints: ['introspect', 'revoke', 'authorize', 'userinfo'],
  accessToken: {
    format: 'opaque',
    shapes: { default: polarShapes.accessUser, user: polarShapes.accessUser, organization: polarShapes.accessOrganization },
  },
  refreshToken: { default: polarShapes.refreshUser, user: polarShapes.refreshUser, organization: polarShapes.refreshOrganization },
  idToken: 'always',
  // Polar's own: client_secret by Basic or in the body, or a public client's client_id alone (PKCE).
  // No client assertions and no DPoP: `decode` reads neither.
  authMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  dpop: false,
  contract: {
    title: 'Polar OAuth 2.0 token endpoint',
    summary: 'Request an access token using a valid grant (authorization_code, refresh_token, web).',
    requestBodies: {
      [FORM]: {
        oneOf: [
          { type: 'object', required: ['grant_type', 'client_id', 'client_secret', 'code', 'redirect_uri'], properties: { grant_type: { const: 'authorization_code' }, ...client, code: str, redirect_uri: { type: 'string', format: 'uri', minLength: 1, maxLength: 2083 }, code_verifier: str } },
          { type: 'object', required: ['grant_type', 'client_id', 'client_secret', 'refresh_token'], properties: { grant_type: { const: 'refresh_token' }, ...client, refresh_token: str, scope: str } },
          { type: 'object', required: ['grant_type', 'client_id', 'client_secret', 'session_token'], properties: { grant_type: { const: 'web' }, ...client, session_token: str, sub_type: { type: 'string', enum: ['user', 'organization'], default: 'user' }, sub: { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }], default: null }, scope: { anyOf: [str, { type: 'null' }], default: null } } },
        ],
      },
    },
    success: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token'],
      additionalProperties: false,
      properties: {
        access_token: { type: 'string', pattern: '^polar_at_[uo]_[0-9A-Za-z]{43}$' },
        token_type: { const: 'Bearer' },
        expires_in: { type: 'integer' },
        refresh_token: { anyOf: [{ type: 'string', pattern: '^polar_rt_[uo]_[0-9A-Za-z]{43}$' }, { type: 'null' }] },
        scope: { type: 'string' },
        id_token: { type: 'string' },
      },
    },
    error: {
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: { error: str, error_description: str },
    },
    errorStatuses: {
      400: 'Malformed request, unsupported or unauthorised grant, invalid grant or scope',
      401: 'Client authentication failed',
      405: 'Method other than POST',
      413: 'Body too large',
      429: 'Rate limited',
      500: 'Internal error',
      503: 'Overloaded or a dependency is down',
    },
    basicAuth: true,
  },

  decode(req: HttpRequest): TokenRequest {
    const media = mediaType(req);
    if (media?.type !== FORM || (media.charset !== undefined && media.charset !== 'utf-8')) {
      throw new OAuthError('invalid_request', 'The Content-Type must be application/x-www-form-urlencoded.', { reason: 'content_type' });
    }
    const params = parseForm(req.body);
    rejectQueryCredentials(req, params);
    const fields = stringParams(params);
    return { grantType: fields.grant_type, params: fields, client: presentedClient(req, fields) };
  },

  encodeResult(r: TokenResult): HttpResponse {
    return json(
      200,
      {
        access_token: r.accessToken,
        token_type: r.tokenType,
        expires_in: r.expiresIn,
        refresh_token: r.refreshToken ?? null,
        scope: r.scope,
        id_token: r.idToken ?? '',
      },
      NO_STORE,
    );
  },

  encodeIntrospection: polarIntrospection,

  /** Polar answers a revocation with an empty JSON object (RevokeTokenResponse), never an empty body. */
  encodeRevocation: () => json(200, {}, NO_STORE),

  encodeError(err: OAuthError, req: HttpRequest): HttpResponse {
    const headers: Record<string, string> = { ...NO_STORE };
    if (err.code === 'invalid_client' && req.headers.authorization !== undefined) headers['WWW-Authenticate'] = 'Basic realm="polar"';
    if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter);
    return json(err.status, { error: WIRE_CODE[err.code] ?? err.code, error_description: err.description }, headers);
  },
} satisfies Dialect;

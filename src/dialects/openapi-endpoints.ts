/**
 * The OpenAPI shapes of the endpoints a mount serves beside its token endpoint and documents in the
 * same document: the pushed authorization request endpoint (RFC 9126 §2) and the device authorization
 * endpoint (RFC 8628 §3.1–3.2). Their bodies are read by the dialect's codec (so they take its media
 * types and client authentication) and their errors are the dialect's; their answers are fixed by
 * the RFCs (`http/endpoints/par.ts`, `http/device.ts` encode them). test/dialects/openapi-endpoints.test.ts
 * drives each endpoint and checks every answer against the served document.
 */
import { DEVICE_CODE_TTL_S, USER_CODE_ALPHABET, USER_CODE_LENGTH } from '../protocol/device.ts';
import { RESPONSE_MODES } from '../protocol/jarm.ts';
import { PUSHED_PARAMETERS, REQUEST_URI_PREFIX } from '../protocol/par.ts';
import type { JsonSchema } from './types.ts';

/** The request parameters by which a client authenticates in the body, where the dialect reads them. */
const CLIENT_AUTH_PARAMETERS = ['client_id', 'client_secret', 'client_assertion_type', 'client_assertion'];

export interface SideEndpoint {
  /** OpenAPI `operationId` suffix and the components' schema name of its answer. */
  readonly id: string;
  readonly schemaName: string;
  readonly summary: string;
  readonly status: 200 | 201;
  readonly description: string;
  /** The parameters of its own, beside client authentication. */
  readonly parameters: Readonly<Record<string, JsonSchema>>;
  readonly required: readonly string[];
  readonly success: JsonSchema;
  /** What its 400 answers mean (its other error statuses are the token endpoint's). */
  readonly badRequest: string;
  /** Its `DPoP` request header, for a dialect that reads proofs (RFC 9449 §10.1: a proof on a push binds the code). */
  readonly dpopHeader?: { readonly required: boolean; readonly description: string; readonly schema: JsonSchema };
}

const PAR_PARAMETER: Readonly<Record<(typeof PUSHED_PARAMETERS)[number] | 'request', JsonSchema>> = {
  response_type: { const: 'code', description: 'Required, unless a request object carries it.' },
  redirect_uri: { type: 'string', format: 'uri', description: 'One of the client\'s registered redirect URIs, exactly. Required, unless a request object carries it.' },
  scope: { type: 'string' },
  state: { type: 'string', maxLength: 2048 },
  nonce: { type: 'string', maxLength: 512 },
  code_challenge: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'PKCE (RFC 7636), required unless the client is confidential and registered with pkce_required=false.' },
  code_challenge_method: { const: 'S256' },
  resource: { type: 'string', format: 'uri', description: 'RFC 8707: one resource.' },
  prompt: { type: 'string', description: 'Space-separated: none (alone), login, consent, select_account.' },
  max_age: { type: 'string', pattern: '^[0-9]{1,10}$', description: 'Seconds.' },
  dpop_jkt: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'RFC 9449 §10: the SHA-256 JWK thumbprint of the DPoP key the code is bound to; a DPoP proof sent with the push binds it as well, and must then be by that key.' },
  response_mode: { enum: [...RESPONSE_MODES], description: 'JARM: query.jwt or jwt (the same, for response_type=code) sends the response back as one signed JWT, the response parameter; default query.' },
  request: {
    type: 'string',
    description: 'RFC 9126 §3, RFC 9101: the parameters above as the claims of a JWT signed with a key registered for the client (an asymmetric alg; aud the issuer; client_id; exp at most 60 minutes ahead). When sent, only its parameters are used; a jti is used once.',
  },
};

const userCodeChar = `[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH / 2}}`;

export const PAR_ENDPOINT: SideEndpoint = {
  id: 'par',
  schemaName: 'PushedAuthorizationResponse',
  summary: 'Pushed authorization request (RFC 9126): the authorization request\'s parameters, for a request_uri to send to the authorization endpoint.',
  status: 201,
  description: 'Request stored (RFC 9126 §2.2)',
  parameters: PAR_PARAMETER,
  // response_type and redirect_uri, in the body or in a request object (`request`).
  required: [],
  success: {
    type: 'object',
    required: ['request_uri', 'expires_in'],
    additionalProperties: false,
    properties: {
      request_uri: { type: 'string', pattern: `^${REQUEST_URI_PREFIX}km_rq_[0-9A-Za-z]{43}$`, description: 'One-time, for this client only.' },
      expires_in: { type: 'integer', minimum: 1, description: 'Seconds the request_uri may be used in (--par-ttl).' },
    },
  },
  badRequest: 'A request object that does not verify (`invalid_request_object`, RFC 9101 §7); a malformed request, a `request_uri` parameter, a redirect URI not registered for the client, a `response_type` other than `code`, no S256 PKCE challenge, a prompt, max_age or dpop_jkt not understood, a dpop_jkt naming another key than the DPoP proof (`invalid_request`); a client not allowed the authorization code flow (`unauthorized_client`); a scope or resource not allowed (`invalid_scope`, `invalid_target`); a bad DPoP proof (`invalid_dpop_proof`) or a DPoP nonce to use (`use_dpop_nonce`, with `DPoP-Nonce`)',
  dpopHeader: { required: false, description: 'A DPoP proof (RFC 9449 §10.1) with `htu` this endpoint\'s URL: the code is bound to its key, and only a token request with a proof by that key redeems it.', schema: { type: 'string' } },
};

export const DEVICE_AUTHORIZATION_ENDPOINT: SideEndpoint = {
  id: 'device_authorization',
  schemaName: 'DeviceAuthorizationResponse',
  summary: 'Device authorization request (RFC 8628 §3.1): a device code to poll the token endpoint with, and a user code for the user to enter at the verification URI.',
  status: 200,
  description: 'Device authorization started (RFC 8628 §3.2)',
  parameters: { scope: { type: 'string', description: 'Default: the client\'s user scopes.' } },
  required: [],
  success: {
    type: 'object',
    required: ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete', 'expires_in', 'interval'],
    additionalProperties: false,
    properties: {
      device_code: { type: 'string', pattern: '^km_dc_[0-9A-Za-z]{43}$' },
      user_code: { type: 'string', pattern: `^${userCodeChar}-${userCodeChar}$` },
      verification_uri: { type: 'string', format: 'uri' },
      verification_uri_complete: { type: 'string', format: 'uri' },
      expires_in: { type: 'integer', minimum: 1, description: `Seconds (${DEVICE_CODE_TTL_S}).` },
      interval: { type: 'integer', minimum: 1, description: 'Seconds to wait between polls of the token endpoint.' },
    },
  },
  badRequest: 'Malformed request (`invalid_request`); a client not allowed the device_code grant or this dialect (`unauthorized_client`); a scope not allowed (`invalid_scope`)',
};

/** Its request body in one of the dialect's media types: its parameters and the client authentication the dialect reads there. */
export function sideRequestBody(endpoint: SideEndpoint, tokenBody: JsonSchema): JsonSchema {
  const tokenProperties = (tokenBody.properties ?? {}) as Record<string, JsonSchema>;
  const auth = Object.fromEntries(CLIENT_AUTH_PARAMETERS.filter((p) => p in tokenProperties).map((p) => [p, tokenProperties[p]!]));
  return { type: 'object', ...(endpoint.required.length > 0 ? { required: [...endpoint.required] } : {}), properties: { ...endpoint.parameters, ...auth } };
}

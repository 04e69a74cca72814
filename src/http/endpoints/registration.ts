/**
 * Dynamic client registration (RFC 7591) at `<mount>/register` and its management (RFC 7592) at
 * `<mount>/register/<client_id>`. Registration is open (rate-limited per address, public clients
 * of the code flow only) or needs an initial access token: a live Keymint access token with the
 * `keymint:register` scope. Management needs the registration access token returned once at
 * registration: GET reads the client's metadata, PUT replaces it (RFC 7592 §2.2: what is left out is
 * reset; how the client authenticates stays), DELETE removes the client (its tokens end with it).
 * Errors are RFC 7591 §3.2.2 JSON (`invalid_client_metadata`, `invalid_redirect_uri`) or RFC 6750
 * bearer errors; a secret is shown only in the 201.
 */
import { TLS_NAME_FIELDS, TLS_NAMES } from '../../credentials/client-auth-settings.ts';
import { ClientInputError, ClientNotFoundError, type ClientService, type ClientView } from '../../credentials/clients.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { ClientIp } from '../../limits/client-ip.ts';
import type { RequestLimiter } from '../../limits/limiter.ts';
import { readRegistration, RegistrationError, type RegisteredMetadata, type RegistrationRules, type TokenEndpointAuthMethod } from '../../protocol/registration.ts';
import { viewToken, type TokenViewDeps } from '../../protocol/token-view.ts';
import type { Logger } from '../../util/log.ts';
import { parseJsonObject } from '../../dialects/codec/params.ts';
import { readCredentials } from '../../wire/authorization.ts';
import { toOAuthError } from '../../wire/errors.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../../wire/http.ts';
import type { Route, Router } from '../router.ts';

export const REGISTER_SCOPE = 'keymint:register';

export interface RegistrationDeps {
  readonly clients: Pick<ClientService, 'register' | 'registered' | 'update' | 'verifySecret' | 'delete' | 'show'>;
  readonly rules: RegistrationRules;
  /** Open registrations per hour per address. */
  readonly perHour: number;
  readonly limiter: Pick<RequestLimiter, 'admitRegistration'> | undefined;
  readonly clientIp: ClientIp;
  readonly tokens: TokenViewDeps;
  readonly now: () => number;
  readonly log: Logger;
}

const error = (status: number, code: string, description: string, headers: Record<string, string> = {}): HttpResponse =>
  json(status, { error: code, error_description: description }, { ...NO_STORE, ...headers });
const challenge = (code?: string) => ({ 'WWW-Authenticate': `Bearer realm="keymint"${code ? `, error="${code}"` : ''}` });
const unauthorized = () => error(401, 'invalid_token', 'The access token is invalid.', challenge('invalid_token'));

/**
 * The bearer token of the request, or the RFC 6750 §3 answer when there is none: 401 with a bare
 * challenge when no token came (`missing` says which token), 400 `invalid_request` when the header is
 * malformed or repeated.
 */
function bearer(req: HttpRequest, missing: string): string | HttpResponse {
  const credentials = readCredentials(req.headersDistinct.authorization, ['Bearer']);
  if (credentials.kind === 'token') return credentials.token;
  if (credentials.kind === 'malformed') return error(400, 'invalid_request', 'The Authorization header is malformed.', challenge('invalid_request'));
  return error(401, 'invalid_token', missing, challenge());
}

/** The registration route and the management prefix under `path` (`<mount>/register`). */
export function mountRegistration(router: Router, owner: string, path: string, issuer: string, deps: RegistrationDeps): void {
  const guarded = (fn: (req: HttpRequest) => Promise<HttpResponse>) => async (req: HttpRequest) => {
    try {
      return await fn(req);
    } catch (err) {
      if (err instanceof RegistrationError) return error(400, err.code, err.message);
      // Deleted after its token was checked (a DELETE racing this request, RG-06): an unknown client.
      if (err instanceof ClientNotFoundError) return unauthorized();
      const mapped = toOAuthError(err);
      if (mapped.status >= 500) deps.log.error('registration failed', { err });
      const headers: Record<string, string> = mapped.retryAfter === undefined ? {} : { 'Retry-After': String(mapped.retryAfter) };
      return error(mapped.status, mapped.code === 'rate_limited' ? 'rate_limited' : mapped.code, mapped.description, headers);
    }
  };
  // A browser-based client (an MCP client in a web page) registers itself and manages its
  // registration from its own origin (CORS).
  const route: Route = { method: 'POST', path, owner, label: 'Dynamic client registration (RFC 7591)', cors: true, handler: guarded((req) => register(req, `${issuer}${path}`, deps)) };
  router.add(route);
  router.addPrefix(`${path}/`, guarded((req) => manage(req, path, `${issuer}${path}`, deps)), ['GET', 'PUT', 'DELETE']);
}

async function register(req: HttpRequest, base: string, deps: RegistrationDeps): Promise<HttpResponse> {
  if (deps.rules.mode === 'open') {
    await deps.limiter?.admitRegistration(deps.clientIp(req), deps.perHour);
  } else {
    const token = bearer(req, 'An initial access token is required.');
    if (typeof token !== 'string') return token;
    const view = await viewToken(token, deps.now(), deps.tokens);
    // Read as Bearer only: a token bound to a DPoP key or a certificate proves nothing so (RG-08).
    if (!view?.active || view.kind !== 'access_token' || view.jkt !== undefined || view.x5t !== undefined || !view.scope.split(' ').includes(REGISTER_SCOPE)) return unauthorized();
  }
  const m = readRegistration(metadataBody(req), deps.rules);
  const secretless = m.tokenEndpointAuthMethod === 'private_key_jwt' || m.tokenEndpointAuthMethod === 'tls_client_auth' || m.tokenEndpointAuthMethod === 'self_signed_tls_client_auth';
  const { client, clientSecret, registrationAccessToken } = await deps.clients.register({
    ...settingsFrom(m, deps.rules),
    type: m.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential',
    dialects: ['oauth2'],
    ...(secretless ? { authMethod: m.tokenEndpointAuthMethod } : {}),
    ...(m.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: m.backchannelLogoutUri }),
    ...(m.jwks === undefined ? {} : { jwks: m.jwks }),
    ...(m.jwksUri === undefined ? {} : { jwksUri: m.jwksUri }),
    ...(m.securityProfile === undefined ? {} : { securityProfile: m.securityProfile }),
  });
  return json(
    201,
    {
      ...metadataOf(client, m.tokenEndpointAuthMethod),
      ...(clientSecret === null ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 }),
      registration_access_token: registrationAccessToken,
      registration_client_uri: `${base}/${encodeURIComponent(client.client_id)}`,
    },
    NO_STORE,
  );
}

/** The request's client metadata: a JSON object sent as application/json (RFC 7591 §3.1, RFC 7592 §2.2). */
function metadataBody(req: HttpRequest): Record<string, unknown> {
  const media = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') throw new RegistrationError('invalid_client_metadata', 'the body must be application/json');
  try {
    return parseJsonObject(req.body);
  } catch {
    throw new RegistrationError('invalid_client_metadata', 'the body must be a JSON object');
  }
}

async function manage(req: HttpRequest, path: string, base: string, deps: RegistrationDeps): Promise<HttpResponse> {
  let clientId: string;
  try {
    clientId = decodeURIComponent(req.path.slice(path.length + 1));
  } catch {
    return error(404, 'not_found', 'No such registration.');
  }
  const token = bearer(req, 'The registration access token is required.');
  if (typeof token !== 'string') return token;
  // RFC 7592 §2: an unknown client and a wrong token look alike, so neither reveals the other.
  const client = await deps.clients.registered(clientId, token);
  if (!client) return unauthorized();
  // RFC 7592 §3 without the registration access token: the client holds it, and after the 201 no
  // answer carries a credential (S-08; docs/requirements.md, "Documented deviations").
  const information = (view: ClientView, method: string) => json(200, { ...metadataOf(view, method), registration_client_uri: `${base}/${encodeURIComponent(clientId)}` }, NO_STORE);
  if (req.method === 'GET' || req.method === 'HEAD') {
    const view = await deps.clients.show(clientId);
    return information(view, view.token_endpoint_auth_method);
  }
  if (req.method === 'PUT') {
    const m = await updateMetadata(req, client, deps);
    return information(await replace(client, m, deps), m.tokenEndpointAuthMethod);
  }
  if (req.method === 'DELETE') {
    await deps.clients.delete(clientId, `registration:${clientId}`);
    return { status: 204, headers: { ...NO_STORE }, body: '' };
  }
  // RFC 9110 §15.5.6: a 405 names the methods in Allow; the code is the one the mount's other 405s carry.
  return error(405, 'invalid_request', 'Client configuration (RFC 7592) accepts only GET, HEAD, PUT, DELETE.', { Allow: 'GET, HEAD, PUT, DELETE' });
}

/**
 * The client settings a registration's metadata stands for, the same when it registers and when it
 * replaces its metadata (RFC 7592 §2.2); the audiences are the policy's, never the client's choice.
 */
const settingsFrom = (m: RegisteredMetadata, rules: RegistrationRules) => ({
  name: m.clientName,
  grants: m.grantTypes,
  scopes: m.scopes,
  audiences: rules.policy.audiences,
  redirectUris: m.redirectUris,
  postLogoutRedirectUris: m.postLogoutRedirectUris,
  backchannelLogoutSessionRequired: m.backchannelLogoutSessionRequired,
  ...m.tlsNames,
  certBound: m.certBound,
  dpopBound: m.dpopBoundAccessTokens,
  requireSignedRequestObject: m.requireSignedRequestObject,
  refreshTokenRotation: m.refreshTokenRotation,
  idTokenAlg: m.idTokenSignedResponseAlg,
  authorizationResponseAlg: m.authorizationSignedResponseAlg,
  introspectionAlg: m.introspectionSignedResponseAlg,
});

/** How a client proves itself, as RFC 7591 names it; `client_secret_basic` and `_post` are one credential. */
type Credential = 'none' | 'secret' | Exclude<TokenEndpointAuthMethod, 'none' | 'client_secret_basic' | 'client_secret_post'>;
const credentialOf = (method: TokenEndpointAuthMethod): Credential => (method === 'client_secret_basic' || method === 'client_secret_post' ? 'secret' : method);
const credentialOfClient = (c: ClientRecord): Credential => (c.type === 'public' ? 'none' : (c.authMethod ?? 'secret'));

/**
 * RFC 7592 §2.2: the whole metadata again, read by the registration rules. The body names the client
 * (`client_id`, its own) and may repeat its secret, which must be the one it holds; the members the
 * server writes (`registration_access_token`, `registration_client_uri`, `client_id_issued_at`,
 * `client_secret_expires_at`) are not metadata and are not read. How the client authenticates does
 * not change here: a secret, keys or a certificate are not swapped by whoever holds the registration
 * token (delete and register again); its keys (`jwks`, `jwks_uri`) and names do.
 */
async function updateMetadata(req: HttpRequest, client: ClientRecord, deps: RegistrationDeps): Promise<RegisteredMetadata> {
  const body = metadataBody(req);
  if (body.client_id !== client.id) throw new RegistrationError('invalid_client_metadata', 'client_id must be the client identifier this registration was issued');
  if (body.client_secret !== undefined) {
    const held = credentialOfClient(client) === 'secret' && typeof body.client_secret === 'string' && (await deps.clients.verifySecret(client.id, body.client_secret)) !== undefined;
    if (!held) throw new RegistrationError('invalid_client_metadata', 'client_secret is not the secret this client holds; a client cannot choose its secret');
  }
  const m = readRegistration(body, deps.rules);
  const from = credentialOfClient(client);
  if (credentialOf(m.tokenEndpointAuthMethod) !== from) {
    throw new RegistrationError('invalid_client_metadata', `token_endpoint_auth_method cannot change how the client authenticates (${from === 'secret' ? 'client_secret_basic or client_secret_post' : from}); delete the registration and register again`);
  }
  return m;
}

/**
 * The client's registered metadata replaced by `m`: what the registration left out goes back to its
 * default. Checked again inside the atomic update: the registration is still this one and active
 * (else it is gone, RG-06), and a client the operator trusts, which skips the consent page, gets no
 * new redirect URI from whoever holds its registration access token (RG-07); for any other client a
 * new one ends its users' remembered consent, so the consent page names the new destination.
 */
async function replace(client: ClientRecord, m: RegisteredMetadata, deps: RegistrationDeps): Promise<ClientView> {
  const clientId = client.id;
  const check = (current: ClientRecord) => {
    if (current.status !== 'active' || current.registrationToken?.digest !== client.registrationToken?.digest) throw new ClientNotFoundError();
    if (current.trusted && m.redirectUris.some((u) => !current.redirectUris.includes(u))) {
      throw new RegistrationError('invalid_redirect_uri', 'a client the operator trusts skips the consent page: its redirect URIs are added by the operator, not here');
    }
  };
  try {
    return await deps.clients.update(
      clientId,
      {
        // What the registration leaves out is reset: the names it does not give, no back-channel URI, no keys, no profile.
        ...Object.fromEntries(TLS_NAME_FIELDS.map((f) => [f, null])),
        ...settingsFrom(m, deps.rules),
        backchannelLogoutUri: m.backchannelLogoutUri ?? null,
        jwks: m.jwks ?? null,
        jwksUri: m.jwksUri ?? null,
        securityProfile: m.securityProfile ?? null,
      },
      `registration:${clientId}`,
      { check, newRedirectEndsConsent: true },
    );
  } catch (err) {
    // What the client rules refuse beyond the registration rules (a combination), in this endpoint's terms.
    if (err instanceof ClientInputError) throw new RegistrationError('invalid_client_metadata', err.message);
    throw err;
  }
}

/** RFC 7591 §3.2.1: the client's metadata as registered. */
function metadataOf(c: ClientView, method: string) {
  return {
    client_id: c.client_id,
    client_id_issued_at: Math.floor(Date.parse(c.created_at) / 1000),
    client_name: c.name,
    redirect_uris: c.redirect_uris,
    ...(c.post_logout_redirect_uris.length === 0 ? {} : { post_logout_redirect_uris: c.post_logout_redirect_uris }),
    ...(c.backchannel_logout_uri === undefined ? {} : { backchannel_logout_uri: c.backchannel_logout_uri }),
    ...(c.backchannel_logout_session_required ? { backchannel_logout_session_required: true } : {}),
    grant_types: c.grants,
    response_types: c.grants.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: method,
    scope: c.scopes.join(' '),
    ...(c.jwks === undefined ? {} : { jwks: c.jwks }),
    ...(c.jwks_uri === undefined ? {} : { jwks_uri: c.jwks_uri }),
    ...(c.dpop_bound_access_tokens ? { dpop_bound_access_tokens: true } : {}),
    ...Object.fromEntries(Object.values(TLS_NAMES).filter((k) => c[k] !== undefined).map((k) => [k, c[k]])),
    ...(c.tls_client_certificate_bound_access_tokens ? { tls_client_certificate_bound_access_tokens: true } : {}),
    ...(c.require_signed_request_object ? { require_signed_request_object: true } : {}),
    ...(c.refresh_token_rotation ? {} : { refresh_token_rotation: false }),
    ...(c.security_profile === null ? {} : { security_profile: c.security_profile }),
    // OIDC Dynamic Client Registration §2: RS256 when absent.
    ...(c.id_token_signed_response_alg === 'RS256' ? {} : { id_token_signed_response_alg: c.id_token_signed_response_alg }),
    // JARM §3: RS256 when absent.
    ...(c.authorization_signed_response_alg === 'RS256' ? {} : { authorization_signed_response_alg: c.authorization_signed_response_alg }),
    // RFC 9701 §6: RS256 when absent.
    ...(c.introspection_signed_response_alg === 'RS256' ? {} : { introspection_signed_response_alg: c.introspection_signed_response_alg }),
  };
}

/**
 * Client metadata of a dynamic registration (RFC 7591 §2, §3.1) read against the operator's policy:
 * what a registering client may ask for. Pure: the registration endpoint (http/endpoints/
 * registration.ts) authenticates the request, creates the client and answers.
 *
 * Refused with `invalid_redirect_uri`: a redirect URI no live client could register, or none for the
 * code flow. Refused with `invalid_client_metadata` (RG-01): a grant, response type, auth method or
 * scope outside the policy, keys that do not validate, a malformed field. Open registration (RG-02)
 * admits public clients of the code flow only; with an initial access token, confidential clients
 * (secret or `private_key_jwt`), `client_credentials` and the device authorization grant too (RG-04).
 * Unknown metadata is ignored (§2).
 */
import { idTokenAlgs, orList, OTHER_SIGNING_ALGS, type SigningAlg } from '../config/types.ts';
import { authSettings, AuthSettingsError, isJwksUri, TLS_NAME_FIELDS, TLS_NAMES, type TlsNameField } from '../credentials/client-auth-settings.ts';
import { encryptionAsked, ENCRYPTION_REFUSED, FAPI2_AUTH_METHODS, FAPI2_GRANTS, idTokenAlgProblem, isDisplayName } from '../credentials/client-rules.ts';
import { validateClientJwks, ClientKeysError } from '../credentials/client-keys.ts';
import { backchannelLogoutUriProblem, redirectUriProblem } from '../credentials/redirect-uris.ts';
import { PUBLIC_CLIENT_GRANTS, type RegistrationPolicy } from '../credentials/registration-policy.ts';
import { DEVICE_CODE_GRANT } from './device.ts';
import type { ClientJwks } from '../storage/types.ts';
import { isScopeToken } from './scope.ts';

export type RegistrationErrorCode = 'invalid_client_metadata' | 'invalid_redirect_uri';

export class RegistrationError extends Error {
  readonly code: RegistrationErrorCode;
  constructor(code: RegistrationErrorCode, description: string) {
    super(description);
    this.name = 'RegistrationError';
    this.code = code;
  }
}

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

/** What a registration asks for, checked and normalised. */
export interface RegisteredMetadata {
  readonly clientName: string;
  readonly redirectUris: readonly string[];
  /** OIDC RP-Initiated Logout §3.1: where the end-session endpoint may send the browser after logout. */
  readonly postLogoutRedirectUris: readonly string[];
  /** OIDC Back-Channel Logout §2.2: where logout tokens are POSTed; absent: none. */
  readonly backchannelLogoutUri: string | undefined;
  readonly backchannelLogoutSessionRequired: boolean;
  readonly grantTypes: readonly string[];
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly scopes: readonly string[];
  readonly jwks?: ClientJwks;
  readonly jwksUri?: string;
  readonly dpopBoundAccessTokens: boolean;
  /** RFC 8705 §3.4 `tls_client_certificate_bound_access_tokens`. */
  readonly certBound: boolean;
  /** RFC 8705 §2.1.2: the one name of a `tls_client_auth` client. */
  readonly tlsNames: Partial<Record<TlsNameField, string>>;
  /** RFC 9101 §10.5: its authorization requests must be signed request objects. */
  readonly requireSignedRequestObject: boolean;
  /** Keymint's `refresh_token_rotation`: false, refresh tokens are kept, not rotated (RT-11; confidential clients). */
  readonly refreshTokenRotation: boolean;
  /** Keymint's `security_profile`: `fapi2` holds the client to the FAPI 2.0 Security Profile (docs/fapi2.md). */
  readonly securityProfile: 'fapi2' | undefined;
  /** OIDC Dynamic Client Registration §2: what its ID tokens are signed with (default RS256). */
  readonly idTokenSignedResponseAlg: SigningAlg;
  /** JARM §3: what its JWT authorization responses are signed with (default RS256). */
  readonly authorizationSignedResponseAlg: SigningAlg;
  /** RFC 9701 §6: what its JWT introspection answers are signed with (default RS256). */
  readonly introspectionSignedResponseAlg: SigningAlg;
}

export interface RegistrationRules {
  /** `open`: anyone, public clients of the code flow only; `token`: behind an initial access token. */
  readonly mode: 'open' | 'token';
  readonly policy: RegistrationPolicy;
  /** `jwks_uri` may be plain http (tests and local development). */
  readonly allowHttpJwksUri: boolean;
  /** The deployment's `--alg`: with RS256, what a client's ID tokens may be signed with. */
  readonly alg: SigningAlg;
}

/**
 * With an initial access token, the device authorization grant too, for public and confidential
 * clients alike (RFC 8628 §3.1 authenticates a confidential one as the token endpoint does). Not in
 * open registration (RG-04): a device client has no redirect URI, so the user sees only the name its
 * anonymous registrant chose, the remote phishing of RFC 8628 §5.4.
 */
const TOKEN_PUBLIC_GRANTS = [...PUBLIC_CLIENT_GRANTS, DEVICE_CODE_GRANT];
const CONFIDENTIAL_GRANTS = [...TOKEN_PUBLIC_GRANTS, 'client_credentials'];
const METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
const bad = (description: string) => new RegistrationError('invalid_client_metadata', description);

export function readRegistration(body: Readonly<Record<string, unknown>>, rules: RegistrationRules): RegisteredMetadata {
  const open = rules.mode === 'open';
  // RFC 7591 §2 makes client_secret_basic the default; open registration admits public clients only, so there it is none.
  const method = body.token_endpoint_auth_method ?? (open ? 'none' : 'client_secret_basic');
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) throw bad(`token_endpoint_auth_method must be one of ${METHODS.join(', ')}`);
  if (open && method !== 'none') throw bad('open registration admits public clients only (token_endpoint_auth_method none)');

  const grantTypes = stringList(body.grant_types, 'grant_types') ?? ['authorization_code'];
  const allowed = open ? PUBLIC_CLIENT_GRANTS : method === 'none' ? TOKEN_PUBLIC_GRANTS : CONFIDENTIAL_GRANTS;
  // Fixed texts, never the request's values (R-05): an error_description is ASCII without `"` or `\`.
  if (!grantTypes.every((g) => allowed.includes(g))) throw bad(`a grant in grant_types may not be registered here; allowed: ${allowed.join(', ')}`);
  const responseTypes = stringList(body.response_types, 'response_types') ?? (grantTypes.includes('authorization_code') ? ['code'] : []);
  if (!responseTypes.every((r) => r === 'code')) throw bad('response_types may only be code');
  if (grantTypes.includes('authorization_code') !== responseTypes.includes('code')) throw bad('the authorization_code grant goes with the code response type (RFC 7591 section 2.1)');

  const redirectUris = stringList(body.redirect_uris, 'redirect_uris', 'invalid_redirect_uri') ?? [];
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw new RegistrationError('invalid_redirect_uri', 'the code flow needs at least one redirect URI');
  if (redirectUris.length > 10) throw new RegistrationError('invalid_redirect_uri', 'at most 10 redirect URIs');
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri, 'live');
    if (problem !== undefined) throw new RegistrationError('invalid_redirect_uri', problem);
  }
  // OIDC RP-Initiated Logout §3.1 (LOGOUT-04): registered under the rules of redirect URIs.
  const postLogoutRedirectUris = stringList(body.post_logout_redirect_uris, 'post_logout_redirect_uris', 'invalid_redirect_uri') ?? [];
  if (postLogoutRedirectUris.length > 10) throw new RegistrationError('invalid_redirect_uri', 'at most 10 post-logout redirect URIs');
  for (const uri of postLogoutRedirectUris) {
    const problem = redirectUriProblem(uri, 'live');
    if (problem !== undefined) throw new RegistrationError('invalid_redirect_uri', `post_logout_redirect_uris: ${problem}`);
  }
  // OIDC Back-Channel Logout §2.2 (BCL-01): as the client rules check it; reached only under the outbound rules.
  const backchannelLogoutUri = body.backchannel_logout_uri;
  if (backchannelLogoutUri !== undefined) {
    const problem = typeof backchannelLogoutUri === 'string' ? backchannelLogoutUriProblem(backchannelLogoutUri, 'live') : 'backchannel_logout_uri is a string';
    if (problem !== undefined) throw bad(problem);
  }
  const sessionRequired = body.backchannel_logout_session_required ?? false;
  if (typeof sessionRequired !== 'boolean') throw bad('backchannel_logout_session_required is true or false');

  const scopes = typeof body.scope === 'string' ? [...new Set(body.scope.split(' ').filter(Boolean))] : body.scope === undefined ? [...rules.policy.scopes] : undefined;
  if (scopes === undefined || !scopes.every(isScopeToken)) throw bad('scope is a space-separated list of scope tokens');
  if (!scopes.every((s) => rules.policy.scopes.includes(s))) throw bad('a scope in scope may not be registered here');

  const name = body.client_name ?? 'Registered client';
  if (!isDisplayName(name, 200)) throw bad('client_name is 1 to 200 printable characters');
  const dpop = body.dpop_bound_access_tokens ?? false;
  if (typeof dpop !== 'boolean') throw bad('dpop_bound_access_tokens is true or false');
  const signed = body.require_signed_request_object ?? false;
  if (typeof signed !== 'boolean') throw bad('require_signed_request_object is true or false');
  if (signed && method !== 'private_key_jwt') throw bad('require_signed_request_object needs the client keys (private_key_jwt with jwks or jwks_uri)');

  const rotation = body.refresh_token_rotation ?? true;
  if (typeof rotation !== 'boolean') throw bad('refresh_token_rotation is true or false');
  // RFC 9700 §4.14.2 (RT-11): only a confidential client's refresh token may be kept instead of rotated.
  if (!rotation && method === 'none') throw bad('a public client must rotate its refresh tokens: refresh_token_rotation false is for confidential clients');

  // OIDC Dynamic Client Registration §2 (IDT-01): one of the algorithms the keyring keeps.
  const idAlg = body.id_token_signed_response_alg ?? 'RS256';
  if (!idTokenAlgs(rules.alg).includes(idAlg as SigningAlg)) throw bad(`id_token_signed_response_alg: ${idTokenAlgProblem(rules.alg)}`);
  // JARM §3 (JARM-05) and RFC 9701 §6 (I-11): signed with one of them too.
  const authorizationAlg = body.authorization_signed_response_alg ?? 'RS256';
  if (!idTokenAlgs(rules.alg).includes(authorizationAlg as SigningAlg)) throw bad(`authorization_signed_response_alg: ${idTokenAlgProblem(rules.alg, 'authorization responses')}`);
  const introspectionAlg = body.introspection_signed_response_alg ?? 'RS256';
  if (!idTokenAlgs(rules.alg).includes(introspectionAlg as SigningAlg)) throw bad(`introspection_signed_response_alg: ${idTokenAlgProblem(rules.alg, 'introspection answers')}`);
  // Encrypted responses are not offered (JARM-05, I-12): refused rather than answered in clear.
  const encrypted = encryptionAsked(body);
  if (encrypted !== undefined) throw bad(`${encrypted}: ${ENCRYPTION_REFUSED[encrypted]}`);

  const profile = body.security_profile ?? 'none';
  if (profile !== 'fapi2' && profile !== 'none') throw bad('security_profile is fapi2 or none');
  // FAPI 2.0 §5.3.2 (FAPI-01, FAPI-04): the client rules' refusals, in this endpoint's terms.
  if (profile === 'fapi2') {
    if (!FAPI2_AUTH_METHODS.includes(method)) throw bad(`a fapi2 client authenticates with ${FAPI2_AUTH_METHODS.join(', ')}`);
    if (!grantTypes.every((g) => FAPI2_GRANTS.includes(g))) throw bad(`a fapi2 client may use only ${FAPI2_GRANTS.join(', ')}`);
    if (!redirectUris.every((u) => u.startsWith('https://'))) throw new RegistrationError('invalid_redirect_uri', 'the redirect URIs of a fapi2 client are https');
    // FAPI 2.0 section 5.4.1 (IDT-03): not RS256 for ID tokens.
    if (scopes.includes('openid') && idAlg === 'RS256') {
      throw bad(rules.alg === 'RS256' ? `a fapi2 client with the openid scope needs ID tokens signed with ${orList(OTHER_SIGNING_ALGS)}, which this server does not sign with` : `a fapi2 client with the openid scope registers id_token_signed_response_alg ${rules.alg}`);
    }
  }

  const keyed = keys(body, method === 'private_key_jwt' || method === 'self_signed_tls_client_auth', rules);
  // RFC 8705 §2.1.2, §3.4: the names and the binding, checked by the client rules (MTLS-07), refused in this endpoint's terms.
  const certBound = body.tls_client_certificate_bound_access_tokens ?? false;
  const tlsNames = Object.fromEntries(TLS_NAME_FIELDS.filter((f) => body[TLS_NAMES[f]] !== undefined).map((f) => [f, body[TLS_NAMES[f]]])) as Partial<Record<TlsNameField, string>>;
  try {
    const secretless = method === 'private_key_jwt' || method === 'tls_client_auth' || method === 'self_signed_tls_client_auth' ? { authMethod: method as 'private_key_jwt' } : {};
    authSettings({ ...secretless, ...tlsNames, ...keyed, certBound: certBound as boolean }, { type: method === 'none' ? 'public' : 'confidential', allowHttpJwksUri: rules.allowHttpJwksUri });
  } catch (err) {
    if (err instanceof AuthSettingsError) throw bad(err.message);
    throw err;
  }
  return {
    clientName: name, redirectUris, postLogoutRedirectUris, backchannelLogoutUri: backchannelLogoutUri as string | undefined, backchannelLogoutSessionRequired: sessionRequired, grantTypes, tokenEndpointAuthMethod: method as TokenEndpointAuthMethod, scopes, dpopBoundAccessTokens: dpop,
    certBound: certBound === true, tlsNames,
    requireSignedRequestObject: signed, refreshTokenRotation: rotation, securityProfile: profile === 'fapi2' ? 'fapi2' : undefined,
    idTokenSignedResponseAlg: idAlg as SigningAlg, authorizationSignedResponseAlg: authorizationAlg as SigningAlg, introspectionSignedResponseAlg: introspectionAlg as SigningAlg, ...keyed,
  };
}

function keys(body: Readonly<Record<string, unknown>>, wanted: boolean, rules: RegistrationRules): Pick<RegisteredMetadata, 'jwks' | 'jwksUri'> {
  const { jwks, jwks_uri: uri } = body;
  if (!wanted) {
    if (jwks !== undefined || uri !== undefined) throw bad('jwks and jwks_uri are for private_key_jwt and self_signed_tls_client_auth clients');
    return {};
  }
  if ((jwks === undefined) === (uri === undefined)) throw bad('private_key_jwt and self_signed_tls_client_auth need exactly one of jwks and jwks_uri (RFC 7591 section 2)');
  if (uri !== undefined) {
    if (!isJwksUri(uri, rules.allowHttpJwksUri)) throw bad('jwks_uri is an https URL');
    return { jwksUri: uri };
  }
  try {
    return { jwks: validateClientJwks(jwks) };
  } catch (err) {
    if (err instanceof ClientKeysError) throw bad(`jwks: ${err.message}`);
    throw err;
  }
}

function stringList(value: unknown, field: string, code: RegistrationErrorCode = 'invalid_client_metadata'): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new RegistrationError(code, `${field} is an array of strings`);
  return [...new Set(value as string[])];
}

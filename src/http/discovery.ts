/**
 * JWKS, authorization-server metadata (RFC 8414) and OpenID discovery.
 * Metadata advertises only what the server does (SECURITY M-09).
 */
import { CLIENT_KEY_ALGORITHMS } from '../credentials/client-keys.ts';
import { advertisedAuthMethods, type ClientAuthMethodName } from '../protocol/client-auth/index.ts';
import { PROMPT_VALUES } from '../protocol/authorize.ts';
import { RESPONSE_MODES } from '../protocol/jarm.ts';
import { DEVICE_CODE_GRANT } from '../protocol/device.ts';
import { DPOP_ALGORITHMS } from '../protocol/dpop.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { json, type HttpResponse } from '../wire/http.ts';
import { PUBLIC_DOCUMENT, type Route } from './router.ts';

export interface DiscoverySettings {
  readonly issuer: string;
  /**
   * Path of the token endpoint of the mount metadata describes: `oauth2`'s, or without it that of
   * the dialect serving user grants (service.ts); undefined when neither is mounted.
   */
  readonly tokenPath: string | undefined;
  readonly grantTypes: readonly string[];
  /** The client-authentication methods that mount's endpoints read (its dialect's `authMethods`). */
  readonly authMethods: readonly ClientAuthMethodName[];
  /** Client certificates can arrive (TLS, or a trusted proxy's `Client-Cert`): RFC 8705 §3.3 `tls_client_certificate_bound_access_tokens`. */
  readonly mtls?: boolean;
  /**
   * Where clients reach the mutual-TLS listener (RFC 8705 §5), which serves the endpoints of
   * `MTLS_ALIASED` at the same paths; undefined without one.
   */
  readonly mtlsUrl?: string | undefined;
  /** That mount's token endpoint takes DPoP proofs. */
  readonly dpop: boolean;
  /** The algorithms of the mounted dialects' JWT access tokens (none when every mount's are opaque). */
  readonly algs: readonly string[];
  /** The algorithms a client's ID tokens (and JWT introspection answers) may be signed with (config `idTokenAlgs`). */
  readonly idTokenAlgs: readonly string[];
  /** That mount's authorization endpoint answers in JARM's JWT response modes (its dialect's `jwtResponseModes`). */
  readonly jwtResponseModes?: boolean;
  /** Endpoints that mount serves beside its token endpoint. */
  readonly endpoints?: readonly string[];
  /** That mount's introspection endpoint answers with a signed JWT on request (RFC 9701). */
  readonly jwtIntrospection?: boolean;
  /** https URLs are accepted as client ids (client ID metadata documents). */
  readonly clientIdMetadataDocuments?: boolean;
  /** Every client must push its authorization requests (`--require-par`, RFC 9126 §5). */
  readonly requirePar?: boolean;
  /** Dynamic client registration is on (RFC 7591). */
  readonly registration?: boolean;
}

/** The metadata entries whose endpoints the mutual-TLS listener serves (RFC 8705 §5, those Keymint has). */
export const MTLS_ALIASED = [
  'token_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
  'pushed_authorization_request_endpoint',
] as const;

export function metadata(settings: DiscoverySettings): Record<string, unknown> {
  const { issuer, authMethods } = settings;
  const doc: Record<string, unknown> = { issuer, jwks_uri: `${issuer}/oauth2/jwks` };
  // RFC 8414 §2: the algorithms of `private_key_jwt` assertions, named only where assertions are read.
  const assertionAlgs = authMethods.includes('private_key_jwt') ? [...CLIENT_KEY_ALGORITHMS] : undefined;
  const confidential = advertisedAuthMethods(authMethods, false);
  if (settings.tokenPath !== undefined) {
    doc.token_endpoint = `${issuer}${settings.tokenPath}`;
    doc.grant_types_supported = [...settings.grantTypes];
    doc.token_endpoint_auth_methods_supported = confidential;
    doc.token_endpoint_auth_signing_alg_values_supported = assertionAlgs;
    // RFC 9449 §5.1: the algorithms of DPoP proofs, named only where proofs are read.
    if (settings.dpop) doc.dpop_signing_alg_values_supported = [...DPOP_ALGORITHMS];
    if (settings.mtls === true) doc.tls_client_certificate_bound_access_tokens = true;
  }
  doc.access_token_signing_alg_values_supported = [...settings.algs];
  if (settings.tokenPath !== undefined) {
    const dir = `${issuer}${settings.tokenPath.slice(0, settings.tokenPath.lastIndexOf('/'))}`;
    const has = (e: string) => settings.endpoints?.includes(e) === true;
    if (has('authorize') && settings.grantTypes.includes('authorization_code')) {
      // RFC 8414 §2 (M-03), RFC 9700 §2.1.1 (BCP-01): only S256.
      doc.authorization_endpoint = `${dir}/authorize`;
      doc.response_types_supported = ['code'];
      doc.response_modes_supported = settings.jwtResponseModes === true ? [...RESPONSE_MODES] : ['query'];
      // JARM §4: a client's responses are signed with its authorization_signed_response_alg, as its ID tokens are.
      if (settings.jwtResponseModes === true) doc.authorization_signing_alg_values_supported = [...settings.idTokenAlgs];
      doc.code_challenge_methods_supported = ['S256'];
      doc.authorization_response_iss_parameter_supported = true;
      // OIDC Discovery §3 and RFC 8414 §2: the one scope Keymint itself defines (a client's own scopes
      // are the platform's, and not published); the OIDC `prompt` values the endpoint takes.
      doc.scopes_supported = ['openid'];
      doc.prompt_values_supported = [...PROMPT_VALUES];
      doc.token_endpoint_auth_methods_supported = advertisedAuthMethods(authMethods, true);
      // RFC 9101 §10.5, OIDC Discovery §3: request objects by value, signed with a client's registered
      // keys (those of private_key_jwt, so only where assertions are read); by reference only as PAR's URN.
      if (assertionAlgs !== undefined) {
        doc.request_parameter_supported = true;
        doc.request_uri_parameter_supported = false;
        doc.request_object_signing_alg_values_supported = assertionAlgs;
      }
    }
    // OIDC RP-Initiated Logout 1.0 §2.1: where an app sends the browser to end the user's session.
    if (has('end_session') && doc.authorization_endpoint !== undefined) {
      doc.end_session_endpoint = `${dir}/logout`;
      // OIDC Back-Channel Logout §2.1 (BCL-02): logout tokens carry sid, wherever sessions can end.
      doc.backchannel_logout_supported = true;
      doc.backchannel_logout_session_supported = true;
    }
    if (has('par') && doc.authorization_endpoint !== undefined) {
      // RFC 9126 §5: the endpoint, and whether every client must use it (per client: §6).
      doc.pushed_authorization_request_endpoint = `${dir}/par`;
      doc.require_pushed_authorization_requests = settings.requirePar === true;
    }
    if (has('introspect')) {
      doc.introspection_endpoint = `${dir}/introspect`;
      doc.introspection_endpoint_auth_methods_supported = confidential;
      doc.introspection_endpoint_auth_signing_alg_values_supported = assertionAlgs;
      // RFC 9701 §7: what a JWT answer may be signed with (a client's introspection_signed_response_alg);
      // no introspection_encryption_* (never encrypted).
      if (settings.jwtIntrospection === true) doc.introspection_signing_alg_values_supported = [...settings.idTokenAlgs];
    }
    if (has('revoke')) {
      doc.revocation_endpoint = `${dir}/revoke`;
      doc.revocation_endpoint_auth_methods_supported = advertisedAuthMethods(authMethods, true);
      doc.revocation_endpoint_auth_signing_alg_values_supported = assertionAlgs;
    }
    // RFC 8628 §4: the device authorization endpoint, where the grant is offered.
    if (has('device_authorization') && settings.grantTypes.includes(DEVICE_CODE_GRANT)) doc.device_authorization_endpoint = `${dir}/device_authorization`;
    if (has('userinfo')) doc.userinfo_endpoint = `${dir}/userinfo`;
    if (settings.registration === true) doc.registration_endpoint = `${dir}/register`;
    if (settings.clientIdMetadataDocuments === true) doc.client_id_metadata_document_supported = true;
    // OIDC Discovery §3: a client's ID tokens are signed with its id_token_signed_response_alg, one
    // of the algorithms the keyring keeps (RS256 and --alg); subjects are public identifiers.
    doc.id_token_signing_alg_values_supported = [...settings.idTokenAlgs];
    doc.subject_types_supported = ['public'];
    // RFC 8705 §5: the same endpoints on the listener that asks for certificates; the main ones do not.
    const { mtlsUrl } = settings;
    if (mtlsUrl !== undefined) {
      doc.mtls_endpoint_aliases = Object.fromEntries(MTLS_ALIASED.flatMap((k) => (typeof doc[k] === 'string' ? [[k, `${mtlsUrl}${(doc[k] as string).slice(issuer.length)}`]] : [])));
    }
  }
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

export function discoveryRoutes(settings: DiscoverySettings, keyring: Pick<Keyring, 'jwksJson'>): Route[] {
  const cacheable = { 'Cache-Control': 'public, max-age=300', ...PUBLIC_DOCUMENT };
  const serveMetadata = (): HttpResponse => json(200, metadata(settings), cacheable);
  const issuerPath = new URL(settings.issuer).pathname.replace(/\/$/, '');
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/oauth2/jwks',
      owner: 'core',
      cors: 'document',
      handler: () => ({
        status: 200,
        // Short max-age: a verifier sees a newly published `next` key well before it signs.
        headers: { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'public, max-age=60', ...PUBLIC_DOCUMENT },
        body: keyring.jwksJson(),
      }),
    },
    { method: 'GET', path: '/.well-known/oauth-authorization-server', owner: 'core', cors: 'document', handler: serveMetadata },
    { method: 'GET', path: '/.well-known/openid-configuration', owner: 'core', cors: 'document', handler: serveMetadata },
  ];
  if (issuerPath !== '') {
    // RFC 8414 §3: metadata of an issuer with a path is at /.well-known/oauth-authorization-server<path> (SECURITY M-01).
    routes.push({ method: 'GET', path: `/.well-known/oauth-authorization-server${issuerPath}`, owner: 'core', cors: 'document', handler: serveMetadata });
    routes.push({ method: 'GET', path: `${issuerPath}/.well-known/openid-configuration`, owner: 'core', cors: 'document', handler: serveMetadata });
  }
  return routes;
}

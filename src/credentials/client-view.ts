/**
 * A client as the management surfaces show it (`clients show/list`, the admin API, the audit trail):
 * no secret and no digest. Also which of its settings differ between two versions (for the audit
 * trail, and so an update that changes nothing writes nothing), and the stored form of settings.
 */
import type { SigningAlg } from '../config/types.ts';
import type { ClaimValue, ClientMode, ClientRecord, ClientType, SecurityProfile } from '../storage/types.ts';
import { authView } from './client-auth-settings.ts';
import { rotatesRefreshTokens, type ClientSettings } from './client-rules.ts';

/** The public view of a client: what `clients list/show` and the admin API print. No digests. */
export interface ClientView {
  client_id: string;
  name: string;
  mode: ClientMode;
  environment: string;
  type: ClientType;
  status: ClientRecord['status'];
  grants: string[];
  scopes: string[];
  audiences: string[];
  dialects: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  /** OIDC Back-Channel Logout §2.2; absent: none. */
  backchannel_logout_uri?: string;
  backchannel_logout_session_required: boolean;
  trusted: boolean;
  pkce_required: boolean;
  require_pushed_authorization_requests: boolean;
  require_signed_request_object: boolean;
  /** Whether a refresh rotates the refresh token: the setting, false for a fapi2 client (RT-11). */
  refresh_token_rotation: boolean;
  security_profile: SecurityProfile | null;
  id_token_signed_response_alg: SigningAlg;
  authorization_signed_response_alg: SigningAlg;
  introspection_signed_response_alg: SigningAlg;
  access_token_ttl: number | null;
  rate_limit: number | null;
  token_reuse: boolean;
  token_endpoint_auth_method: string;
  jwks?: ClientRecord['jwks'];
  jwks_uri?: string;
  tls_client_auth_subject_dn?: string;
  tls_client_auth_san_dns?: string;
  tls_client_auth_san_uri?: string;
  tls_client_auth_san_ip?: string;
  tls_client_auth_san_email?: string;
  dpop_bound_access_tokens: boolean;
  tls_client_certificate_bound_access_tokens: boolean;
  exchange_audiences: string[];
  exchange_scopes: string[];
  introspection_audiences: string[];
  metadata: Record<string, string>;
  claims: Record<string, ClaimValue>;
  managed_by?: string;
  secrets: Array<{ id: string; created_at: string; expires_at: string | null; last_used_at: string | null }>;
  created_at: string;
  updated_at: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toView(c: ClientRecord, now: number): ClientView {
  return {
    client_id: c.id,
    name: c.name,
    mode: c.mode,
    environment: c.environment,
    type: c.type,
    status: c.status,
    grants: [...c.grants],
    scopes: [...c.scopes],
    audiences: [...c.audiences],
    dialects: [...c.dialects],
    redirect_uris: [...c.redirectUris],
    post_logout_redirect_uris: [...(c.postLogoutRedirectUris ?? [])],
    ...(c.backchannelLogoutUri === undefined ? {} : { backchannel_logout_uri: c.backchannelLogoutUri }),
    backchannel_logout_session_required: c.backchannelLogoutSessionRequired === true,
    trusted: c.trusted,
    pkce_required: c.pkceRequired !== false,
    require_pushed_authorization_requests: c.requirePar === true,
    require_signed_request_object: c.requireSignedRequestObject === true,
    refresh_token_rotation: rotatesRefreshTokens(c),
    security_profile: c.securityProfile ?? null,
    id_token_signed_response_alg: c.idTokenAlg ?? 'RS256',
    authorization_signed_response_alg: c.authorizationResponseAlg ?? 'RS256',
    introspection_signed_response_alg: c.introspectionAlg ?? 'RS256',
    access_token_ttl: c.accessTokenTtl,
    rate_limit: c.rateLimit ?? null,
    token_reuse: c.tokenReuse === true,
    ...authView(c),
    metadata: { ...c.metadata },
    claims: { ...c.claims },
    ...(c.managedBy === undefined ? {} : { managed_by: c.managedBy }),
    secrets: c.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ id: s.id, created_at: iso(s.createdAt)!, expires_at: iso(s.expiresAt), last_used_at: iso(s.lastUsedAt) })),
    created_at: iso(c.createdAt)!,
    updated_at: iso(c.updatedAt)!,
  };
}

/** The stored form of checked settings: empty metadata and claims are left out. */
export function stored(s: ClientSettings) {
  return {
    name: s.name,
    mode: s.mode,
    type: s.type,
    grants: [...s.grants],
    scopes: [...s.scopes],
    audiences: [...s.audiences],
    dialects: [...s.dialects],
    redirectUris: [...s.redirectUris],
    ...(s.postLogoutRedirectUris.length === 0 ? {} : { postLogoutRedirectUris: [...s.postLogoutRedirectUris] }),
    ...(s.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: s.backchannelLogoutUri }),
    ...(s.backchannelLogoutSessionRequired ? { backchannelLogoutSessionRequired: true as const } : {}),
    trusted: s.trusted,
    ...(s.pkceRequired ? {} : { pkceRequired: false }),
    ...(s.requirePar ? { requirePar: true } : {}),
    ...(s.requireSignedRequestObject ? { requireSignedRequestObject: true } : {}),
    ...(s.refreshTokenRotation ? {} : { refreshTokenRotation: false }),
    ...(s.securityProfile === null ? {} : { securityProfile: s.securityProfile }),
    ...(s.idTokenAlg === 'RS256' ? {} : { idTokenAlg: s.idTokenAlg }),
    ...(s.authorizationResponseAlg === 'RS256' ? {} : { authorizationResponseAlg: s.authorizationResponseAlg }),
    ...(s.introspectionAlg === 'RS256' ? {} : { introspectionAlg: s.introspectionAlg }),
    accessTokenTtl: s.accessTokenTtl,
    rateLimit: s.rateLimit,
    ...(s.tokenReuse ? { tokenReuse: true } : {}),
    ...(Object.keys(s.metadata).length === 0 ? {} : { metadata: sortedKeys(s.metadata) }),
    ...(Object.keys(s.claims).length === 0 ? {} : { claims: sortedKeys(s.claims) }),
  };
}

/** Keys in order, so equal maps compare (and export) equal whatever order they were given in. */
const sortedKeys = <T>(m: Readonly<Record<string, T>>): Record<string, T> => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A view's fields that describe the client's settings (what an update can change). */
const SETTINGS_FIELDS = [
  'name', 'grants', 'scopes', 'audiences', 'dialects', 'redirect_uris', 'post_logout_redirect_uris', 'backchannel_logout_uri', 'backchannel_logout_session_required', 'trusted', 'pkce_required', 'require_pushed_authorization_requests', 'require_signed_request_object', 'refresh_token_rotation', 'security_profile', 'id_token_signed_response_alg', 'authorization_signed_response_alg', 'introspection_signed_response_alg', 'access_token_ttl', 'rate_limit', 'token_reuse',
  'token_endpoint_auth_method', 'jwks', 'jwks_uri', 'tls_client_auth_subject_dn', 'tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email',
  'dpop_bound_access_tokens', 'tls_client_certificate_bound_access_tokens', 'exchange_audiences', 'exchange_scopes', 'introspection_audiences',
  'metadata', 'claims', 'managed_by',
] as const satisfies ReadonlyArray<keyof ClientView>;

/** The settings of a view, for the audit trail (no secrets: a view holds none). */
export const auditable = (v: ClientView) => Object.fromEntries(SETTINGS_FIELDS.filter((k) => v[k] !== undefined).map((k) => [k, v[k]]));

/** The view fields whose value differs between two versions of a client. */
export function changedFields(a: ClientRecord, b: ClientRecord, now: number): Array<(typeof SETTINGS_FIELDS)[number]> {
  const va = toView(a, now);
  const vb = toView(b, now);
  return SETTINGS_FIELDS.filter((k) => JSON.stringify(va[k]) !== JSON.stringify(vb[k]));
}

/**
 * Audience of an access token (RFC 9068 §3) from resource indicators (RFC 8707) and token-exchange
 * audiences (RFC 8693 §2.1), and the scopes a token for those audiences may carry.
 */
import type { ResourceDecl } from '../config/types.ts';
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';
import { ADMIN_SCOPE } from '../wire/scope.ts';
import type { TokenRequest } from './token-request.ts';

export interface AudienceSettings {
  /** `aud` when the request names no resource and the client has no registered audiences (config `audience`). */
  readonly audience: string;
  readonly issuer: string;
  /** Resources declared with the only scopes their tokens may carry (config `resource`). */
  readonly resources: readonly ResourceDecl[];
}

/** The admin API's resource identifier, the one `aud` of every admin token (SECURITY ADM-03). */
export const adminAudience = (issuer: string): string => `${issuer}/admin/v1`;

const invalidTarget = () => new OAuthError('invalid_target', 'The requested resource is not allowed for this client.', { field: 'resource' });

/** Every `resource` and `audience` value of a request, in order, once each. */
export function requestedTargets(request: Pick<TokenRequest, 'lists'>): string[] {
  const resource = request.lists?.resource ?? [];
  const audience = request.lists?.audience ?? [];
  // Most requests name none: no set to build.
  if (resource.length === 0 && audience.length === 0) return [];
  return [...new Set([...resource, ...audience])];
}

/**
 * The audience for `scopes`. A token with `keymint:admin` is an admin token: it carries that scope
 * alone (else `invalid_scope`) and its audience is the admin API (another requested resource is
 * `invalid_target`); no other token may have that audience (ADM-03). Otherwise (RFC 8707 §2) each
 * requested resource the client may have becomes an `aud` value, any other is `invalid_target`
 * (SECURITY RI-01, TE-02); none requested: the client's first registered audience, else the
 * deployment default.
 */
export function resolveAudience(requested: readonly string[], scopes: readonly string[], client: Pick<ClientRecord, 'audiences'>, settings: AudienceSettings): string[] {
  const admin = adminAudience(settings.issuer);
  if (scopes.includes(ADMIN_SCOPE)) {
    if (scopes.length > 1) {
      throw new OAuthError('invalid_scope', 'keymint:admin is granted alone: an admin token is for the admin API only.', { field: 'scope' });
    }
    if (requested.some((r) => r !== admin)) throw invalidTarget();
    return [admin];
  }
  if (requested.includes(admin)) throw invalidTarget();
  if (requested.length === 0) return [client.audiences[0] ?? settings.audience];
  const allowed = client.audiences.length > 0 ? client.audiences : [settings.audience];
  if (!requested.every((r) => allowed.includes(r))) throw invalidTarget();
  return [...requested];
}

/**
 * The scopes a token for `audience` may carry: a declared resource allows only its own scopes, and a
 * token for several resources carries only scopes each of them allows (every resource would accept
 * it). Requested scopes beyond that are `invalid_scope`; scopes defaulted from the client's are
 * narrowed silently (SECURITY RI-02).
 */
export function scopesForAudience(scopes: readonly string[], requested: boolean, audience: readonly string[], settings: Pick<AudienceSettings, 'resources'>): string[] {
  const limits = audience.map((aud) => settings.resources.find((r) => r.uri === aud)?.scopes).filter((s): s is readonly string[] => s !== undefined);
  const fits = (scope: string) => limits.every((allowed) => allowed.includes(scope));
  if (requested && !scopes.every(fits)) {
    throw new OAuthError('invalid_scope', 'The requested scope is not allowed for the requested resource.', { field: 'scope' });
  }
  return scopes.filter(fits);
}

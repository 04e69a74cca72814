/** Audience of an access token (RFC 9068 §3, RFC 8707). */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';
import { ADMIN_SCOPE } from '../wire/scope.ts';

export interface AudienceSettings {
  /** `aud` when the request names no resource and the client has no registered audiences (config `audience`). */
  readonly audience: string;
  readonly issuer: string;
}

/** The admin API's resource identifier, the one `aud` of every admin token (SECURITY ADM-03). */
export const adminAudience = (issuer: string): string => `${issuer}/admin/v1`;

const invalidTarget = () => new OAuthError('invalid_target', 'The requested resource is not allowed for this client.', { field: 'resource' });

/**
 * The audience for `scopes`. A token with `keymint:admin` is an admin token: it carries that scope
 * alone (else `invalid_scope`) and its audience is the admin API (another requested resource is
 * `invalid_target`); no other token may have that audience (ADM-03). Otherwise the requested
 * `resource` / `audience` if the client may have it, else `invalid_target`; when none is requested,
 * the client's first registered audience, else the deployment default.
 */
export function resolveAudience(
  requested: string | undefined,
  scopes: readonly string[],
  client: Pick<ClientRecord, 'audiences'>,
  settings: AudienceSettings,
): string[] {
  const admin = adminAudience(settings.issuer);
  if (scopes.includes(ADMIN_SCOPE)) {
    if (scopes.length > 1) {
      throw new OAuthError('invalid_scope', 'keymint:admin is granted alone: an admin token is for the admin API only.', { field: 'scope' });
    }
    if (requested !== undefined && requested !== admin) throw invalidTarget();
    return [admin];
  }
  if (requested === admin) throw invalidTarget();
  if (requested === undefined) return [client.audiences[0] ?? settings.audience];
  const allowed = client.audiences.length > 0 ? client.audiences : [settings.audience];
  if (!allowed.includes(requested)) throw invalidTarget();
  return [requested];
}

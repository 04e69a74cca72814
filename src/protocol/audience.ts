/** Audience of an access token (RFC 9068 §3, RFC 8707). */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';

export interface AudienceSettings {
  /** `aud` when the request names no resource and the client has no registered audiences (config `audience`). */
  readonly audience: string;
}

/**
 * The requested `resource` / `audience` if the client may have it, else `invalid_target`; when none
 * is requested, the client's first registered audience, else the deployment default.
 */
export function resolveAudience(
  requested: string | undefined,
  client: Pick<ClientRecord, 'audiences'>,
  settings: AudienceSettings,
): string[] {
  if (requested === undefined) return [client.audiences[0] ?? settings.audience];
  const allowed = client.audiences.length > 0 ? client.audiences : [settings.audience];
  if (!allowed.includes(requested)) {
    throw new OAuthError('invalid_target', 'The requested resource is not allowed for this client.', { field: 'resource' });
  }
  return [requested];
}

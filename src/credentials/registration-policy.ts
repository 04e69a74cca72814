/**
 * What a client that registers itself may be given: dynamically registered clients (RFC 7591) and
 * clients described by a client ID metadata document alike. The operator names the scopes; the
 * audiences are the resources the deployment declares (RFC 8707), so such a client can ask for a
 * token for any of them and for nothing else.
 */
import type { ResourceDecl } from '../config/types.ts';

export interface RegistrationPolicy {
  readonly scopes: readonly string[];
  readonly audiences: readonly string[];
}

export function registrationPolicy(settings: { readonly registrationScopes: readonly string[]; readonly resources: readonly ResourceDecl[] }): RegistrationPolicy {
  const scopes = settings.registrationScopes.length > 0 ? settings.registrationScopes : settings.resources.flatMap((r) => r.scopes ?? []);
  return { scopes: [...new Set(scopes)], audiences: settings.resources.map((r) => r.uri) };
}

/** Grants a self-registered public client may use: the code flow and its refresh tokens (RFC 7591 §5, SECURITY RG-02). */
export const PUBLIC_CLIENT_GRANTS: readonly string[] = ['authorization_code', 'refresh_token'];

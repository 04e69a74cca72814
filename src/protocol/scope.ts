/** Scope grammar and allow-lists. RFC 6749 §3.3. */
import { OAuthError } from '../wire/errors.ts';
import { isPrivilegedScope, isScopeToken } from '../wire/scope.ts';

export { isScopeToken };

/**
 * Parses `scope = scope-token *( SP scope-token )`. Undefined input stays undefined (omitted);
 * repeated tokens collapse. Anything outside the grammar is `invalid_scope` (SECURITY T-07).
 */
export function parseScope(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const tokens = raw.split(' ');
  if (!tokens.every(isScopeToken)) {
    throw new OAuthError('invalid_scope', 'The requested scope is malformed.', { field: 'scope', reason: 'malformed' });
  }
  return [...new Set(tokens)];
}

/**
 * The scopes to grant: the requested ones if every one is allowed, else `invalid_scope`; when none
 * were requested, the client's registered scopes less the privileged ones, which are granted only
 * when named (SECURITY T-08, ADM-02; a client registered without scopes gets an empty scope, which
 * the seed dialects — that have no scope parameter — rely on).
 */
export function grantScopes(requested: readonly string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return defaultScopes(allowed);
  const permitted = new Set(allowed);
  if (!requested.every((s) => permitted.has(s))) {
    throw new OAuthError('invalid_scope', 'The requested scope is not allowed for this client.', { field: 'scope' });
  }
  return [...requested];
}

/** A client's scopes as granted when it names none: every registered scope that is not privileged (ADM-02). */
export const defaultScopes = (registered: readonly string[]): string[] => registered.filter((s) => !isPrivilegedScope(s));

/**
 * Scopes delegated by a user (code flow, `web` grant): as `grantScopes`, but a privileged scope is
 * `invalid_scope` even when the client holds it, since Keymint's own authority is never delegated (ADM-02).
 */
export function grantUserScopes(requested: readonly string[] | undefined, allowed: readonly string[]): string[] {
  if (requested?.some(isPrivilegedScope)) {
    throw new OAuthError('invalid_scope', 'A keymint: scope is granted to a client acting for itself only.', { field: 'scope' });
  }
  return grantScopes(requested, allowed);
}

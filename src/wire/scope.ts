/** The scope-token grammar of RFC 6749 §3.3, shared by whoever reads or registers a scope. */

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export const isScopeToken = (value: string): boolean => SCOPE_TOKEN.test(value);

/**
 * Scopes that give authority over Keymint itself start with `keymint:`. They are granted only when
 * asked for by name, never as part of a client's default scope (SECURITY ADM-02).
 */
export const isPrivilegedScope = (scope: string): boolean => scope.startsWith('keymint:');

/** Calls the admin API (`/admin/v1`); a token carrying it is for that API alone (ADM-03). */
export const ADMIN_SCOPE = 'keymint:admin';

/** Held in a client's registration, lets it read the revocation feed (ADM-04); never a token's scope. */
export const REVOCATIONS_SCOPE = 'keymint:revocations';

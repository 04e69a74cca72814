/**
 * The grant registry: every grant this server implements, one line each. The wiring, the list of
 * grants a client may be given, discovery's `grant_types_supported` and each dialect's grant enum
 * all derive from it. Adding a grant is its file plus one line here.
 */
import { bindGrant, type BoundGrant } from '../protocol/grant.ts';
import { authorizationCode } from './authorization-code.ts';
import { clientCredentials } from './client-credentials.ts';
import { deviceCode } from './device-code.ts';
import { refreshToken } from './refresh-token.ts';
import { tokenExchange } from './token-exchange.ts';
import { web } from './web.ts';

export const GRANTS = [clientCredentials, authorizationCode, refreshToken, web, tokenExchange, deviceCode] as const;

export const GRANT_TYPES: readonly string[] = GRANTS.map((g) => g.type);

type Grant = (typeof GRANTS)[number];
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** What the registered grants need, together: the composition root supplies one object of this type. */
export type GrantDeps = Intersection<Parameters<Grant['handle']>[1]>;

/** Every grant with its dependencies bound, by wire name. */
export function bindGrants(deps: GrantDeps): ReadonlyMap<string, BoundGrant> {
  return new Map(GRANTS.map((g): [string, BoundGrant] => [g.type, bindGrant<GrantDeps>(g, deps)]));
}

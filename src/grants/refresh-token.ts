/**
 * refresh_token — RFC 6749 §6, RFC 9700 §4.14.2. Every use rotates: the presented token is consumed
 * in the same atomic write that stores its successor (`replaces`, done by issue()), so N parallel
 * uses yield one success (SECURITY RT-05). Presenting a token that is already rotated or revoked
 * revokes its whole family (RT-04). Bound to its client (RT-01, RT-06); scope can only narrow and
 * the new refresh token keeps the original scope (RT-02, RT-03); idle and absolute lifetimes (RT-07).
 * Public clients may refresh (they get rotated tokens, BCP-06); the client's status is checked by
 * client authentication on every request (RT-10). A public client's refresh token bound to a DPoP key
 * needs a proof by that key (RFC 9449 §5, DP-04).
 * A confidential client registered with `refresh_token_rotation: false` (and every fapi2 client) keeps
 * its refresh token instead (RFC 9700 §4.14.2, SECURITY RT-11): each use checks it is live, slides its
 * idle deadline and answers with an access token only; parallel uses all succeed.
 */
import { OAuthError } from '../wire/errors.ts';
import { requestedTargets } from '../protocol/audience.ts';
import { rotatesRefreshTokens } from '../credentials/client-rules.ts';
import { parseScope } from '../protocol/scope.ts';
import { findStoredToken, type TokenLookupDeps } from '../protocol/token-lookup.ts';
import type { SubjectType } from '../storage/types.ts';
import type { GrantHandler } from '../protocol/grant.ts';
import type { Config } from '../config/types.ts';

export interface RefreshDeps extends TokenLookupDeps {
  readonly settings: Pick<Config, 'refreshReuseGrace'>;
}

const invalidGrant = () => new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { field: 'refresh_token' });

export const refreshToken = {
  type: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  allowsPublicClients: true,
  async handle({ request, client, now, jkt, x5t }, deps: RefreshDeps) {
    const presented = request.params.refresh_token;
    if (presented === undefined) {
      throw new OAuthError('invalid_request', 'The refresh_token parameter is required.', { field: 'refresh_token', reason: 'missing' });
    }
    const requested = parseScope(request.params.scope);
    const rec = await findStoredToken(presented, deps);
    // RT-06: unknown, another client's, expired, revoked → invalid_grant, all alike.
    if (!rec || rec.kind !== 'refresh_token' || rec.clientId !== client.id) throw invalidGrant();
    // RACE-04: a token rotated within the grace window goes on to issue(), whose rotation fails and
    // which then hands out the successor, or, finding none live, revokes the family as below.
    // RT-11: a token of a family (every refresh token has one) is kept when the client does not rotate.
    const keep = !rotatesRefreshTokens(client) && rec.familyId !== null;
    const retry = !keep && rec.revokedAt !== null && now - rec.revokedAt < deps.settings.refreshReuseGrace * 1000;
    if (rec.revokedAt !== null && !retry) {
      // RT-04: a rotated (or revoked) token presented again: someone holds a copy. End the family.
      if (rec.familyId !== null) await deps.store.tokens.revokeFamily(rec.familyId, now);
      throw invalidGrant();
    }
    if (rec.expiresAt <= now) throw invalidGrant();
    // RFC 9449 §5, SECURITY DP-04: a bound refresh token is refreshed only with a proof by its key.
    if (rec.meta?.jkt !== undefined && rec.meta.jkt !== jkt) throw invalidGrant();
    // RFC 8705 §4 (MTLS-10): a public client's certificate-bound refresh token, only over a connection with that certificate.
    if (rec.meta?.x5t !== undefined && rec.meta.x5t !== x5t) throw invalidGrant();
    const original = (rec.meta?.grantedScope ?? rec.scope).split(' ').filter(Boolean);
    // CE-02: a scope the client may no longer have (its registration was narrowed since) is gone
    // from the family for good: neither this token nor the new refresh token carries it.
    const granted = original.filter((s) => client.scopes.includes(s));
    if (original.length > 0 && granted.length === 0) {
      throw new OAuthError('invalid_scope', 'None of the scopes originally granted is still allowed for this client.', { field: 'scope' });
    }
    // RT-02: only a subset of what was granted; RT-03: the new refresh token keeps `granted`.
    if (requested !== undefined && !requested.every((s) => granted.includes(s))) {
      throw new OAuthError('invalid_scope', 'The requested scope exceeds the scope originally granted.', { field: 'scope' });
    }
    // RFC 8707 §2.2: a refresh may name fewer of the granted resources, never another one.
    const targets = requestedTargets(request);
    if (!targets.every((t) => rec.audience.includes(t))) {
      throw new OAuthError('invalid_target', 'The requested resource is not allowed for this client.', { field: 'resource' });
    }
    const meta = rec.meta ?? {};
    return {
      subject: rec.subject,
      ...(meta.subjectType === undefined ? {} : { subjectType: meta.subjectType as SubjectType }),
      ...(meta.authTime === undefined ? {} : { authTime: meta.authTime }),
      ...(meta.sid === undefined ? {} : { sid: meta.sid }),
      ...(meta.familyExpiresAt === undefined ? {} : { familyExpiresAt: meta.familyExpiresAt }),
      scopes: requested ?? granted,
      refreshScopes: granted,
      audience: targets.length > 0 ? targets : rec.audience,
      familyId: rec.familyId,
      ...(keep ? { refreshToken: false, keeps: rec.digest } : { refreshToken: true, replaces: rec.digest }),
    };
  },
} satisfies GrantHandler<RefreshDeps>;

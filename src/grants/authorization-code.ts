/**
 * authorization_code — RFC 6749 §4.1.3, RFC 7636 §4.5. The code is bound to its client (C-03),
 * consumed by one atomic write that also stores the tokens issued from it (`redeems`, done by
 * issue(): C-06); a second redemption fails and revokes every token issued from the code, whatever
 * order the two land in (C-02, RACE-01); any failed attempt by the owning client burns it (C-07);
 * `redirect_uri` must be byte-identical (C-04); PKCE S256 is verified (P-*). Public clients must
 * send client_id (C-05, via client authentication). A refresh token is issued when the client may
 * use the refresh_token grant. A code bound to a DPoP key (`dpop_jkt`, RFC 9449 §10) needs a
 * proof by that key (DP-06). For a client that is not `trusted`, the same write finds the
 * subject's consent covering the code's scopes, or nothing is issued (CON-06).
 */
import { findCode } from '../protocol/authorize.ts';
import { requestedTargets, resolveAudience, scopesForAudience, type AudienceSettings } from '../protocol/audience.ts';
import { OAuthError } from '../wire/errors.ts';
import { verifyPkce } from '../protocol/pkce.ts';
import type { Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { GrantHandler } from '../protocol/grant.ts';

export interface AuthorizationCodeDeps {
  readonly store: Pick<Store, 'codes' | 'tokens'>;
  readonly keyring: Pick<Keyring, 'peppers'>;
  readonly settings: AudienceSettings;
}

const invalidGrant = (description = 'The authorization code is invalid, expired or already used.') =>
  new OAuthError('invalid_grant', description, { field: 'code' });

export const authorizationCode = {
  type: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  allowsPublicClients: true,
  async handle({ request, client, now, jkt }, deps: AuthorizationCodeDeps) {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = request.params;
    if (code === undefined) throw new OAuthError('invalid_request', 'The code parameter is required.', { field: 'code', reason: 'missing' });
    const rec = await findCode(code, deps);
    if (!rec || rec.clientId !== client.id) throw invalidGrant();
    const reused = async () => {
      await deps.store.tokens.revokeFamily(rec.familyId, now); // C-02
      return invalidGrant();
    };
    if (rec.consumedAt !== null) throw await reused();
    try {
      if (rec.expiresAt <= now) throw invalidGrant();
      // RFC 9449 §10 (DP-06): a code bound to a DPoP key is redeemed only with a proof by that key.
      // Refused like any other failed attempt of the owner, so the code is spent (C-07): a proof by
      // another key is what a stolen code looks like, and the client's own retry needs a new code anyway.
      if (rec.dpopJkt !== null && jkt !== rec.dpopJkt) {
        throw invalidGrant(jkt === undefined ? 'The code is bound to a DPoP key: the token request needs a DPoP proof by that key.' : 'The DPoP proof is not by the key the code is bound to (dpop_jkt).');
      }
      if (rec.redirectUri !== null && redirectUri !== rec.redirectUri) throw invalidGrant('The redirect_uri does not match the authorization request.');
      verifyPkce(rec.codeChallenge, verifier);
      // CE-02: a scope withdrawn from the client since the authorization request is not granted.
      const authorized = rec.scope.split(' ').filter(Boolean);
      const granted = authorized.filter((s) => client.scopes.includes(s));
      if (authorized.length > 0 && granted.length === 0) {
        throw new OAuthError('invalid_scope', 'None of the scopes authorized is still allowed for this client.', { field: 'scope' });
      }
      // RFC 8707 §2.2: the resource the authorization named, and no other; without one there, what the
      // token request names (within the client's), and without either the client's default.
      const targets = requestedTargets(request);
      if (rec.resource !== null && targets.some((t) => t !== rec.resource)) {
        throw new OAuthError('invalid_target', 'The requested resource was not authorized.', { field: 'resource' });
      }
      const audience = resolveAudience(rec.resource !== null ? [rec.resource] : targets, granted, client, deps.settings);
      return {
        subject: rec.subject,
        subjectType: rec.subjectType,
        authTime: rec.authTime,
        ...(rec.nonce === null ? {} : { nonce: rec.nonce }),
        ...(rec.sessionId === null ? {} : { sid: rec.sessionId }),
        scopes: scopesForAudience(granted, false, audience, deps.settings),
        audience,
        refreshToken: client.grants.includes('refresh_token'),
        familyId: rec.familyId,
        // Consumed by issue() in the write that stores the tokens: a loser then finds them to revoke.
        redeems: rec.digest,
        // CON-06: in that write, the consent the code was issued under must still be there (withdrawn
        // since, nothing is issued). Whether the client is trusted is read now: one made untrusted
        // since the code was issued needs a consent as well.
        ...(client.trusted ? {} : { redeemsWithConsent: { clientId: client.id, subjectType: rec.subjectType, subject: rec.subject, scopes: authorized } }),
      };
    } catch (err) {
      // The owner presented its code and failed: whatever the outcome, the code is spent (C-07).
      if (!(await deps.store.codes.consume(rec.digest, now))) throw await reused();
      throw err;
    }
  },
} satisfies GrantHandler<AuthorizationCodeDeps>;

/**
 * client_credentials — RFC 6749 §4.4. The client acts on its own behalf: `sub` is its id
 * (RFC 9068 §2.2, SECURITY CC-03, J-04); no refresh token (§4.4.3, CC-02); confidential clients only
 * (§4.4, CC-01: enforced by `allowsPublicClients: false`). Resources and audiences per RFC 8707.
 */
import { requestedTargets, resolveAudience, scopesForAudience, type AudienceSettings } from '../protocol/audience.ts';
import { grantScopes, parseScope } from '../protocol/scope.ts';
import type { GrantHandler } from '../protocol/grant.ts';

export const clientCredentials = {
  type: 'client_credentials',
  parameters: ['scope', 'resource', 'audience'],
  allowsPublicClients: false,
  handle({ request, client }, deps: { settings: AudienceSettings }) {
    const requested = parseScope(request.params.scope);
    const granted = grantScopes(requested, client.scopes);
    const audience = resolveAudience(requestedTargets(request), granted, client, deps.settings);
    return {
      subject: client.id,
      scopes: scopesForAudience(granted, requested !== undefined, audience, deps.settings),
      audience,
      refreshToken: false,
      familyId: null,
    };
  },
} satisfies GrantHandler<{ settings: AudienceSettings }>;

/**
 * `web` — Polar's extension grant (RFC 6749 §4.5; SECURITY T-10, D-04, D-05): the platform's own
 * dashboard swaps a logged-in session for an API token. `session_token` is required; `sub_type` is
 * `user` (default) or `organization`; an organization needs `sub` (a UUID the session's user may act
 * for), a user forbids it. The session is looked up by digest and must be live. No refresh token.
 * Error texts follow Polar's implementation.
 */
import { resolveAudience, scopesForAudience, type AudienceSettings } from '../protocol/audience.ts';
import { OAuthError } from '../wire/errors.ts';
import { grantUserScopes, parseScope } from '../protocol/scope.ts';
import { isUuid } from '../credentials/sessions.ts';
import type { GrantHandler, SessionResolver } from '../protocol/grant.ts';

export interface WebGrantDeps {
  readonly sessions: SessionResolver;
  readonly settings: AudienceSettings;
}

const invalidRequest = (description: string, field: string) =>
  new OAuthError('invalid_request', description, { field, reason: 'malformed' });
const invalidGrant = () => new OAuthError('invalid_grant', 'The session is invalid or has expired.', { field: 'session_token' });

export const web = {
  type: 'web',
  parameters: ['session_token', 'sub_type', 'sub', 'scope'],
  allowsPublicClients: false,
  async handle({ request, client }, deps: WebGrantDeps) {
    const { session_token: token, sub_type: subType = 'user', sub } = request.params;
    if (token === undefined) throw new OAuthError('invalid_request', "Missing 'session_token' in request.", { field: 'session_token', reason: 'missing' });
    if (subType !== 'user' && subType !== 'organization') throw invalidRequest('Invalid sub_type', 'sub_type');
    if (subType === 'organization' && sub === undefined) {
      throw new OAuthError('invalid_request', "Missing 'sub' for organization sub_type", { field: 'sub', reason: 'missing' });
    }
    if (subType === 'user' && sub !== undefined) throw invalidRequest("Can't specify 'sub' for user sub_type", 'sub');
    const requested = parseScope(request.params.scope);
    const granted = grantUserScopes(requested, client.scopes);
    const audience = resolveAudience([], granted, client, deps.settings);
    const scopes = scopesForAudience(granted, requested !== undefined, audience, deps.settings);
    if (sub !== undefined && !isUuid(sub)) throw invalidRequest("Invalid 'sub' UUID", 'sub');

    const session = await deps.sessions.resolve(token);
    if (!session) throw invalidGrant();
    let subject: string;
    if (subType === 'user') {
      if (session.subjectType !== 'user') throw invalidGrant();
      subject = session.subject;
    } else {
      const org = sub!.toLowerCase();
      const allowed = session.subjectType === 'organization' ? session.subject === org : session.organizations.includes(org);
      if (!allowed) throw invalidGrant();
      subject = org;
    }
    return {
      subject,
      subjectType: subType,
      authTime: Math.floor(session.createdAt / 1000),
      sid: session.id,
      scopes,
      audience,
      refreshToken: false,
      // The session is the family: ending the session revokes what it was swapped for (RT-08).
      familyId: session.id,
    };
  },
} satisfies GrantHandler<WebGrantDeps>;

/**
 * Token exchange — RFC 8693 §2. A client the operator allows (the grant in its list, and its exchange
 * policy: audiences and scopes it may obtain) presents a subject token, Keymint's own or from an
 * issuer the operator trusts, and gets an access token for another audience with no more scope than
 * both the subject token and its policy allow (SECURITY TE-01, TE-02). With an `actor_token` the new
 * token names the actor in `act`, the subject token's own chain nested inside (TE-03); a subject
 * token's `may_act` limits who may be that actor (§4.4). A DPoP-bound subject token is exchanged only
 * with a proof by its key. No refresh token; confidential clients only.
 */
import { OAuthError } from '../wire/errors.ts';
import { requestedTargets } from '../protocol/audience.ts';
import type { GrantHandler } from '../protocol/grant.ts';
import { parseScope } from '../protocol/scope.ts';
import { TOKEN_TYPE, type Actor, type SubjectToken, type SubjectTokenReader } from '../protocol/subject-token.ts';

export interface TokenExchangeDeps {
  readonly subjectTokens: SubjectTokenReader;
}

const SUPPORTED = new Set<string>([TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt]);

const invalidRequest = (description: string, field: string, reason: 'missing' | 'malformed' = 'malformed') =>
  new OAuthError('invalid_request', description, { field, reason });
const invalidGrant = (field: string) => new OAuthError('invalid_grant', 'The token is invalid, expired or not accepted here.', { field });

export const tokenExchange = {
  type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  parameters: ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'],
  allowsPublicClients: false,
  async handle({ request, client, now, jkt, x5t }, deps: TokenExchangeDeps) {
    const p = request.params;
    // §2.1: subject_token and subject_token_type are required; actor_token_type goes with actor_token.
    if (p.subject_token === undefined) throw invalidRequest('The subject_token parameter is required.', 'subject_token', 'missing');
    if (p.subject_token_type === undefined) throw invalidRequest('The subject_token_type parameter is required.', 'subject_token_type', 'missing');
    if (!SUPPORTED.has(p.subject_token_type)) throw invalidRequest('The subject_token_type is not supported.', 'subject_token_type');
    if ((p.actor_token === undefined) !== (p.actor_token_type === undefined)) {
      throw invalidRequest('actor_token and actor_token_type go together.', p.actor_token === undefined ? 'actor_token' : 'actor_token_type', 'missing');
    }
    if (p.actor_token_type !== undefined && !SUPPORTED.has(p.actor_token_type)) throw invalidRequest('The actor_token_type is not supported.', 'actor_token_type');
    if (p.requested_token_type !== undefined && !SUPPORTED.has(p.requested_token_type)) {
      throw invalidRequest('The requested_token_type is not supported.', 'requested_token_type');
    }
    const requestedScopes = parseScope(p.scope);

    const subject = await deps.subjectTokens.read(p.subject_token, p.subject_token_type, now);
    if (!subject) throw invalidGrant('subject_token');
    // RFC 9449, RFC 8705 §3: a bound token is worth nothing without its key or certificate; the
    // exchange needs a proof by the key, or comes over the certificate (TE-04).
    const unproven = (t: SubjectToken) => (t.jkt !== undefined && t.jkt !== jkt) || (t.x5t !== undefined && t.x5t !== x5t);
    if (unproven(subject)) throw invalidGrant('subject_token');
    let actor: SubjectToken | undefined;
    if (p.actor_token !== undefined) {
      actor = await deps.subjectTokens.read(p.actor_token, p.actor_token_type!, now);
      if (!actor || unproven(actor)) throw invalidGrant('actor_token');
      const may = subject.mayAct;
      if (may && ((may.sub !== undefined && may.sub !== actor.subject) || (may.iss !== undefined && may.iss !== actor.issuer))) throw invalidGrant('actor_token');
    }

    // TE-02: the audiences the client's policy names; none requested: its first.
    const allowedAudiences = client.exchangeAudiences ?? [];
    const targets = requestedTargets(request);
    const audience = targets.length > 0 ? targets : allowedAudiences.slice(0, 1);
    if (audience.length === 0 || !audience.every((a) => allowedAudiences.includes(a))) {
      throw new OAuthError('invalid_target', 'The requested audience is not allowed for this client.', { field: targets.length > 0 ? 'audience' : 'resource' });
    }
    // TE-02: never more than the subject token has and the policy allows.
    const allowedScopes = new Set(client.exchangeScopes ?? []);
    const permitted = subject.scopes.filter((s) => allowedScopes.has(s));
    if (requestedScopes !== undefined && !requestedScopes.every((s) => permitted.includes(s))) {
      throw new OAuthError('invalid_scope', 'The requested scope exceeds what the subject token and this client allow.', { field: 'scope' });
    }
    const act = actor ? actorClaim(actor, subject.act) : subject.act;
    return {
      subject: subject.subject,
      ...(subject.subjectType === undefined ? {} : { subjectType: subject.subjectType }),
      scopes: requestedScopes ?? permitted,
      audience,
      refreshToken: false,
      familyId: null,
      ...(act === undefined ? {} : { act }),
      issuedTokenType: p.requested_token_type ?? TOKEN_TYPE.accessToken,
    };
  },
} satisfies GrantHandler<TokenExchangeDeps>;

/** §4.1: the current actor outermost, the chain the subject token carried nested inside it. */
function actorClaim(actor: SubjectToken, prior: Actor | undefined): Actor {
  return { sub: actor.subject, iss: actor.issuer, ...(prior ? { act: prior } : {}) };
}

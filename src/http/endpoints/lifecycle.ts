/**
 * Token life-cycle endpoints beside a dialect's token endpoint: introspection (RFC 7662), revocation
 * (RFC 7009) and the revocation feed for resource servers. Bodies are decoded by the dialect (the
 * same wire rules as its token endpoint) and the caller authenticates as it would there.
 */
import type { Dialect } from '../../dialects/types.ts';
import { presentedClient } from '../../dialects/codec/client.ts';
import { authenticateClient, type ClientAuthDeps, type PresentedClient } from '../../protocol/client-auth/index.ts';
import { introspect, introspectionJwt, INTROSPECTION_JWT, type IntrospectionDeps } from '../../protocol/introspection.ts';
import { revoke, type RevocationDeps } from '../../protocol/revocation.ts';
import type { Store } from '../../storage/types.ts';
import { OAuthError } from '../../wire/errors.ts';
import { prefersAlternative } from '../../wire/accept.ts';
import { json, NO_STORE, type HttpRequest } from '../../wire/http.ts';
import { REVOCATIONS_SCOPE } from '../../wire/scope.ts';
import type { Operation } from '../pipeline.ts';

export interface LifecycleDeps extends IntrospectionDeps, RevocationDeps, ClientAuthDeps {
  readonly store: Pick<Store, 'tokens' | 'consents' | 'audit'>;
  readonly settings: IntrospectionDeps['settings'] & ClientAuthDeps['settings'];
  readonly keyring: IntrospectionDeps['keyring'];
}

interface TokenCall {
  readonly client: PresentedClient;
  readonly token: string | undefined;
}

const FEED_PAGE = 1000;

/** Decodes like a token request; the caller authenticates, then the `token` parameter is required. */
function tokenCall(dialect: Dialect) {
  return {
    decode: (req: HttpRequest): TokenCall => {
      const decoded = dialect.decode(req);
      return { client: decoded.client, token: decoded.params.token };
    },
    presented: (call: TokenCall) => ({ clientId: call.client.clientId }),
  };
}

async function authenticated(call: TokenCall, deps: LifecycleDeps, allowPublic: boolean) {
  const { client } = await authenticateClient(call.client, deps, { allowPublic });
  if (call.token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.', { field: 'token', reason: 'missing' });
  return { client, token: call.token };
}

interface IntrospectCall extends TokenCall {
  /** The caller asked for a JWT (RFC 9701 §4) and the dialect answers with one. */
  readonly jwt: boolean;
}

/** The answer as JSON, or as a JWT (RFC 9701) for a caller that asked for one. */
type Introspected = { readonly answer: Record<string, unknown> } | { readonly jwt: string };

/**
 * RFC 7662: confidential callers only (I-02), who learn only about their own tokens and, as resource
 * servers, other clients' access tokens for their audiences (I-05, I-17). A
 * dialect that speaks RFC 9701 reads `Accept` (wire/accept.ts has the rule) and says so in `Vary`, on
 * both answers; any other ignores it, its answers unchanged. Errors stay the dialect's JSON.
 */
export function introspectOperation(dialect: Dialect, deps: LifecycleDeps): Operation<IntrospectCall, Introspected> {
  const { decode, presented } = tokenCall(dialect);
  const negotiated = dialect.jwtIntrospection === true ? { ...NO_STORE, Vary: 'Accept' } : NO_STORE;
  return {
    name: 'introspect',
    decode: (req) => ({ ...decode(req), jwt: dialect.jwtIntrospection === true && prefersAlternative(req.headers.accept, INTROSPECTION_JWT, 'application/json') }),
    presented,
    async run(call, now) {
      const { client, token } = await authenticated(call, deps, false);
      const answer = await introspect(token, client, now, deps);
      return call.jwt ? { jwt: introspectionJwt(answer, client, now, deps) } : { answer };
    },
    encode: (out) =>
      'jwt' in out
        ? { status: 200, headers: { 'Content-Type': INTROSPECTION_JWT, ...negotiated }, body: out.jwt }
        : (dialect.encodeIntrospection?.(out.answer) ?? json(200, out.answer, negotiated)),
  };
}

/** RFC 7009: public clients may revoke their own tokens too. */
export function revokeOperation(dialect: Dialect, deps: LifecycleDeps): Operation<TokenCall, void> {
  return {
    name: 'revoke',
    ...tokenCall(dialect),
    async run(call, now) {
      const { client, token } = await authenticated(call, deps, true);
      await revoke(token, client, now, deps);
    },
    encode: () => dialect.encodeRevocation?.() ?? { status: 200, headers: { ...NO_STORE }, body: '' },
  };
}

interface FeedCall {
  readonly client: PresentedClient;
  readonly after: readonly string[];
}

/**
 * Revoked JWT ids for resource servers, paged by cursor; client credentials by Basic (a GET has no
 * body), of a client registered with `keymint:revocations` (SECURITY ADM-04): 403 for any other.
 */
export function revocationsOperation(deps: LifecycleDeps): Operation<FeedCall, Awaited<ReturnType<Store['tokens']['revocations']>>> {
  return {
    name: 'revocations',
    decode: (req) => ({ client: presentedClient(req, {}), after: new URLSearchParams(req.query).getAll('after') }),
    presented: (call) => ({ clientId: call.client.clientId }),
    async run({ client, after }) {
      const { client: caller } = await authenticateClient(client, deps, { allowPublic: false });
      if (!caller.scopes.includes(REVOCATIONS_SCOPE)) {
        throw new OAuthError('unauthorized_client', `The client may not read the revocation feed: it needs the ${REVOCATIONS_SCOPE} scope.`, { status: 403 });
      }
      if (after.length > 1 || (after[0] !== undefined && !/^\d{1,15}$/.test(after[0]))) {
        throw new OAuthError('invalid_request', 'The after parameter must be a cursor from a previous answer.', { field: 'after', reason: 'malformed' });
      }
      return deps.store.tokens.revocations(after[0], FEED_PAGE);
    },
    encode: (page) => json(200, { revocations: page.revocations.map((r) => ({ jti: r.jti, exp: Math.floor(r.expiresAt / 1000) })), cursor: page.cursor }, NO_STORE),
  };
}

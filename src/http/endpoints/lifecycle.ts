/**
 * Token life-cycle endpoints beside a dialect's token endpoint: introspection (RFC 7662), revocation
 * (RFC 7009) and the revocation feed for resource servers. Bodies are decoded by the dialect (the
 * same wire rules as its token endpoint) and the caller authenticates as it would there.
 */
import type { Dialect } from '../../dialects/types.ts';
import { presentedClient } from '../../dialects/codec/client.ts';
import { authenticateClient, type ClientAuthDeps, type PresentedClient } from '../../protocol/client-auth/index.ts';
import { introspect, type IntrospectionDeps } from '../../protocol/introspection.ts';
import { revoke, type RevocationDeps } from '../../protocol/revocation.ts';
import type { Store } from '../../storage/types.ts';
import { OAuthError } from '../../wire/errors.ts';
import { json, NO_STORE, type HttpRequest } from '../../wire/http.ts';
import { REVOCATIONS_SCOPE } from '../../wire/scope.ts';
import type { Operation } from '../pipeline.ts';

export interface LifecycleDeps extends IntrospectionDeps, RevocationDeps, ClientAuthDeps {
  readonly store: Pick<Store, 'tokens' | 'consents' | 'audit'>;
  readonly settings: IntrospectionDeps['settings'] & ClientAuthDeps['settings'];
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

/** RFC 7662: confidential callers only (I-02), who learn only about their own tokens (I-05). */
export function introspectOperation(dialect: Dialect, deps: LifecycleDeps): Operation<TokenCall, Record<string, unknown>> {
  return {
    name: 'introspect',
    ...tokenCall(dialect),
    async run(call, now) {
      const { client, token } = await authenticated(call, deps, false);
      return introspect(token, client, now, deps);
    },
    encode: (answer) => dialect.encodeIntrospection?.(answer) ?? json(200, answer, NO_STORE),
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

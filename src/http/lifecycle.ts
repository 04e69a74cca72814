/**
 * Token life-cycle endpoints beside a dialect's token endpoint: introspection (RFC 7662),
 * revocation (RFC 7009), userinfo (OIDC Core §5.3) and the revocation feed for resource servers.
 * Bodies are decoded by the dialect (same wire rules as its token endpoint), errors encoded by it.
 */
import type { Dialect } from '../dialects/types.ts';
import { presentedClient } from '../dialects/codec/client.ts';
import { authenticateClient, type ClientAuthSettings, type ClientVerifier } from '../protocol/client-auth.ts';
import { OAuthError, toOAuthError } from '../wire/errors.ts';
import { introspect, type IntrospectionDeps } from '../protocol/introspection.ts';
import { revoke, type RevocationDeps } from '../protocol/revocation.ts';
import { viewToken } from '../protocol/token-view.ts';
import type { Store } from '../storage/types.ts';
import type { Logger } from '../util/log.ts';
import type { PresentedClient } from '../protocol/token-request.ts';
import type { TokenEndpointOptions } from './token-endpoint.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Route } from './router.ts';

export interface LifecycleDeps extends IntrospectionDeps, RevocationDeps {
  readonly store: Pick<Store, 'tokens'>;
  readonly verifier: ClientVerifier;
  readonly settings: ClientAuthSettings & { readonly issuer: string };
  readonly now: () => number;
}

const FEED_PAGE = 1000;

/**
 * `options` carries the token endpoint's limiter: the same per-address limit, lockout and
 * failure counting guard every secret-checking endpoint (SECURITY A-08, I-07).
 */
export function lifecycleRoutes(dialect: Dialect, tokenPath: string, deps: LifecycleDeps, log: Logger, options: TokenEndpointOptions = {}): Route[] {
  const dir = tokenPath.slice(0, tokenPath.lastIndexOf('/'));
  const wanted = new Set(dialect.endpoints ?? []);
  const routes: Route[] = [];
  const guarded = (handler: (req: HttpRequest) => Promise<HttpResponse>) => async (req: HttpRequest) => {
    try {
      return await handler(req);
    } catch (thrown) {
      const err = toOAuthError(thrown);
      if (err.status >= 500) log.error('token life-cycle request failed', { dialect: dialect.name, path: req.path, code: err.code, err: err.cause ?? thrown });
      return dialect.encodeError(err, req);
    }
  };
  const post = (name: string, handler: (req: HttpRequest) => Promise<HttpResponse>): Route => ({
    method: 'POST',
    path: `${dir}/${name}`,
    owner: dialect.name,
    handler: guarded(handler),
    methodNotAllowed: (req) => dialect.encodeError(new OAuthError('method_not_allowed', 'This endpoint accepts only POST.', { reason: 'method' }), req),
    unavailable: (req, retryAfter) =>
      dialect.encodeError(new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable.', { reason: 'overloaded', retryAfter }), req),
  });
  /** Client authentication behind the limiter: address limit, lockout, failures counted. */
  const authenticate = async (req: HttpRequest, presented: PresentedClient, allowPublic: boolean) => {
    const { limiter } = options;
    const ip = options.clientIp ? options.clientIp(req) : req.ip;
    if (limiter) await limiter.admitAddress(ip);
    const clientId = presented.clientId;
    if (limiter && clientId !== undefined) await limiter.checkLockout(clientId, ip);
    try {
      return await authenticateClient(presented, deps.verifier, deps.settings, { allowPublic });
    } catch (err) {
      if (limiter && clientId !== undefined && err instanceof OAuthError && err.code === 'invalid_client' && err.reason === 'credentials') {
        await limiter.recordFailure(clientId, ip);
      }
      throw err;
    }
  };
  /** Decodes the body like a token request, authenticates the caller, and reads the `token` parameter. */
  const caller = async (req: HttpRequest, allowPublic: boolean) => {
    const decoded = dialect.decode(req);
    const client = await authenticate(req, decoded.client, allowPublic);
    const token = decoded.params.token;
    if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.', { field: 'token', reason: 'missing' });
    return { client, token };
  };

  if (wanted.has('introspect')) {
    // RFC 7662 §2.1: the caller must be authorized (I-02): confidential clients only.
    routes.push(post('introspect', async (req) => {
      const { client, token } = await caller(req, false);
      return json(200, await introspect(token, client, deps.now(), deps), NO_STORE);
    }));
  }
  if (wanted.has('revoke')) {
    routes.push(post('revoke', async (req) => {
      const { client, token } = await caller(req, true);
      await revoke(token, client, deps.now(), deps);
      return { status: 200, headers: { ...NO_STORE }, body: '' };
    }));
  }
  if (wanted.has('userinfo')) {
    routes.push({ method: 'GET', path: `${dir}/userinfo`, owner: dialect.name, handler: (req) => userinfo(req, deps) });
  }
  if (wanted.has('revocations')) {
    routes.push({
      method: 'GET',
      path: `${dir}/revocations`,
      owner: dialect.name,
      handler: guarded(async (req) => {
        // Client credentials by Basic (a GET has no body to carry them).
        await authenticate(req, presentedClient(req, {}), false);
        const after = new URLSearchParams(req.query).getAll('after');
        if (after.length > 1 || (after[0] !== undefined && !/^\d{1,15}$/.test(after[0]))) {
          throw new OAuthError('invalid_request', 'The after parameter must be a cursor from a previous answer.', { field: 'after', reason: 'malformed' });
        }
        const page = await deps.store.tokens.revocations(after[0], FEED_PAGE);
        return json(200, { revocations: page.revocations.map((r) => ({ jti: r.jti, exp: Math.floor(r.expiresAt / 1000) })), cursor: page.cursor }, NO_STORE);
      }),
    });
  }
  return routes;
}

/** OIDC Core §5.3 with RFC 6750 §3 errors: bearer access token of a user-delegated grant → its subject. */
async function userinfo(req: HttpRequest, deps: LifecycleDeps): Promise<HttpResponse> {
  const realm = 'Bearer realm="keymint"';
  const header = req.headersDistinct.authorization;
  if (!header || header.length === 0) return json(401, { error: 'invalid_token', error_description: 'A bearer token is required.' }, { ...NO_STORE, 'WWW-Authenticate': realm });
  const match = header.length === 1 ? /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header[0]!) : null;
  if (!match || new URLSearchParams(req.query).has('access_token')) {
    return json(400, { error: 'invalid_request', error_description: 'The Authorization header is malformed.' }, { ...NO_STORE, 'WWW-Authenticate': `${realm}, error="invalid_request"` });
  }
  const view = await viewToken(match[1]!, deps.now(), deps);
  if (!view || !view.active || view.kind !== 'access_token' || view.subjectType === undefined) {
    return json(401, { error: 'invalid_token', error_description: 'The access token is invalid.' }, { ...NO_STORE, 'WWW-Authenticate': `${realm}, error="invalid_token"` });
  }
  return json(200, { sub: view.subject, sub_type: view.subjectType }, NO_STORE);
}

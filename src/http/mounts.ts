/**
 * Mounting a dialect: its token endpoint at the configured path and, in the same directory (the
 * mount), the endpoints its contract includes, its OpenAPI document, and its error shape for every
 * answer the router gives there. Each dialect endpoint runs through the one pipeline.
 */
import type { Dialect } from '../dialects/types.ts';
import { openApiDocument } from '../dialects/openapi.ts';
import type { ExchangeDeps, TokenEndpoint } from '../protocol/exchange.ts';
import type { BoundGrant } from '../protocol/grant.ts';
import { DEVICE_CODE_GRANT } from '../protocol/device.ts';
import type { IssueFormats } from '../protocol/issue.ts';
import type { TokenViewDeps } from '../protocol/token-view.ts';
import type { Logger } from '../util/log.ts';
import { authorizeRoutes, limitedPage, type AuthorizeDeps } from './authorize.ts';
import { deviceAuthorizationOperation, verificationRoutes, type DeviceEndpointDeps, type VerificationDeps } from './device.ts';
import { introspectOperation, revocationsOperation, revokeOperation, type LifecycleDeps } from './endpoints/lifecycle.ts';
import { parOperation, type ParDeps } from './endpoints/par.ts';
import { logoutRoutes, type LogoutEndpointDeps } from './logout.ts';
import { tokenOperation } from './endpoints/token.ts';
import { userinfo } from './endpoints/userinfo.ts';
import { pipeline, type PipelineContext } from './pipeline.ts';
import { PUBLIC_DOCUMENT, type Route, type Router } from './router.ts';

export interface MountDeps {
  /** Every registered grant, bound; a dialect offers those it names. */
  readonly grants: ReadonlyMap<string, BoundGrant>;
  /** The formats a dialect's declarations resolve to. */
  readonly formats: (dialect: Dialect) => IssueFormats;
  readonly exchange: ExchangeDeps;
  readonly lifecycle: LifecycleDeps & TokenViewDeps;
  readonly authorize: AuthorizeDeps;
  readonly par: ParDeps;
  /** The device authorization endpoint and its verification page (RFC 8628). */
  readonly device: DeviceEndpointDeps & VerificationDeps;
  /** The end-session endpoint (OIDC RP-Initiated Logout), beside the authorization endpoint. */
  readonly logout: LogoutEndpointDeps;
  readonly pipeline: PipelineContext;
  readonly issuer: string;
  readonly log: Logger;
}

/** The grants a dialect offers, from the registry; a name the registry lacks is a startup error. */
export function offeredGrants(dialect: Dialect, registry: ReadonlyMap<string, BoundGrant>): ReadonlyMap<string, BoundGrant> {
  if (dialect.grants === 'all') return registry;
  return new Map(
    dialect.grants.map((type) => {
      const grant = registry.get(type);
      if (!grant) throw new Error(`dialect ${dialect.name} offers the unknown grant ${type}`);
      return [type, grant];
    }),
  );
}

export function mountDialect(router: Router, dialect: Dialect, tokenPath: string, deps: MountDeps): void {
  const dir = tokenPath.slice(0, tokenPath.lastIndexOf('/'));
  const owner = dialect.name;
  const api = clientEndpoints(dialect, tokenPath, deps, deps.issuer);
  for (const r of api.routes) router.add(r);
  router.mount(`${dir}/`, owner, (err, req) => dialect.encodeError(err, req));
  const wanted = new Set(dialect.endpoints ?? []);
  if (wanted.has('revocations')) router.add({ method: 'GET', path: `${dir}/revocations`, owner, handler: pipeline(dialect, revocationsOperation(deps.lifecycle), deps.pipeline) });
  const { limiter, clientIp } = deps.pipeline;
  const page = limitedPage(limiter && ((req) => limiter.admitAddress(clientIp(req))));
  if (wanted.has('authorize')) {
    const authorize = { ...deps.authorize, ignoresDpopJkt: !dialect.dpop, ignoresResponseMode: dialect.jwtResponseModes !== true };
    for (const r of authorizeRoutes(owner, `${dir}/authorize`, authorize, deps.log)) router.add(page(r));
  }
  // OIDC RP-Initiated Logout 1.0: the end of the session the authorization endpoint reads (a browser page, not CORS).
  if (wanted.has('authorize') && wanted.has('end_session')) for (const r of logoutRoutes(owner, `${dir}/logout`, deps.logout, deps.log)) router.add(page(r));
  // RFC 8628: the verification page is the user's, in a browser, with the platform session (not CORS).
  if (api.deviceAuthorizationPath) for (const r of verificationRoutes(owner, `${dir}/device`, deps.device, deps.log)) router.add(page(r));
  const { parPath, deviceAuthorizationPath } = api;
  const doc = JSON.stringify(openApiDocument(dialect, { tokenPath, serverUrl: deps.issuer, grants: [...api.grants.values()], parPath, deviceAuthorizationPath }));
  router.add({ method: 'GET', path: `${tokenPath}/openapi.json`, owner, cors: 'document', handler: () => ({ status: 200, headers: { 'Content-Type': 'application/json', ...PUBLIC_DOCUMENT }, body: doc }) });
}

/**
 * A mount's endpoints on the mutual-TLS listener (RFC 8705 §5): those that take client
 * authentication or a bound token, at the same paths, answering for `base` (the listener's URL: the
 * `htu` of DPoP proofs sent there). Nothing a browser navigates to.
 */
export function mountMtlsAliases(router: Router, dialect: Dialect, tokenPath: string, deps: MountDeps, base: string): void {
  for (const r of clientEndpoints(dialect, tokenPath, deps, base).routes) router.add(r);
  router.mount(`${tokenPath.slice(0, tokenPath.lastIndexOf('/'))}/`, dialect.name, (err, req) => dialect.encodeError(err, req));
}

/**
 * The mount's endpoints that take client authentication or a bound token (RFC 8705 §5's list, those
 * Keymint has: token, introspection, revocation, userinfo, PAR, device authorization), each answering
 * for `base` + its path.
 */
function clientEndpoints(dialect: Dialect, tokenPath: string, deps: MountDeps, base: string) {
  const dir = tokenPath.slice(0, tokenPath.lastIndexOf('/'));
  const endpoint: TokenEndpoint = { name: dialect.name, url: `${base}${tokenPath}`, grants: offeredGrants(dialect, deps.grants), formats: deps.formats(dialect) };
  const owner = dialect.name;
  const routes: Route[] = [];
  // The token, revocation and userinfo endpoints take calls from browser-based clients on other
  // origins (CORS); introspection, for resource servers, does not.
  routes.push({ method: 'POST', path: tokenPath, owner, label: 'The token endpoint', cors: true, handler: pipeline(dialect, tokenOperation(dialect, endpoint, deps.exchange), deps.pipeline) });
  const wanted = new Set(dialect.endpoints ?? []);
  if (wanted.has('introspect')) routes.push({ method: 'POST', path: `${dir}/introspect`, owner, handler: pipeline(dialect, introspectOperation(dialect, deps.lifecycle), deps.pipeline) });
  if (wanted.has('revoke')) routes.push({ method: 'POST', path: `${dir}/revoke`, owner, cors: true, handler: pipeline(dialect, revokeOperation(dialect, deps.lifecycle), deps.pipeline) });
  const userinfoUrl = `${base}${dir}/userinfo`;
  const userinfoDeps = { ...deps.lifecycle, dpop: deps.exchange.dpop };
  // OIDC Core §5.3.1: GET and POST (B-06).
  if (wanted.has('userinfo')) for (const method of ['GET', 'POST']) routes.push({ method, path: `${dir}/userinfo`, owner, cors: true, handler: (req) => userinfo(req, userinfoUrl, deps.pipeline.now(), userinfoDeps) });
  // RFC 9126: beside the authorization endpoint; browser-based (public) clients push from their page.
  const parPath = wanted.has('authorize') && wanted.has('par') ? `${dir}/par` : undefined;
  if (parPath) routes.push({ method: 'POST', path: parPath, owner, cors: true, handler: pipeline(dialect, parOperation(dialect, `${base}${parPath}`, deps.par), deps.pipeline) });
  // RFC 8628: the device authorization endpoint takes client authentication as the token endpoint
  // does; the verification page it names is the user's, on the issuer's host whatever `base` is.
  const deviceAuthorizationPath = wanted.has('device_authorization') && endpoint.grants.has(DEVICE_CODE_GRANT) ? `${dir}/device_authorization` : undefined;
  if (deviceAuthorizationPath) {
    routes.push({ method: 'POST', path: deviceAuthorizationPath, owner, handler: pipeline(dialect, deviceAuthorizationOperation(dialect, `${deps.issuer}${dir}/device`, deps.device), deps.pipeline) });
  }
  return { routes, grants: endpoint.grants, parPath, deviceAuthorizationPath };
}

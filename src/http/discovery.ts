/**
 * JWKS, authorization-server metadata (RFC 8414) and OpenID discovery, plus health endpoints.
 * Metadata advertises only what the server does (SECURITY M-09).
 */
import type { Keyring } from '../tokens/keyring.ts';
import { json, type HttpResponse, type Route } from './types.ts';

export interface DiscoverySettings {
  readonly issuer: string;
  /** Path of the mounted `oauth2` token endpoint, if the standard dialect is mounted. */
  readonly tokenPath: string | undefined;
  readonly grantTypes: readonly string[];
  readonly alg: string;
}

export function metadata(settings: DiscoverySettings): Record<string, unknown> {
  const { issuer } = settings;
  const doc: Record<string, unknown> = { issuer, jwks_uri: `${issuer}/oauth2/jwks` };
  if (settings.tokenPath !== undefined) {
    doc.token_endpoint = `${issuer}${settings.tokenPath}`;
    doc.grant_types_supported = [...settings.grantTypes];
    doc.token_endpoint_auth_methods_supported = ['client_secret_basic', 'client_secret_post'];
  }
  doc.access_token_signing_alg_values_supported = [settings.alg];
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

export function discoveryRoutes(settings: DiscoverySettings, keyring: Pick<Keyring, 'jwksJson'>): Route[] {
  const cacheable = { 'Cache-Control': 'public, max-age=300' };
  const serveMetadata = (): HttpResponse => json(200, metadata(settings), cacheable);
  const issuerPath = new URL(settings.issuer).pathname.replace(/\/$/, '');
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/oauth2/jwks',
      owner: 'core',
      handler: () => ({
        status: 200,
        // Short max-age: a verifier sees a newly published `next` key well before it signs.
        headers: { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'public, max-age=60' },
        body: keyring.jwksJson(),
      }),
    },
    { method: 'GET', path: '/.well-known/oauth-authorization-server', owner: 'core', handler: serveMetadata },
    { method: 'GET', path: '/.well-known/openid-configuration', owner: 'core', handler: serveMetadata },
    { method: 'GET', path: '/healthz', owner: 'core', handler: () => json(200, { status: 'ok' }, { 'Cache-Control': 'no-store' }) },
  ];
  if (issuerPath !== '') {
    // RFC 8414 §3: metadata of an issuer with a path is at /.well-known/oauth-authorization-server<path> (SECURITY M-01).
    routes.push({ method: 'GET', path: `/.well-known/oauth-authorization-server${issuerPath}`, owner: 'core', handler: serveMetadata });
    routes.push({ method: 'GET', path: `${issuerPath}/.well-known/openid-configuration`, owner: 'core', handler: serveMetadata });
  }
  return routes;
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells a client (an MCP client,
 * for one) which authorization server issues tokens for this resource, and how to send them.
 * Served at `/.well-known/oauth-protected-resource` with the resource's path appended (§3.1), named
 * in every 401 challenge as `resource_metadata` (§5.1).
 */
import { checkRealm } from './challenge.ts';
import type { Verifier } from './verifier.ts';

export interface ResourceMetadataOptions {
  /** This resource's identifier: an https URL without query or fragment (§2), e.g. `https://api.example.com/mcp`. */
  readonly resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for it. */
  readonly authorizationServers: readonly string[];
  readonly scopesSupported?: readonly string[];
  /** Human-readable name (`resource_name`). */
  readonly resourceName?: string;
  /** A page for developers (`resource_documentation`). */
  readonly resourceDocumentation?: string;
}

export interface ResourceMetadata {
  /** Path the document is served at. */
  readonly path: string;
  /** Absolute URL of the document, the `resource_metadata` of challenges. */
  readonly url: string;
  /** The 200 answer to `GET path`. */
  readonly response: { readonly status: 200; readonly headers: Readonly<Record<string, string>>; readonly body: string };
  /**
   * The 204 answer to a CORS preflight (`OPTIONS path`): a client in a web page on another origin
   * reads the document with headers of its own (the MCP SDK sends `MCP-Protocol-Version`), so its
   * browser asks first.
   */
  readonly preflight: { readonly status: 204; readonly headers: Readonly<Record<string, string>>; readonly body: '' };
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Builds the document once; the verifier says whether DPoP is on and with which algorithms. */
export function resourceMetadata(options: ResourceMetadataOptions, verifier: Pick<Verifier, 'dpopAlgorithms' | 'dpopRequired'>): ResourceMetadata {
  const resource = URL.parse(options.resource);
  if (!resource || resource.search !== '' || resource.hash !== '' || !/^https?:$/.test(resource.protocol)) {
    throw new TypeError('resourceMetadata: resource is an http(s) URL without query or fragment');
  }
  for (const issuer of options.authorizationServers) if (!URL.canParse(issuer)) throw new TypeError('resourceMetadata: authorizationServers are URLs');
  const suffix = resource.pathname === '/' ? '' : resource.pathname;
  const path = `${WELL_KNOWN}${suffix}`;
  const url = checkRealm(`${resource.origin}${path}`, 'resource');
  const document = {
    resource: options.resource,
    authorization_servers: options.authorizationServers,
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported ? { scopes_supported: options.scopesSupported } : {}),
    ...(verifier.dpopAlgorithms ? { dpop_signing_alg_values_supported: verifier.dpopAlgorithms } : {}),
    ...(verifier.dpopRequired ? { dpop_bound_access_tokens_required: true } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation ? { resource_documentation: options.resourceDocumentation } : {}),
  };
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' };
  // `*` allows any request header to a request without credentials, as every one here is.
  const preflight = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*', 'Access-Control-Max-Age': '600' };
  return { path, url, response: { status: 200, headers, body: JSON.stringify(document) }, preflight: { status: 204, headers: preflight, body: '' } };
}

/**
 * OpenAPI 3.1 document of one mounted dialect, generated from its contract (never written by hand):
 * its token endpoint and the endpoints beside it that the mount serves and that take API calls (the
 * pushed authorization request and device authorization endpoints; the browser pages are not APIs).
 */
import type { BoundGrant } from '../protocol/grant.ts';
import { DEVICE_AUTHORIZATION_ENDPOINT, PAR_ENDPOINT, sideRequestBody, type SideEndpoint } from './openapi-endpoints.ts';
import type { Dialect, JsonSchema } from './types.ts';

export interface OpenApiMount {
  readonly tokenPath: string;
  readonly serverUrl: string;
  /**
   * The grants the token endpoint offers: their types fill a `grant_type` property that lists none,
   * and the parameters they read join that body's properties.
   */
  readonly grants: readonly Pick<BoundGrant, 'type' | 'parameters'>[];
  /** Where the mount serves the pushed authorization request endpoint (RFC 9126), when it does. */
  readonly parPath?: string;
  /** Where the mount serves the device authorization endpoint (RFC 8628), when it does. */
  readonly deviceAuthorizationPath?: string;
}

const NO_STORE_HEADERS = { 'Cache-Control': { schema: { const: 'no-store' } }, Pragma: { schema: { const: 'no-cache' } } };

export function openApiDocument(dialect: Dialect, mount: OpenApiMount): Record<string, unknown> {
  const c = dialect.contract;
  const withGrants = (schema: JsonSchema): JsonSchema => {
    const properties = schema.properties as Record<string, JsonSchema> | undefined;
    const grantType = properties?.grant_type;
    if (!properties || !grantType || 'enum' in grantType || 'const' in grantType) return schema;
    const readers = new Map<string, string[]>();
    for (const g of mount.grants) for (const p of g.parameters) if (!(p in properties)) readers.set(p, [...(readers.get(p) ?? []), g.type]);
    const added = Object.fromEntries([...readers].map(([p, types]) => [p, { type: 'string', description: `Read by the grant${types.length > 1 ? 's' : ''} ${types.join(', ')}.` }]));
    return { ...schema, properties: { ...properties, grant_type: { ...grantType, enum: mount.grants.map((g) => g.type) }, ...added } };
  };
  const errorResponses = (badRequest: string): Record<string, unknown> => {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries({ ...c.errorStatuses, ...(badRequest === '' ? {} : { 400: badRequest }) })) {
      const headers: Record<string, unknown> = { ...NO_STORE_HEADERS };
      if (status === '429' || status === '503') headers['Retry-After'] = { schema: { type: 'integer' } };
      if (status === '429') for (const h of c.rateLimitHeaders ?? []) headers[h] = { schema: { type: 'integer' } };
      responses[status] = { description, headers, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    return responses;
  };
  const security = c.basicAuth ? { security: [{ basic: [] }, {}] } : { security: [{}] };
  const paths: Record<string, unknown> = {
    [mount.tokenPath]: {
      post: {
        operationId: `${dialect.name}.token`,
        summary: c.summary,
        ...(c.requestHeaders
          ? { parameters: Object.entries(c.requestHeaders).map(([name, h]) => ({ in: 'header', name, required: h.required, description: h.description, schema: h.schema })) }
          : {}),
        requestBody: {
          required: true,
          content: Object.fromEntries(Object.entries(c.requestBodies).map(([type, schema]) => [type, { schema: withGrants(schema) }])),
        },
        responses: {
          200: { description: 'Token issued', headers: NO_STORE_HEADERS, content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } } },
          ...errorResponses(''),
        },
        ...security,
      },
    },
  };
  const schemas: Record<string, JsonSchema> = { TokenResponse: c.success, Error: c.error };
  const side = (path: string | undefined, endpoint: SideEndpoint) => {
    if (path === undefined) return;
    // The codec reads these bodies as it reads the token endpoint's; a DPoP proof where the endpoint uses one (PAR).
    const headers = [
      ...(c.requestHeaders?.['Content-Type'] ? [{ in: 'header', name: 'Content-Type', ...c.requestHeaders['Content-Type'] }] : []),
      ...(endpoint.dpopHeader && dialect.dpop ? [{ in: 'header', name: 'DPoP', ...endpoint.dpopHeader }] : []),
    ];
    paths[path] = {
      post: {
        operationId: `${dialect.name}.${endpoint.id}`,
        summary: endpoint.summary,
        ...(headers.length > 0 ? { parameters: headers } : {}),
        requestBody: {
          required: true,
          content: Object.fromEntries(Object.entries(c.requestBodies).map(([type, schema]) => [type, { schema: sideRequestBody(endpoint, schema) }])),
        },
        responses: {
          [endpoint.status]: { description: endpoint.description, headers: NO_STORE_HEADERS, content: { 'application/json': { schema: { $ref: `#/components/schemas/${endpoint.schemaName}` } } } },
          ...errorResponses(endpoint.badRequest),
        },
        ...security,
      },
    };
    schemas[endpoint.schemaName] = endpoint.success;
  };
  side(mount.parPath, PAR_ENDPOINT);
  side(mount.deviceAuthorizationPath, DEVICE_AUTHORIZATION_ENDPOINT);
  return {
    openapi: '3.1.0',
    info: { title: `${c.title} (Keymint dialect ${dialect.name})`, version: '1', summary: c.summary },
    servers: [{ url: mount.serverUrl }],
    paths,
    components: {
      schemas,
      ...(c.basicAuth ? { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } } : {}),
    },
  };
}

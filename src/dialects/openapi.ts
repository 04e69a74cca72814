/** OpenAPI 3.1 document of one mounted dialect, generated from its contract (never written by hand). */
import type { Dialect, JsonSchema } from './types.ts';

/** `grants`: the grant types this mount offers, filled into a `grant_type` property that lists none. */
export function openApiDocument(dialect: Dialect, path: string, serverUrl: string, grants: readonly string[]): Record<string, unknown> {
  const c = dialect.contract;
  const withGrants = (schema: JsonSchema): JsonSchema => {
    const properties = schema.properties as Record<string, JsonSchema> | undefined;
    const grantType = properties?.grant_type;
    if (!grantType || 'enum' in grantType || 'const' in grantType) return schema;
    return { ...schema, properties: { ...properties, grant_type: { ...grantType, enum: [...grants] } } };
  };
  const errorResponse = (description: string) => ({
    description,
    headers: { 'Cache-Control': { schema: { const: 'no-store' } }, Pragma: { schema: { const: 'no-cache' } } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const responses: Record<string, unknown> = {
    200: {
      description: 'Token issued',
      headers: { 'Cache-Control': { schema: { const: 'no-store' } }, Pragma: { schema: { const: 'no-cache' } } },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
    },
  };
  for (const [status, description] of Object.entries(c.errorStatuses)) {
    const r = errorResponse(description) as { headers: Record<string, unknown> };
    if (status === '429' || status === '503') r.headers['Retry-After'] = { schema: { type: 'integer' } };
    if (status === '429') for (const h of c.rateLimitHeaders ?? []) r.headers[h] = { schema: { type: 'integer' } };
    responses[status] = r;
  }
  return {
    openapi: '3.1.0',
    info: { title: `${c.title} (Keymint dialect ${dialect.name})`, version: '1', summary: c.summary },
    servers: [{ url: serverUrl }],
    paths: {
      [path]: {
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
          responses,
          ...(c.basicAuth ? { security: [{ basic: [] }, {}] } : { security: [{}] }),
        },
      },
    },
    components: {
      schemas: { TokenResponse: c.success, Error: c.error },
      ...(c.basicAuth ? { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } } : {}),
    },
  };
}

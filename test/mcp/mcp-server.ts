/**
 * An MCP server as a platform would run one (its own process): the official SDK's server on
 * node:http, every request guarded by keymint/verify (bearer tokens for this resource from the
 * issuer in ISSUER, RFC 9728 metadata served and named in challenges). One tool, `whoami`, answers
 * with the token's subject, client and scope. Prints `{"url": …}` on stdout once listening.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createVerifier, protectNode } from '../../src/verify/index.ts';

// Picked up bare by a test runner given a list of files (no ISSUER), it has nothing to serve: not a failure.
if (process.env.ISSUER === undefined && process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);
const issuer = process.env.ISSUER!;
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;

const verifier = createVerifier({ issuer, audience: resource, jwksUri: `${issuer}/oauth2/jwks`, requiredScopes: ['mcp:tools'] });
const guard = protectNode(verifier, { realm: 'mcp', resourceMetadata: { resource, authorizationServers: [issuer], scopesSupported: ['mcp:tools'], resourceName: 'Keymint test MCP server' } });

server.on('request', async (req: IncomingMessage & { auth?: { token: string; clientId: string; scopes: string[]; extra: Record<string, unknown> } }, res) => {
  const claims = await guard(req, res);
  if (!claims) return;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  req.auth = { token: '', clientId: String(claims.client_id), scopes: String(claims.scope ?? '').split(' '), extra: { sub: claims.sub } };
  // Stateless: a server and a transport per request.
  const mcp = new McpServer({ name: 'keymint-test', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'Who the access token names' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ sub: extra.authInfo?.extra?.sub, client_id: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes }) }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
});

process.stdout.write(`${JSON.stringify({ url: resource })}\n`);

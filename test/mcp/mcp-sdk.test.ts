/**
 * Keymint as the authorization server of an MCP server, in real processes: `keymint serve`, an MCP
 * server protected by keymint/verify (test/mcp/mcp-server.ts), and the official MCP SDK client
 * running its own OAuth flow from the first 401 to a tool call: protected-resource metadata (RFC
 * 9728), authorization-server metadata, a client ID metadata document (served over https, as the
 * draft requires) or dynamic registration, PKCE, the resource indicator, the consent page, the
 * token, and the call. The browser is played by fetch with a session cookie.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { basic, onFreePort, tempDir } from '../support/harness.ts';
import { BIN, cli } from '../support/process.ts';
import { formFields } from '../grants/support.ts';

const USER = '5d0f3c8e-6b1a-4c2f-9e7d-1a2b3c4d5e6f';
const REDIRECT = 'http://127.0.0.1:53682/callback';
const children: ChildProcess[] = [];
const dir = tempDir('keymint-mcp-');
let keymint = '';
let mcpUrl = '';
let cookie = '';
let documentUrl = '';
let closeDocumentHost = () => {};

/** Spawns a Node process and resolves with the first stdout/stderr line matching `pattern`. */
function start(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<RegExpExecArray> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const read = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

before(async () => {
  // The client's metadata document, over https with a certificate Keymint's process is told to trust.
  const key = join(dir, 'doc-key.pem');
  const cert = join(dir, 'doc-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const host = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: documentUrl,
      client_name: 'MCP test client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }));
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  documentUrl = `https://127.0.0.1:${(host.address() as AddressInfo).port}/oauth/client.json`;
  closeDocumentHost = () => host.close();

  // Keymint's URL must be known before either starts (the MCP server names its issuer, Keymint the
  // MCP server's URL as a resource): a port free a moment ago, and another if it was taken meanwhile
  // (`keymint serve` exits with 3, docs/cli.md).
  const server = fileURLToPath(new URL('./mcp-server.ts', import.meta.url));
  await onFreePort(async (port) => {
    keymint = `http://localhost:${port}`;
    const mcpServer = children.length;
    mcpUrl = (await start([server], { ISSUER: keymint }, /"url":"([^"]+)"/))[1]!;
    try {
      await start(
        [BIN, 'serve', '--port', String(port), '--data', dir, '--log-level', 'info', '--resource', `${mcpUrl}=mcp:tools`, '--client-id-metadata-documents', '--client-urls-allow-private', '--registration', 'open'],
        { NODE_EXTRA_CA_CERTS: cert },
        /"url":"http:[^"]+"/,
      );
    } catch (err) {
      children[mcpServer]!.kill();
      throw err;
    }
  }, (err) => / exited with 3:/.test((err as Error).message));

  // The platform logs a user in: an admin client registers the session whose cookie the browser holds.
  const created = await cli(['clients', 'create', '--name', 'platform', '--admin', '--json', '--data', dir]);
  const admin = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
  const tokenRes = await fetch(`${keymint}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(admin.client_id, admin.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=keymint%3Aadmin',
  });
  const adminToken = ((await tokenRes.json()) as { access_token: string }).access_token;
  const session = await fetch(`${keymint}/admin/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: USER, subject_type: 'user' }),
  });
  cookie = `keymint_session=${((await session.json()) as { session_token: string }).session_token}`;
});

after(async () => {
  closeDocumentHost();
  for (const c of children) c.kill();
});

/** An in-memory OAuthClientProvider; `authorizationUrl` holds where the SDK sent the browser. */
function provider(options: { clientMetadataUrl?: string }) {
  let info: OAuthClientInformationMixed | undefined;
  let tokens: OAuthTokens | undefined;
  let verifier = '';
  const state: { authorizationUrl?: URL; registered?: OAuthClientInformationMixed } = {};
  const p: OAuthClientProvider = {
    get redirectUrl() {
      return REDIRECT;
    },
    ...(options.clientMetadataUrl ? { clientMetadataUrl: options.clientMetadataUrl } : {}),
    get clientMetadata() {
      return { client_name: 'MCP test client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    clientInformation: () => info,
    saveClientInformation: (i) => {
      info = i;
      state.registered = i;
    },
    tokens: () => tokens,
    saveTokens: (t) => {
      tokens = t;
    },
    redirectToAuthorization: (url) => {
      state.authorizationUrl = url;
    },
    saveCodeVerifier: (v) => {
      verifier = v;
    },
    codeVerifier: () => verifier,
  };
  return { provider: p, state, tokens: () => tokens };
}

/** The browser: the authorization URL with the session cookie, the consent page approved, the code read from the redirect. */
async function browse(authorizationUrl: URL): Promise<string> {
  let res = await fetch(authorizationUrl, { redirect: 'manual', headers: { cookie } });
  if (res.status === 200) {
    const page = await res.text();
    assert.match(page, /MCP test client/);
    res = await fetch(new URL(authorizationUrl.pathname, keymint), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(page), decision: 'approve' }),
    });
  }
  assert.equal(res.status, 302, await res.clone().text());
  const location = new URL(res.headers.get('location')!);
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
  assert.equal(location.searchParams.get('iss'), keymint);
  return location.searchParams.get('code')!;
}

async function flow(options: { clientMetadataUrl?: string }) {
  const { provider: p, state, tokens } = provider(options);
  const client = new Client({ name: 'keymint-mcp-test', version: '1.0.0' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: p })), UnauthorizedError);
  const authorizationUrl = state.authorizationUrl!;
  assert.ok(authorizationUrl, 'the SDK sent the browser to the authorization endpoint');
  assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${keymint}/oauth2/authorize`);
  assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorizationUrl.searchParams.get('resource'), mcpUrl);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: p });
  await transport.finishAuth(await browse(authorizationUrl));
  await client.connect(transport);
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name), ['whoami']);
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
  await client.close();
  return { who: JSON.parse(text) as { sub: string; client_id: string; scopes: string[] }, claims: decodeJwt(tokens()!.access_token), registered: state.registered };
}

test('PR-01 RI-01 the MCP SDK client with a client ID metadata document: discovery, PKCE, resource, consent, token, tool call', async () => {
  const { who, claims } = await flow({ clientMetadataUrl: documentUrl });
  assert.deepEqual(who, { sub: USER, client_id: documentUrl, scopes: ['mcp:tools'] });
  assert.equal(claims.aud, mcpUrl, 'the token is for the MCP server alone (RFC 8707)');
  assert.equal(claims.iss, keymint);
});

test('RG-02 PR-01 the MCP SDK client without a metadata document registers itself (open registration), then the same flow to a tool call', async () => {
  const { who, claims, registered } = await flow({});
  assert.ok(registered, 'the SDK registered at the registration endpoint');
  assert.match(registered.client_id, /^sk_live_/);
  assert.deepEqual(who, { sub: USER, client_id: registered.client_id, scopes: ['mcp:tools'] });
  assert.equal(claims.aud, mcpUrl);
});

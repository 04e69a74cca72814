/**
 * An MCP client running in a web page does its whole OAuth flow against Keymint from its own
 * origin: the official MCP SDK's `auth()` (test/mcp/browser-client.ts), bundled for the browser by
 * esbuild, in headless Chromium. Three origins: the page (`http://127.0.0.1:<port>`), the MCP
 * server's protected-resource metadata (keymint/verify's `resourceMetadata`, another port), and
 * Keymint (`http://localhost:<port>`). The page's script fetches both metadata documents,
 * registers itself (RFC 7591, JSON: a preflight), builds the authorization URL with PKCE and the
 * resource indicator; the browser, holding the user's session cookie, approves the consent page
 * and lands on the page's redirect URI, where the script exchanges the code at the token endpoint
 * (a cross-origin POST). Chromium enforces every CORS header on the way; any refusal is a console
 * error, and the test asserts there is none. Without /usr/bin/chromium it skips (fails in CI).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { decodeJwt } from 'jose';
import { createVerifier, protectNode, type Verifier } from '../../src/verify/index.ts';
import { launch, skip, watchErrors } from '../console/support/browser.ts';
import { onFreePort } from '../support/harness.ts';
import { startGrantServer, USER, type GrantServer } from '../grants/support.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('an MCP client in a web page, in headless Chromium', { skip }, () => {
  let keymint: GrantServer;
  let issuer = '';
  let resource = '';
  let pageOrigin = '';
  let verifier: Verifier;
  const servers: Server[] = [];

  before(async () => {
    // The MCP server's origin: keymint/verify's guard, serving its RFC 9728 document; the flow under
    // test is the client's with Keymint. Its URL must be known before Keymint is told about it.
    const resourceServer = createServer();
    servers.push(resourceServer);
    resource = `${await listen(resourceServer)}/mcp`;

    // Keymint on localhost, the page on 127.0.0.1: another host, so another origin. (Not the other
    // way round: Keymint refuses http://localhost redirect URIs outside the sandbox, RFC 8252 §8.3.)
    // A port free a moment ago (the issuer must be known before Keymint starts), another if it was taken meanwhile.
    keymint = await onFreePort((port) => {
      issuer = `http://localhost:${port}`;
      return startGrantServer({ port: String(port), issuer, registration: 'open', resources: [`${resource}=mcp:tools`] });
    });

    verifier = createVerifier({ issuer, audience: resource, jwksUri: `${issuer}/oauth2/jwks`, requiredScopes: ['mcp:tools'] });
    const guard = protectNode(verifier, { realm: 'mcp', resourceMetadata: { resource, authorizationServers: [issuer], scopesSupported: ['mcp:tools'] } });
    resourceServer.on('request', async (req, res) => {
      if (await guard(req, res)) res.writeHead(204).end();
    });

    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./browser-client.ts', import.meta.url))],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      target: 'chrome120',
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    const page = createServer((req, res) => {
      if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (req.url === '/favicon.ico') res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html lang="en"><title>MCP web client</title><script type="module" src="/client.js"></script></html>');
    });
    servers.push(page);
    pageOrigin = await listen(page);
  });

  after(async () => {
    for (const s of servers) s.close();
    await keymint?.close();
  });

  test('PR-01 RG-02 RI-01 CORS-01 discovery, dynamic registration, PKCE and resource, consent, and the code exchanged from the page: a token for the resource, no CORS refusal', async () => {
    const { session_token } = await keymint.session();
    const browser = await launch();
    try {
      await browser.context.addCookies([{ name: 'keymint_session', value: session_token, url: issuer, httpOnly: true, sameSite: 'Lax' }]);
      const tab = await browser.context.newPage();
      const errors = watchErrors(tab);
      // Every request the page's script sent to Keymint, with the CORS answer it got.
      const calls: string[] = [];
      tab.on('response', (r) => {
        const req = r.request();
        if (req.resourceType() === 'fetch' && r.url().startsWith(issuer)) calls.push(`${req.method()} ${new URL(r.url()).pathname} ${r.status()} ${r.headers()['access-control-allow-origin']}`);
      });

      await tab.goto(`${pageOrigin}/`);
      await tab.waitForFunction('globalThis.keymintMcp !== undefined');
      const started = (await tab.evaluate(`globalThis.keymintMcp.start(${JSON.stringify(resource)})`)) as { result: string; authorizationUrl: string; client: { client_id: string } };
      assert.equal(started.result, 'REDIRECT');
      assert.match(started.client.client_id, /^sk_live_/, 'the page registered a client at Keymint');
      const authorizationUrl = new URL(started.authorizationUrl);
      assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${issuer}/oauth2/authorize`);
      assert.equal(authorizationUrl.searchParams.get('client_id'), started.client.client_id);
      assert.equal(authorizationUrl.searchParams.get('redirect_uri'), `${pageOrigin}/callback`);
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorizationUrl.searchParams.get('resource'), resource);
      assert.equal(authorizationUrl.searchParams.get('scope'), 'mcp:tools');

      const consent = await tab.goto(authorizationUrl.href);
      assert.equal(consent?.status(), 200);
      assert.match(await tab.getByRole('heading', { level: 1 }).innerText(), /MCP web client/);
      await Promise.all([tab.waitForURL((url) => url.origin === pageOrigin && url.pathname === '/callback'), tab.getByRole('button', { name: 'Allow' }).click()]);
      assert.equal(new URL(tab.url()).searchParams.get('iss'), issuer);
      await tab.waitForFunction('globalThis.keymintMcp !== undefined');
      const finished = (await tab.evaluate(`globalThis.keymintMcp.finish(${JSON.stringify(resource)})`)) as { result: string; tokens: { access_token: string; token_type: string; scope: string } };
      assert.equal(finished.result, 'AUTHORIZED');
      assert.equal(finished.tokens.scope, 'mcp:tools');

      const claims = decodeJwt(finished.tokens.access_token);
      assert.equal(claims.aud, resource, 'the token is for the MCP server alone (RFC 8707)');
      assert.equal(claims.iss, issuer);
      assert.equal(claims.sub, USER);
      assert.equal(claims.client_id, started.client.client_id);
      assert.equal(claims.scope, 'mcp:tools');
      // The MCP server would accept it: its own verifier, Keymint's keys.
      assert.equal((await verifier.verify(finished.tokens.access_token)).sub, USER);

      assert.deepEqual(errors, [], 'no CORS refusal or script error in the page');
      assert.deepEqual(calls, [
        // start: authorization-server metadata, registration
        `GET /.well-known/oauth-authorization-server 200 *`,
        `POST /oauth2/register 201 *`,
        // finish (the page was reloaded at its redirect URI): metadata again, the token
        `GET /.well-known/oauth-authorization-server 200 *`,
        `POST /oauth2/token 200 *`,
      ]);
    } finally {
      await browser.close();
    }
  });
});

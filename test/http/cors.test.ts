/**
 * CORS: browser-based clients on other origins (a single-page app, an MCP client in a web page) call
 * the token, revocation, userinfo and registration endpoints and read the public documents; the
 * admin API, the console, introspection and the authorization endpoint stay closed to them. Checked
 * on the wire, then in headless Chromium, whose fetch enforces what the headers say.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { DIALECTS } from '../../src/dialects/index.ts';
import type { Dialect } from '../../src/dialects/types.ts';
import { exposedHeaders, STANDARD_EXPOSED_HEADERS } from '../../src/http/router.ts';
import { UseDpopNonceError } from '../../src/protocol/dpop.ts';
import type { TokenResult } from '../../src/protocol/token-request.ts';
import { startSandbox } from '../../src/start-sandbox.ts';
import { ERROR_STATUS, OAuthError, type OAuthErrorCode } from '../../src/wire/errors.ts';
import { fakeRequest, postJson } from '../dialects/support/dialects.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { launch, skip } from '../console/support/browser.ts';

const ORIGIN = 'https://app.example';
const EXPOSED = 'WWW-Authenticate, DPoP-Nonce, Retry-After, Location, X-Retry-In, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset';

let server: TestServer;
before(async () => {
  server = await startServer({ registration: 'open', dialects: ['oauth2', 'orum'] });
});
after(() => server.close());

const preflight = (path: string, method = 'POST') =>
  fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } });

test('CORS-01 CORS-02 a preflight at the token, revocation, userinfo and registration endpoints is 204 naming the methods and the headers a client sends', async () => {
  for (const [path, methods] of [
    ['/oauth2/token', 'POST'],
    ['/oauth2/revoke', 'POST'],
    ['/oauth2/userinfo', 'GET, POST'],
    ['/oauth2/register', 'POST'],
    ['/oauth2/register/some-client', 'GET, PUT, DELETE'],
    ['/oauth/token', 'POST'],
  ] as const) {
    const res = await preflight(path);
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
    assert.equal(res.headers.get('access-control-allow-methods'), methods, path);
    assert.equal(res.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, DPoP', path);
    assert.equal(res.headers.get('access-control-max-age'), '600', path);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, path);
    assert.equal(await res.text(), '', path);
  }
});

test('CORS-02 the admin API, the console, introspection, the authorization endpoint and the revocation feed are closed to other origins', async () => {
  for (const path of ['/admin/v1/clients', '/console/', '/oauth2/introspect', '/oauth2/authorize', '/oauth2/revocations', '/metrics', '/nope']) {
    const res = await preflight(path, 'GET');
    assert.notEqual(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), null, path);
    await res.body?.cancel();
    const direct = await fetch(`${server.url}${path}`, { headers: { origin: ORIGIN } });
    assert.equal(direct.headers.get('access-control-allow-origin'), null, path);
    await direct.body?.cancel();
  }
});

test('CORS-01 CORS-03 answers at a CORS path carry Allow-Origin and Expose-Headers when the request has an Origin, errors included; without one they are unchanged', async () => {
  const { id, secret } = await server.client({ scopes: ['read'] });
  const form = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) };
  const ok = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { ...headers, origin: ORIGIN }, body: form });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), '*');
  assert.equal(ok.headers.get('access-control-expose-headers'), EXPOSED);
  const refused = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { ...headers, authorization: basic(id, 'wrong'), origin: ORIGIN }, body: form });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('access-control-allow-origin'), '*');
  const plain = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers, body: form });
  assert.equal(plain.status, 200);
  for (const name of plain.headers.keys()) assert.ok(!name.startsWith('access-control-'), name);
});

/** Response headers any script may read without their being exposed (Fetch standard: CORS-safelisted response-header name). */
const SAFELISTED = new Set(['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma']);
/** What a dialect's answers send that a script on another origin could not read without `Access-Control-Expose-Headers`. */
const unsafelisted = (headers: Iterable<string>) => [...headers].filter((h) => !SAFELISTED.has(h.toLowerCase()));

/** Headers of the connection, and those the server puts on every answer for the browser itself (server.ts), not for scripts. */
const TRANSPORT_AND_BROWSER = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-content-type-options', 'referrer-policy', 'x-frame-options']);

/** Every answer a dialect's codec gives: each error code (with Retry-After, a limit state, after Basic), a nonce challenge, results. */
function codecAnswers(d: Dialect) {
  const basicReq = fakeRequest({ authorization: 'Basic eDp5' });
  const result: TokenResult = { accessToken: 'at', tokenType: 'Bearer', expiresIn: 3600, expiresAt: new Date(3600_000), issuedAt: new Date(0), scope: 'read', clientId: 'c', refreshToken: 'rt', idToken: 'id' };
  const errors = (Object.keys(ERROR_STATUS) as OAuthErrorCode[]).flatMap((code) => [
    new OAuthError(code, 'x'),
    new OAuthError(code, 'x', { retryAfter: 3, rateLimit: { limit: 10, remaining: 0, resetAt: 1_900_000_000 } }),
  ]);
  return [
    ...[...errors, new UseDpopNonceError('n')].flatMap((err) => [d.encodeError(err, fakeRequest()), d.encodeError(err, basicReq)]),
    d.encodeResult(result),
    d.encodeResult({ ...result, tokenType: 'DPoP', dpopNonce: 'n' }),
    ...(d.encodeIntrospection ? [d.encodeIntrospection({ active: false })] : []),
    ...(d.encodeRevocation ? [d.encodeRevocation()] : []),
  ];
}

test('CORS-01 every header a dialect sends is readable by a script on another origin: standard, or declared by that dialect, and the router exposes them all', () => {
  const exposed = exposedHeaders(DIALECTS.values());
  // Today's dialects expose what the router always did, in the same order (CORS-03: the same bytes).
  assert.equal(exposed.join(', '), EXPOSED);
  for (const d of DIALECTS.values()) {
    const declared = [...STANDARD_EXPOSED_HEADERS, ...(d.contract.rateLimitHeaders ?? [])].map((h) => h.toLowerCase());
    const sent = new Set(codecAnswers(d).flatMap((res) => unsafelisted(Object.keys(res.headers))));
    for (const h of sent) {
      assert.ok(declared.includes(h.toLowerCase()), `${d.name} sends ${h}, which its contract.rateLimitHeaders leaves out`);
      assert.ok(exposed.some((e) => e.toLowerCase() === h.toLowerCase()), `${d.name} sends ${h}, which the router does not expose`);
    }
    // And a declaration names only what the dialect sends (it is also its OpenAPI 429 documentation).
    for (const h of d.contract.rateLimitHeaders ?? []) assert.ok(sent.has(h), `${d.name} declares ${h} but never sends it`);
  }
});

test('CORS-01 each dialect\'s real rate-limit answer, asked from another origin: every header it carries is one the answer exposes', async (t) => {
  // Tradevest's default path is oauth2's: it gets one of its own here.
  const dialects = [...DIALECTS.keys()].map((name) => (name === 'tradevest' ? { name, path: '/connect/token' } : name));
  const sb = await startSandbox({ clients: { app: { grants: ['client_credentials', 'refresh_token'] } }, sandbox: { dialects, limits: { rateLimitClient: 1 } } });
  t.after(() => sb.close());
  const { id, secret } = sb.clients.app!;
  const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(sb.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, ...headers }, body: new URLSearchParams(body).toString() });
  const ask: Record<string, (path: string) => Promise<Response>> = {
    orum: (path) => postJson(sb.url, path, { client_id: id, client_secret: secret }, { origin: ORIGIN }),
    'polygon-oms': (path) => postJson(sb.url, path, { apiKey: id, apiSecret: secret }, { origin: ORIGIN }),
    oauth2: (path) => form(path, { grant_type: 'client_credentials' }, { authorization: basic(id, secret!) }),
    // Polar has no client_credentials: a refresh with a junk token authenticates the client, which the limit counts.
    polar: (path) => form(path, { grant_type: 'refresh_token', refresh_token: 'junk' }, { authorization: basic(id, secret!) }),
  };
  for (const mount of sb.mounts) {
    const name = mount.dialect;
    const path = new URL(mount.tokenEndpoint).pathname;
    const send = ask[name] ?? ((p: string) => form(p, { grant_type: 'client_credentials', client_id: id, client_secret: secret! }));
    await sb.reset();
    let res = await send(path);
    for (let i = 0; i < 3 && res.status !== 429; i++) {
      await res.body?.cancel();
      res = await send(path);
    }
    assert.equal(res.status, 429, name);
    await res.body?.cancel();
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(', ');
    const sent = unsafelisted(res.headers.keys()).filter((h) => !h.startsWith('access-control-') && !TRANSPORT_AND_BROWSER.has(h));
    for (const h of DIALECTS.get(name)!.contract.rateLimitHeaders ?? []) assert.ok(sent.includes(h.toLowerCase()), `${name}: its 429 sends ${h}`);
    for (const h of sent) assert.ok(exposed.includes(h), `${name}: its 429 sends ${h}, not exposed (${exposed.join(', ')})`);
  }
});

test('CORS-01 metadata, JWKS and OpenAPI documents may be read by any origin, whether or not the request had one (a cached copy serves browsers too)', async () => {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/oauth2/jwks', '/oauth2/token/openapi.json']) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
    await res.body?.cancel();
  }
});

test('CORS-01 a preflight at metadata, JWKS and OpenAPI allows GET with any request header (an MCP client sends MCP-Protocol-Version); without an Origin it is no preflight', async () => {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/oauth2/jwks', '/oauth2/token/openapi.json']) {
    const res = await fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD', path);
    assert.equal(res.headers.get('access-control-allow-headers'), '*', path);
    assert.equal(res.headers.get('access-control-max-age'), '600', path);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, path);
    assert.equal(await res.text(), '', path);
    const bare = await fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
    assert.equal(bare.status, 405, path);
    await bare.body?.cancel();
  }
});

/** oauth4webapi's browser build: one ES module without imports, served to the page as it is. */
const OAUTH4WEBAPI = readFileSync(createRequire(import.meta.url).resolve('oauth4webapi'), 'utf8');

test('CORS-01 CORS-02 --cors-origin lists the origins allowed: theirs is named back with Vary: Origin; another gets no CORS answer; the public documents stay open to any', async (t) => {
  const listed = await startServer({ corsOrigins: ['https://app.example', 'http://localhost:3000'] });
  t.after(() => listed.close());
  const ask = (origin: string, method = 'OPTIONS') =>
    fetch(`${listed.url}/oauth2/token`, { method, headers: { origin, 'access-control-request-method': 'POST' } });
  for (const origin of ['https://app.example', 'http://localhost:3000']) {
    const res = await ask(origin);
    assert.equal(res.status, 204, origin);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
  }
  for (const origin of ['https://evil.example', 'https://app.example.evil', 'null']) {
    const res = await ask(origin);
    assert.equal(res.status, 405, origin);
    assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    await res.body?.cancel();
    const post = await ask(origin, 'POST');
    assert.equal(post.headers.get('access-control-allow-origin'), null, origin);
    await post.body?.cancel();
  }
  const metadata = await fetch(`${listed.url}/.well-known/oauth-authorization-server`, { headers: { origin: 'https://evil.example' } });
  assert.equal(metadata.headers.get('access-control-allow-origin'), '*');
  await metadata.body?.cancel();
});

test('--cors-origin refuses what no browser sends as an origin, and * beside other origins', () => {
  for (const [value, message] of [
    [['https://app.example/'], /each entry is an origin such as https:\/\/app.example.com \(no path or trailing slash\), not "https:\/\/app.example\/"/],
    [['app.example'], /not "app.example"/],
    [['*', 'https://app.example'], /\* \(any origin\) cannot be listed with other origins/],
  ] as const) {
    assert.throws(() => loadConfig({ corsOrigins: [...value] }, {}), (e: unknown) => e instanceof ConfigError && message.test(e.message), String(value));
  }
  assert.deepEqual(loadConfig({}, {}).corsOrigins, ['*']);
  assert.deepEqual(loadConfig({}, { KEYMINT_CORS_ORIGINS: 'https://a.example,https://b.example:8443' }).corsOrigins, ['https://a.example', 'https://b.example:8443']);
});

describe('a web page on another origin, in headless Chromium', { skip }, () => {
  let page: Server;
  let pageUrl: string;
  before(async () => {
    page = createServer((req, res) => {
      if (req.url === '/oauth4webapi.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(OAUTH4WEBAPI);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    // localhost, not 127.0.0.1: another host, so another origin than the server's whatever the port.
    pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;
  });
  after(() => page.close());

  test('CORS-01 CORS-02 gets a token, revokes it, registers a client and reads a 401 challenge; the admin API is blocked by the browser', async () => {
    const { id, secret } = await server.client({ scopes: ['read'] });
    const admin = await server.client({ admin: true, scopes: [] });
    const { access_token: adminToken } = await server.token(admin.id, admin.secret, { scope: 'keymint:admin' });
    const browser = await launch();
    try {
      const tab = await browser.context.newPage();
      await tab.goto(pageUrl);
      const results = await tab.evaluate(
        async ({ base, id, secret, adminToken }) => {
          const basicAuth = `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
          const form = { 'content-type': 'application/x-www-form-urlencoded' };
          const attempt = async (f: () => Promise<unknown>) => {
            try {
              return await f();
            } catch (error) {
              return `blocked: ${(error as Error).name}`;
            }
          };
          // With a header of its own, as the MCP SDK sends: the browser asks first.
          const metadata = await attempt(async () => ((await (await fetch(`${base}/.well-known/oauth-authorization-server`, { headers: { 'mcp-protocol-version': '2025-06-18' } })).json()) as { issuer: string }).issuer);
          const token = (await attempt(async () => (await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { ...form, authorization: basicAuth }, body: 'grant_type=client_credentials' })).json())) as { access_token?: string };
          const revoked = await attempt(async () => (await fetch(`${base}/oauth2/revoke`, { method: 'POST', headers: { ...form, authorization: basicAuth }, body: `token=${token.access_token}` })).status);
          const challenge = await attempt(async () => {
            const res = await fetch(`${base}/oauth2/userinfo`, { headers: { authorization: 'Bearer nope' } });
            return [res.status, res.headers.get('www-authenticate')];
          });
          const registered = await attempt(async () => {
            const res = await fetch(`${base}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }) });
            return [res.status, typeof ((await res.json()) as { client_id?: string }).client_id];
          });
          const adminApi = await attempt(async () => (await fetch(`${base}/admin/v1/clients`, { headers: { authorization: `Bearer ${adminToken}` } })).status);
          return { metadata, token: typeof token.access_token, revoked, challenge, registered, adminApi };
        },
        { base: server.url, id, secret, adminToken: String(adminToken) },
      );
      assert.deepEqual(results, {
        metadata: server.keymint.config.issuer,
        token: 'string',
        revoked: 200,
        challenge: [401, 'Bearer realm="keymint", error="invalid_token"'],
        registered: [201, 'string'],
        adminApi: 'blocked: TypeError',
      });
    } finally {
      await browser.close();
    }
  });

  test('CORS-01 oauth4webapi in the page: a DPoP-bound token after the nonce challenge, then userinfo after the resource server\'s own challenge (both read from exposed headers)', async () => {
    const dpopServer = await startServer({ dpopNonce: true });
    const browser = await launch();
    try {
      const { client } = await dpopServer.keymint.clients.create({ name: 'spa', grants: ['web'], scopes: ['read'] }, 'test');
      const { clientSecret } = await dpopServer.keymint.clients.rotateSecret(client.client_id, 0, 'test');
      const { sessionToken } = await dpopServer.keymint.sessions.create({ subject: 'user-in-browser' }, 'test');
      const tab = await browser.context.newPage();
      const errors: string[] = [];
      tab.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await tab.goto(pageUrl);
      const results = await tab.evaluate(
        async ({ issuer, id, secret, sessionToken, library }) => {
          type Oauth = typeof import('oauth4webapi');
          const oauth = (await import(library)) as Oauth;
          const url = new URL(issuer);
          const insecure = { [oauth.allowInsecureRequests]: true };
          const as = await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, insecure));
          const client: import('oauth4webapi').Client = { client_id: id };
          const key = await oauth.generateKeyPair('ES256');
          const statuses: number[] = [];
          const retryingNonce = async <T>(call: () => Promise<T>): Promise<T> => {
            try {
              return await call();
            } catch (error) {
              if (!oauth.isDPoPNonceError(error)) throw error;
              return call();
            }
          };
          const options = { ...insecure, DPoP: oauth.DPoP(client, key) };
          const token = await retryingNonce(async () => {
            const res = await oauth.genericTokenEndpointRequest(as, client, oauth.ClientSecretBasic(secret), 'web', new URLSearchParams({ session_token: sessionToken }), options);
            statuses.push(res.status);
            return oauth.processGenericTokenEndpointResponse(as, client, res);
          });
          // A new handle knows no nonce: userinfo challenges it as a resource server does (401).
          const fresh = { ...insecure, DPoP: oauth.DPoP(client, key) };
          const info = await retryingNonce(async () => {
            const res = await oauth.userInfoRequest(as, client, token.access_token, fresh);
            statuses.push(res.status);
            return oauth.processUserInfoResponse(as, client, 'user-in-browser', res);
          });
          return { statuses, tokenType: token.token_type, info };
        },
        { issuer: dpopServer.keymint.config.issuer, id: client.client_id, secret: String(clientSecret), sessionToken, library: `${pageUrl}oauth4webapi.js` },
      );
      assert.deepEqual(results, { statuses: [400, 200, 401, 200], tokenType: 'dpop', info: { sub: 'user-in-browser', sub_type: 'user' } });
      assert.deepEqual(errors.filter((e) => /CORS|Access-Control/i.test(e)), []);
    } finally {
      await browser.close();
      await dpopServer.close();
    }
  });
});

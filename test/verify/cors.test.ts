/**
 * The guards' opt-in CORS (`ProtectOptions.cors`): exact headers of a preflight, a refusal and a
 * success from an allowed origin, through node:http, Express, Fastify and the Fetch API; a disallowed or absent
 * origin, and a guard without the option, answer exactly as before.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { corsHeaders, createVerifier, expressBearer, fastifyBearer, fetchBearer, protectNode, type AccessTokenClaims, type ProtectOptions, type Verifier } from '../../src/verify/index.ts';
import type { TestServer } from '../support/harness.ts';
import { countingFetch, ISSUER, startIssuer } from './fixtures.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AccessTokenClaims | null;
  }
}

const APP = 'https://app.example.com';
const LISTED: ProtectOptions = {
  realm: 'mcp',
  cors: { origins: [APP, 'http://localhost:5173'], allowHeaders: ['Mcp-Session-Id', 'Mcp-Protocol-Version'], exposeHeaders: ['Mcp-Session-Id'] },
};
const ANY: ProtectOptions = { realm: 'mcp', cors: { origins: '*', methods: ['POST'] } };
const PLAIN: ProtectOptions = { realm: 'mcp' };

const PREFLIGHT_LISTED = {
  'access-control-allow-origin': APP,
  vary: 'Origin',
  'access-control-allow-methods': 'GET, POST, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type, DPoP, Mcp-Session-Id, Mcp-Protocol-Version',
  'access-control-max-age': '600',
};
const PREFLIGHT_ANY = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
  'access-control-max-age': '600',
};
const CORS_LISTED = { 'access-control-allow-origin': APP, vary: 'Origin', 'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id' };
const CORS_ANY = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'WWW-Authenticate' };
const CHALLENGE = { 'www-authenticate': 'Bearer realm="mcp"' } as const;
const PREFLIGHT = { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,mcp-session-id' };

interface Reply {
  status: number;
  /** Every header but the ones the server adds per connection. */
  headers: Record<string, string>;
  body: string;
}

let server: TestServer;
let token: string;
let verifier: Verifier;

before(async () => {
  server = await startIssuer();
  const c = await server.client({ scopes: ['tools:call'] });
  token = String((await server.token(c.id, c.secret)).access_token);
  verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: countingFetch(ISSUER, server.url).fetch });
});
after(() => server.close());

const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function call(base: string, path: string, method: string, headers: OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers });
    req.on('response', async (res) => {
      let body = '';
      for await (const chunk of res) body += chunk;
      const kept = Object.entries(res.headers).filter(([name]) => !PER_CONNECTION.has(name));
      resolve({ status: res.statusCode ?? 0, headers: Object.fromEntries(kept.map(([n, v]) => [n, String(v)])), body });
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** The app's own answer: its writeHead names only its own headers. */
const OWN = { 'content-type': 'application/json', 'mcp-session-id': 's1' };

/**
 * Runs against a server with `/listed`, `/any` and `/plain`, each guarded with those options. What
 * `/plain` answers a request without `Origin` is the adapter's answer as it was before the option.
 */
function cases(base: () => string) {
  const plain = async (authorization?: string) => {
    const r = await call(base(), '/plain', 'POST', authorization ? { authorization } : {});
    assert.equal(r.headers[authorization ? 'mcp-session-id' : 'www-authenticate'], authorization ? 's1' : CHALLENGE['www-authenticate']);
    return r;
  };
  test('preflight from a listed origin: 204 with the origin echoed, methods, headers and Max-Age', async () => {
    assert.deepEqual(await call(base(), '/listed', 'OPTIONS', PREFLIGHT), { status: 204, headers: PREFLIGHT_LISTED, body: '' });
  });
  test("preflight with '*': 204 with `*` and the option's methods, no Vary", async () => {
    assert.deepEqual(await call(base(), '/any', 'OPTIONS', { ...PREFLIGHT, origin: 'https://anywhere.example' }), { status: 204, headers: PREFLIGHT_ANY, body: '' });
  });
  test('refusal from an allowed origin: the challenge plus Allow-Origin, Expose-Headers (and Vary with a list)', async () => {
    const refusal = await plain();
    assert.equal(refusal.status, 401);
    assert.deepEqual(await call(base(), '/listed', 'POST', { origin: APP }), { ...refusal, headers: { ...refusal.headers, ...CORS_LISTED } });
    assert.deepEqual(await call(base(), '/any', 'POST', { origin: 'https://anywhere.example' }), { ...refusal, headers: { ...refusal.headers, ...CORS_ANY } });
  });
  test("success from an allowed origin: the app's answer keeps the CORS headers next to its own", async () => {
    const success = await plain(`Bearer ${token}`);
    assert.deepEqual(success.status, 200);
    const listed = await call(base(), '/listed', 'POST', { origin: APP, authorization: `Bearer ${token}` });
    assert.deepEqual(listed, { ...success, headers: { ...success.headers, ...CORS_LISTED } });
    const any = await call(base(), '/any', 'POST', { origin: 'https://anywhere.example', authorization: `Bearer ${token}` });
    assert.deepEqual(any, { ...success, headers: { ...success.headers, ...CORS_ANY } });
  });
  test('a disallowed or absent origin, and a guard without the option, answer as before', async () => {
    const refusal = await plain();
    const success = await plain(`Bearer ${token}`);
    const requests: [string, OutgoingHttpHeaders][] = [
      ['/listed', { origin: 'https://evil.example' }],
      ['/listed', { origin: `${APP}/` }],
      ['/listed', {}],
      ['/any', {}],
      ['/plain', { origin: APP }],
    ];
    for (const [path, headers] of requests) {
      const what = `${path} ${headers.origin}`;
      assert.deepEqual(await call(base(), path, 'POST', headers), refusal, what);
      assert.deepEqual(await call(base(), path, 'POST', { ...headers, authorization: `Bearer ${token}` }), success, what);
      // A preflight it does not allow is judged like any request: no token, 401.
      assert.deepEqual(await call(base(), path, 'OPTIONS', { 'access-control-request-method': 'POST', ...headers }), refusal, what);
    }
  });
  test('Access-Control-Allow-Credentials is never sent', async () => {
    for (const [method, headers] of [['OPTIONS', PREFLIGHT], ['POST', { origin: APP }], ['POST', { origin: APP, authorization: `Bearer ${token}` }]] as const) {
      assert.equal((await call(base(), '/listed', method, headers)).headers['access-control-allow-credentials'], undefined);
    }
  });
}

describe('node:http', () => {
  let base = '';
  let s: Server;
  before(async () => {
    const guards: Record<string, ReturnType<typeof protectNode>> = {
      '/listed': protectNode(verifier, LISTED),
      '/any': protectNode(verifier, ANY),
      '/plain': protectNode(verifier, PLAIN),
    };
    s = createServer(async (req, res) => {
      if (!(await guards[req.url!]!(req, res))) return;
      const body = '{"ok":true}';
      res.writeHead(200, { ...OWN, 'content-length': String(body.length) });
      res.end(body);
    });
    base = await listen(s);
  });
  after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  cases(() => base);
});

describe('Express', () => {
  let base = '';
  let s: Server;
  before(async () => {
    const app = express();
    // Express's own X-Powered-By is set before any middleware runs; off, the preflight is the guard's alone.
    app.disable('x-powered-by');
    for (const [path, options] of [['/listed', LISTED], ['/any', ANY], ['/plain', PLAIN]] as const) {
      // Every method through the guard, as the node:http server above: the guard answers a preflight itself.
      app.all(path, expressBearer(verifier, options), (_req, res) => void res.set(OWN).send('{"ok":true}'));
    }
    s = createServer(app);
    base = await listen(s);
  });
  after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  cases(() => base);
});

describe('Fastify', () => {
  let base = '';
  const app = Fastify();
  before(async () => {
    app.decorateRequest('auth', null);
    const handler = async (_request: FastifyRequest, reply: { header(n: string, v: string): unknown }) => {
      reply.header('mcp-session-id', 's1');
      return { ok: true };
    };
    for (const [path, options] of [['/listed', LISTED], ['/any', ANY], ['/plain', PLAIN]] as const) {
      app.route({ method: ['POST', 'OPTIONS'], url: path, onRequest: fastifyBearer(verifier, options), handler });
    }
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());
  cases(() => base);
});

describe('Fetch API: fetchBearer and corsHeaders', () => {
  let guards: Record<'listed' | 'plain', ReturnType<typeof fetchBearer>>;
  before(() => {
    guards = { listed: fetchBearer(verifier, LISTED), plain: fetchBearer(verifier, PLAIN) };
  });
  async function handle(options: ProtectOptions, guard: (r: Request) => Promise<AccessTokenClaims | Response>, request: Request) {
    const result = await guard(request);
    if (result instanceof Response) return result;
    return new Response('{"ok":true}', { headers: { ...corsHeaders(options, request), 'Content-Type': 'application/json' } });
  }
  const headersOf = (r: Response) => Object.fromEntries(r.headers);
  test('preflight, refusal and success from a listed origin', async () => {
    const pre = await handle(LISTED, guards.listed, new Request('http://api.test/mcp', { method: 'OPTIONS', headers: PREFLIGHT }));
    assert.deepEqual([pre.status, headersOf(pre), await pre.text()], [204, PREFLIGHT_LISTED, '']);
    const refused = await handle(LISTED, guards.listed, new Request('http://api.test/mcp', { method: 'POST', headers: { origin: APP } }));
    assert.deepEqual([refused.status, headersOf(refused)], [401, { ...CHALLENGE, 'cache-control': 'no-store', ...CORS_LISTED }]);
    const ok = await handle(LISTED, guards.listed, new Request('http://api.test/mcp', { method: 'POST', headers: { origin: APP, authorization: `Bearer ${token}` } }));
    assert.deepEqual([ok.status, headersOf(ok)], [200, { ...CORS_LISTED, 'content-type': 'application/json' }]);
  });
  test('corsHeaders is empty for a disallowed or absent origin and without the option', () => {
    const at = (origin?: string) => new Request('http://api.test/mcp', { method: 'POST', headers: origin ? { origin } : {} });
    assert.deepEqual([corsHeaders(LISTED, at('https://evil.example')), corsHeaders(LISTED, at()), corsHeaders(PLAIN, at(APP))], [{}, {}, {}]);
  });
});

test('malformed cors options are refused when the guard is built', () => {
  assert.throws(() => protectNode(verifier, { cors: { origins: ['https://app.example.com/'] } }), /cors: origins are scheme:\/\/host\[:port\] without a path, got "https:\/\/app.example.com\/"/);
  assert.throws(() => fetchBearer(verifier, { cors: { origins: '*', allowHeaders: ['X-A\r\nSet-Cookie: a=b'] } }), /cors: allowHeaders are header or method names/);
});

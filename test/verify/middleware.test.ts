/**
 * RFC 6750 §3 answers of every adapter, with the exact status, WWW-Authenticate and body, against
 * tokens from a real Keymint. The same case table runs through node:http, Express, Fastify and Hono.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { createVerifier, expressBearer, fastifyBearer, honoBearer, protectNode, type AccessTokenClaims, type Verifier } from '../../src/verify/index.ts';
import type { TestServer } from '../support/harness.ts';
import { countingFetch, ISSUER, startIssuer } from './fixtures.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AccessTokenClaims | null;
  }
}

interface Reply {
  status: number;
  challenge: string | undefined;
  body: string;
}
/** Sends GET with each Authorization value as its own header line. */
type Send = (path: string, authorization: string[]) => Promise<Reply>;

const REALM = 'payments';
const challenge = (error: string, description: string, scope?: string) =>
  `Bearer realm="${REALM}", error="${error}", error_description="${description}"${scope ? `, scope="${scope}"` : ''}`;
const json = (error: string, description: string, scope?: string) =>
  JSON.stringify({ error, error_description: description, ...(scope ? { scope } : {}) });

let server: TestServer;
let token: string;
let clientId: string;
let verifier: Verifier;
let late: Verifier; // its clock is two hours ahead: every token is expired

before(async () => {
  server = await startIssuer();
  const c = await server.client({ scopes: ['payments:read'] });
  clientId = c.id;
  token = String((await server.token(c.id, c.secret)).access_token);
  const f = countingFetch(ISSUER, server.url);
  verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, requiredScopes: ['payments:read'] });
  late = createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch, now: () => Date.now() + 7_200_000 });
});
after(() => server.close());

function cases(send: () => Send, duplicateHeaders: boolean) {
  test('no credentials: 401 with a challenge and no error code', async () => {
    assert.deepEqual(await send()('/data', []), { status: 401, challenge: `Bearer realm="${REALM}"`, body: '' });
  });
  test('another scheme counts as no bearer token', async () => {
    assert.deepEqual(await send()('/data', ['Basic YTpi']), { status: 401, challenge: `Bearer realm="${REALM}"`, body: '' });
  });
  test('malformed header: 400 invalid_request', async () => {
    const d = 'The Authorization header is malformed';
    for (const h of ['Bearer', 'Bearer a b', 'Bearer a"b']) {
      assert.deepEqual(await send()('/data', [h]), { status: 400, challenge: challenge('invalid_request', d), body: json('invalid_request', d) });
    }
  });
  test('token in the query string: 400 invalid_request, alone or with a header', async () => {
    const q = 'Tokens in the URI query are not accepted';
    assert.deepEqual(await send()(`/data?access_token=${token}`, []), {
      status: 400,
      challenge: challenge('invalid_request', q),
      body: json('invalid_request', q),
    });
    const m = 'The token was sent by more than one method';
    assert.deepEqual(await send()(`/data?x=1&access_token=${token}`, [`Bearer ${token}`]), {
      status: 400,
      challenge: challenge('invalid_request', m),
      body: json('invalid_request', m),
    });
  });
  if (duplicateHeaders) {
    test('two Authorization headers: 400 invalid_request', async () => {
      const d = 'The Authorization header is malformed';
      assert.deepEqual(await send()('/data', [`Bearer ${token}`, `Bearer ${token}`]), {
        status: 400,
        challenge: challenge('invalid_request', d),
        body: json('invalid_request', d),
      });
    });
  }
  test('invalid token: 401 invalid_token', async () => {
    const d = 'The access token is invalid';
    const [h, p] = token.split('.');
    for (const t of ['abc.def.ghi', `${h}.${p}.AAAA`, 'opaque-token']) {
      assert.deepEqual(await send()('/data', [`Bearer ${t}`]), { status: 401, challenge: challenge('invalid_token', d), body: json('invalid_token', d) });
    }
  });
  test('expired token: 401 invalid_token', async () => {
    const d = 'The access token expired';
    assert.deepEqual(await send()('/late', [`Bearer ${token}`]), { status: 401, challenge: challenge('invalid_token', d), body: json('invalid_token', d) });
  });
  test('missing scope: 403 insufficient_scope naming the missing scope', async () => {
    const d = 'The access token lacks a required scope';
    assert.deepEqual(await send()('/admin', [`Bearer ${token}`]), {
      status: 403,
      challenge: challenge('insufficient_scope', d, 'payments:admin'),
      body: json('insufficient_scope', d, 'payments:admin'),
    });
  });
  test('valid token: the handler sees the claims', async () => {
    assert.deepEqual(await send()('/data', [`Bearer ${token}`]), { status: 200, challenge: undefined, body: JSON.stringify({ client_id: clientId }) });
  });
}

const overHttp =
  (base: () => string): Send =>
  (path, authorization) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(`${base()}${path}`);
      if (authorization.length > 0) req.setHeader('authorization', authorization.length === 1 ? authorization[0]! : authorization);
      req.on('response', async (res) => {
        let body = '';
        for await (const chunk of res) body += chunk;
        const c = res.headers['www-authenticate'];
        resolve({ status: res.statusCode ?? 0, challenge: c, body });
      });
      req.on('error', reject);
      req.end();
    });

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}
const reply = (claims: AccessTokenClaims) => JSON.stringify({ client_id: claims.client_id });

describe('node:http', () => {
  let base = '';
  let s: Server;
  before(async () => {
    const guards: Record<string, ReturnType<typeof protectNode>> = {
      '/data': protectNode(verifier, { realm: REALM }),
      '/admin': protectNode(verifier, { realm: REALM, scopes: ['payments:admin'] }),
      '/late': protectNode(late, { realm: REALM }),
    };
    s = createServer(async (req, res) => {
      const claims = await guards[new URL(req.url!, 'http://x').pathname]!(req, res);
      if (claims) res.end(reply(claims));
    });
    base = await listen(s);
  });
  after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  cases(() => overHttp(() => base), true);
});

describe('Express', () => {
  let base = '';
  let s: Server;
  before(async () => {
    const app = express();
    app.get('/data', expressBearer(verifier, { realm: REALM }), (req, res) => void res.send(reply(res.locals.auth)));
    app.get('/admin', expressBearer(verifier, { realm: REALM, scopes: ['payments:admin'] }), (_req, res) => void res.send(reply(res.locals.auth)));
    app.get('/late', expressBearer(late, { realm: REALM }), (_req, res) => void res.send(reply(res.locals.auth)));
    s = createServer(app);
    base = await listen(s);
  });
  after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  cases(() => overHttp(() => base), true);
});

describe('Fastify', () => {
  let base = '';
  let handled = 0;
  const app = Fastify();
  before(async () => {
    app.decorateRequest('auth', null);
    const handler = async (request: FastifyRequest) => {
      handled++;
      return reply(request.auth!);
    };
    app.get('/data', { preHandler: fastifyBearer(verifier, { realm: REALM }) }, handler);
    app.get('/admin', { preHandler: fastifyBearer(verifier, { realm: REALM, scopes: ['payments:admin'] }) }, handler);
    app.get('/late', { onRequest: fastifyBearer(late, { realm: REALM }) }, handler);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());
  cases(() => overHttp(() => base), true);
  test('a refused request never reaches the handler', () => {
    assert.equal(handled, 1, 'only the one valid-token case');
  });
});

describe('Fastify through inject(), as a Fastify app\'s own tests call it (light-my-request: no headersDistinct)', () => {
  const app = Fastify();
  before(() => {
    app.decorateRequest('auth', null);
    const handler = async (request: FastifyRequest) => reply(request.auth!);
    app.get('/data', { preHandler: fastifyBearer(verifier, { realm: REALM }) }, handler);
    app.get('/admin', { preHandler: fastifyBearer(verifier, { realm: REALM, scopes: ['payments:admin'] }) }, handler);
    app.get('/late', { onRequest: fastifyBearer(late, { realm: REALM }) }, handler);
  });
  after(() => app.close());
  const send: Send = async (path, authorization) => {
    const res = await app.inject({ url: path, headers: authorization.length ? { authorization: authorization[0]! } : {} });
    const www = res.headers['www-authenticate'];
    return { status: res.statusCode, challenge: typeof www === 'string' ? www : undefined, body: res.body };
  };
  // inject() takes one value per header name.
  cases(() => send, false);
});

describe('Hono (Fetch API)', () => {
  const app = new Hono<{ Variables: { auth: AccessTokenClaims } }>();
  before(() => {
    app.use('/data', honoBearer(verifier, { realm: REALM }));
    app.use('/admin', honoBearer(verifier, { realm: REALM, scopes: ['payments:admin'] }));
    app.use('/late', honoBearer(late, { realm: REALM }));
    for (const path of ['/data', '/admin', '/late']) app.get(path, (c) => c.body(reply(c.get('auth'))));
  });
  const send: Send = async (path, authorization) => {
    const res = await app.fetch(new Request(`http://api.test${path}`, { headers: authorization.length ? { authorization: authorization[0]! } : {} }));
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? undefined, body: await res.text() };
  };
  // A Fetch-API Request cannot carry two Authorization headers (Headers joins them).
  cases(() => send, false);
});

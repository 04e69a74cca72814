/**
 * Names that are also members of Object.prototype (`__proto__`, `constructor`, `toString`, …) fed
 * wherever a caller chooses a name: scopes, field names, dialect names, client names, audiences,
 * client ids, subjects, grant types, token type hints. A lookup in a plain object would find the
 * prototype's member instead of nothing; every answer must stay a 2xx or a clear 4xx.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createTokenSource } from '../../src/client/index.ts';
import { ClientInputError } from '../../src/credentials/clients.ts';
import { authorizeGet, basic, formFields, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', 'prototype'];
const name = fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom(...NAMES).map((n) => `${n}:read`), fc.string({ maxLength: 12 }));

const TOKEN_PATHS = ['/oauth2/token', '/v1/oauth2/token', '/oauth/token', '/v1/auth/token', '/v0.9/auth/token', '/tradevest/oauth2/token'];

let s: GrantServer;
let caller: { id: string; secret: string };
before(async () => {
  s = await startGrantServer({ dialects: ['oauth2', 'polar', 'orum', 'fuuffy', 'polygon-oms', 'tradevest=/tradevest/oauth2/token'], rateLimitIp: '0', rateLimitClient: '0' });
  caller = await s.client({ grants: ['client_credentials', 'web', 'refresh_token'], scopes: ['read', ...NAMES] });
});
after(() => s.close());

const serverError = (where: string, status: number, body: string) => `${where} answered ${status}: ${body.slice(0, 200)}`;

test('OBJ-01 a client whose scopes are named after Object.prototype members gets its consent page, its code and its token', async () => {
  const app = await s.client({ name: 'constructor', grants: ['authorization_code'], scopes: ['openid', ...NAMES], redirectUris: ['https://app.example/cb'] });
  const { session_token } = await s.session();
  const cookie = `keymint_session=${session_token}`;
  const { verifier, challenge } = pkce();
  const scope = ['openid', ...NAMES].join(' ');
  const page = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: 'https://app.example/cb', scope, state: 'st', code_challenge: challenge, code_challenge_method: 'S256' }, cookie);
  const html = await page.text();
  assert.equal(page.status, 200, serverError('consent page', page.status, html));
  assert.match(html, /Confirm who you are \(<code>openid<\/code>\)/);
  for (const n of NAMES) assert.ok(html.includes(`<li><code>${n}</code></li>`), `${n} is listed by name`);
  const approved = await fetch(`${s.url}/oauth2/authorize`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...formFields(html), decision: 'approve' }).toString(),
  });
  assert.equal(approved.status, 302);
  const code = new URL(String(approved.headers.get('location'))).searchParams.get('code')!;
  const token = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier }, { authorization: basic(app.id, app.secret) });
  assert.equal(token.status, 200);
  assert.equal((await s.json(token)).scope, scope);
});

test('OBJ-01 the client service: such names are valid client names and scopes, and unknown dialects, audiences and grants', async () => {
  await fc.assert(
    fc.asyncProperty(name, async (n) => {
      try {
        const { client } = await s.keymint.clients.create({ name: n.length > 0 ? n : 'x', scopes: /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(n) ? [n] : [] }, 'test');
        assert.equal(client.name, n.length > 0 ? n : 'x');
      } catch (err) {
        assert.ok(err instanceof ClientInputError, `create with name/scope ${JSON.stringify(n)}: ${String(err)}`);
      }
      for (const input of [{ dialects: [n] }, { audiences: [n] }, { grants: [n] }]) {
        // A prototype member's name is no dialect, no grant and not an absolute URI.
        const create = s.keymint.clients.create({ name: 'x', ...input }, 'test');
        if (NAMES.includes(n)) await assert.rejects(create, ClientInputError, JSON.stringify(input));
        else await create.catch((err: unknown) => assert.ok(err instanceof ClientInputError, `${JSON.stringify(input)}: ${String(err)}`));
      }
      await assert.rejects(s.keymint.clients.show(n), /no such client/);
    }),
    { numRuns: 60 },
  );
});

test('OBJ-01 the admin API: such names as JSON field names, values and path segments never get a 5xx', async () => {
  const positions: Array<(n: string) => readonly [string, string, string | undefined]> = [
    (n: string) => ['POST', '/clients', `{${JSON.stringify(n)}:{"admin":true},"name":"x"}`],
    (n: string) => ['POST', '/clients', JSON.stringify({ name: n, scopes: [n], dialects: [n], audiences: [n], redirect_uris: [n] })],
    (n: string) => ['POST', '/clients', JSON.stringify({ name: 'x', mode: n })],
    (n: string) => ['POST', '/sessions', JSON.stringify({ subject: n, subject_type: n })],
    (n: string) => ['POST', '/sessions', `{"subject":"u1",${JSON.stringify(n)}:[]}`],
    (n: string) => ['GET', `/clients/${encodeURIComponent(n)}`, undefined],
    (n: string) => ['POST', `/clients/${encodeURIComponent(n)}/rotate-secret`, '{}'],
    (n: string) => ['DELETE', `/sessions/${encodeURIComponent(n)}`, undefined],
    (n: string) => ['GET', `/${encodeURIComponent(n)}`, undefined],
  ];
  const admins = async () => (await s.keymint.clients.list()).filter((c) => c.scopes.includes('keymint:admin')).length;
  const adminsBefore = await admins();
  await fc.assert(
    fc.asyncProperty(name, fc.constantFrom(...positions), async (n, position) => {
      const [method, path, body] = position(n);
      const res = await s.admin(method, path, body === undefined ? undefined : JSON.parse(body));
      const text = await res.text();
      assert.ok(res.status < 500, serverError(`${method} ${path}`, res.status, text));
    }),
    { numRuns: 150 },
  );
  assert.equal(await admins(), adminsBefore, 'a "__proto__": {"admin": true} member made no admin client');
});

test('OBJ-01 every dialect\'s token endpoint, introspection and revocation: such names as parameter names and values never get a 5xx', async () => {
  const auth = { authorization: basic(caller.id, caller.secret) };
  const positions = [
    (path: string, n: string) => ({ path, form: { grant_type: 'client_credentials', [n]: 'x' } }),
    (path: string, n: string) => ({ path, form: { grant_type: n } }),
    (path: string, n: string) => ({ path, form: { grant_type: 'client_credentials', scope: n } }),
    (path: string, n: string) => ({ path, form: { grant_type: 'client_credentials', resource: n } }),
    (path: string, n: string) => ({ path, form: { grant_type: 'client_credentials', client_id: n, client_secret: n } }),
    (path: string, n: string) => ({ path, form: { grant_type: 'web', session_token: n, sub_type: n } }),
    (path: string, n: string) => ({ path, form: { grant_type: 'refresh_token', refresh_token: n } }),
    (path: string, n: string) => ({ path, json: `{"grant_type":"client_credentials",${JSON.stringify(n)}:{"a":1}}` }),
    (_path: string, n: string) => ({ path: '/oauth2/introspect', form: { token: n, token_type_hint: n } }),
    (_path: string, n: string) => ({ path: '/oauth2/revoke', form: { token: n, token_type_hint: n } }),
  ];
  await fc.assert(
    fc.asyncProperty(name, fc.constantFrom(...TOKEN_PATHS), fc.constantFrom(...positions), async (n, tokenPath, position) => {
      const call = position(tokenPath, n);
      const res = 'json' in call
        ? await fetch(`${s.url}${call.path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: call.json })
        : await s.postForm(call.path, call.form as Record<string, string>, auth);
      const text = await res.text();
      assert.ok(res.status < 500, serverError(`${call.path} ${JSON.stringify(call)}`, res.status, text));
    }),
    { numRuns: 200 },
  );
  // A scope named after a prototype member is granted like any other.
  assert.equal((await s.token(caller.id, caller.secret, { scope: 'toString __proto__' })).scope, 'toString __proto__');
});

test('OBJ-01 keymint/client: a dialect named after a prototype member is a clear TypeError', () => {
  for (const n of NAMES) {
    assert.throws(
      () => createTokenSource({ tokenUrl: 'https://auth.example.com/oauth2/token', clientId: 'c', clientSecret: 's', dialect: n as 'oauth2' }),
      (e: unknown) => e instanceof TypeError && e.message === `createTokenSource: unknown dialect ${n}`,
    );
  }
});

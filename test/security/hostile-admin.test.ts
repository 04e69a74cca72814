/**
 * Hostile input on the operators' surfaces, one property test each (fast-check, fixed seeds, bounded
 * runs): the admin API with a valid admin token and without one, and the console's forms and pages
 * for a signed-in admin and for nobody. Each answer is a 4xx (or the status the surface documents)
 * in its own shape (the admin API's JSON errors, the console's HTML pages), never a 5xx; no secret is
 * echoed; the server answers afterwards; an error leaves the store as it was.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/harness.ts';
import {
  assertAlive, assertAllowOn405, assertErrorShape, assertNotLogged, capturingLog, assertNoMarkupEchoed, assertNoSecret, assertNot5xx, assertSameStore, hostileAuthorization, hostileBag, hostileBody, hostileContentType,
  formOf, hostileJwt, hostileMethod, hostileNumber, hostileQuery, hostileSegment, hostileString, hostileValue, parseJson, send, storeFingerprint,
} from '../support/hostile.ts';
import { Browser, PASSWORD, signedIn } from '../console/support.ts';

let s: TestServer;
/** Every log line the server wrote, at debug level: no secret may be among them (S-06). */
const logged = capturingLog();
let admin: { id: string; secret: string };
let adminToken: string;
let victim: { id: string; secret: string };
let plain: { id: string; secret: string };
let ann: Browser;
let secrets: string[];

before(async () => {
  s = await startServer({ dialects: ['oauth2'], issuer: 'http://localhost:8080', console: 'true', lockoutThreshold: '1000' }, { log: logged.log });
  admin = await s.client({ admin: true, scopes: [] });
  adminToken = String((await s.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
  victim = await s.client({ scopes: ['read'] });
  plain = await s.client({ scopes: ['read'] });
  ann = await signedIn(s, 'ann', 'admin');
  secrets = [admin.secret, adminToken, victim.secret, PASSWORD, ...ann.jar.values()];
});
after(() => s.close());

/** Rows a refused request may write: the console audits refusals and marks sessions used (documented). */
const fingerprint = (skip: readonly string[] = []) => storeFingerprint(s.dataDir, skip);

const CLIENT_FIELDS = [
  'name', 'scopes', 'grants', 'mode', 'type', 'ttl', 'access_token_ttl', 'rate_limit', 'trusted', 'pkce_required', 'redirect_uris', 'audiences', 'dialects', 'metadata',
  'claims', 'token_endpoint_auth_method', 'jwks', 'jwks_uri', 'client_id', 'client_secret', 'admin', 'add_scopes', 'remove_scopes', 'expire_old_in', 'subject',
  'subject_type', 'organizations', 'token_reuse', 'dpop_bound_access_tokens', 'exchange_audiences', 'exchange_scopes',
];

/** Values of the right JSON type that are wrong all the same. */
const DEEP_VALUES: readonly unknown[] = [
  [''], ['a b'], ['\u0000'], ['x'.repeat(300)], Array.from({ length: 300 }, (_, i) => `s${i}`), ['client_credentials', 'client_credentials'], ['nope'], ['http://%zz'], ['javascript:alert(1)'],
  { '': 'x' }, { __proto__: 'x' }, { a: { b: { c: [1] } } }, { iss: 'x' }, { keys: [{ kty: 'oct', k: 'AAAA' }] }, { keys: 'x' }, 1e308, -1, 0, 2 ** 53 + 1, 86_400 * 365 * 1000, 'sandbox', 'public',
  'private_key_jwt', 'none', 'https://10.0.0.1/jwks', 'ks_short', `ks_${'a'.repeat(49)}`, 'x'.repeat(257),
];

/** An admin API error: `{ error, error_description }` (and `field` for a refused input), no-store. */
function expectAdminError(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8', `${what}: content type`);
  assertErrorShape(parseJson(res.text, what), what, ['field'], true);
}

test('S-08 the admin API with a valid admin token: hostile paths, methods, bodies and content types are a 4xx in the admin shape that changes nothing', async () => {
  let before = fingerprint();
  const path = fc.oneof(
    fc.constantFrom('clients', 'clients/', 'sessions', 'keys', 'audit', 'consents', 'consents/', 'clients//x', 'nope', ''),
    fc.tuple(fc.constantFrom('clients', 'sessions', 'keys', 'audit', 'consents'), fc.oneof(hostileSegment, fc.constant(encodeURIComponent(victim.id)))).map(([a, b]) => `${a}/${b}`),
    fc.tuple(fc.oneof(hostileSegment, fc.constant(encodeURIComponent(victim.id))), fc.constantFrom('rotate-secret', 'disable', 'enable', 'x', '%72otate-secret')).map(([a, b]) => `clients/${a}/${b}`),
  );
  const shallow = fc.record({
    path,
    method: hostileMethod,
    query: hostileQuery(['limit', 'cursor', 'subject', 'subject_type']),
    body: fc.oneof(fc.constant(undefined), hostileBody(hostileBag(CLIENT_FIELDS, fc.record({ name: fc.oneof(hostileValue, fc.constant('ok')) }, { requiredKeys: [] })))),
    type: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, hostileContentType),
  });
  // A valid route and a JSON body of valid settings but one or two hostile values: past routing and parsing, into the checks.
  const deep = fc
    .record({
      route: fc.constantFrom('POST clients', `PATCH clients/${victim.id}`, `POST clients/${victim.id}/rotate-secret`, 'POST sessions', 'GET audit'),
      names: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
      values: fc.array(fc.oneof(hostileValue, fc.constantFrom(...DEEP_VALUES), { arbitrary: hostileNumber, weight: 2 }), { minLength: 1, maxLength: 2 }),
      query: hostileQuery(['limit']),
    })
    .map(({ route, names, values, query }) => {
      const [method, path] = route.split(' ') as [string, string];
      const fields = path.endsWith('rotate-secret') ? ['expire_old_in', 'client_secret'] : path === 'sessions' ? ['subject', 'subject_type', 'organizations', 'ttl'] : [...CLIENT_FIELDS, '__proto__', 'constructor'];
      const hostile = Object.fromEntries(values.map((v, i) => [fields[names[i]! % fields.length]!, v]));
      const base: Record<string, unknown> = method === 'POST' && path === 'clients' ? { name: 'deep', scopes: ['read'] } : path === 'sessions' ? { subject: 'user-1', subject_type: 'user' } : {};
      const body = JSON.stringify(Object.assign(base, JSON.parse(JSON.stringify(hostile)) as object));
      return { path, method, query, body: method === 'GET' ? undefined : body, type: 'application/json' as string | undefined };
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(shallow, { arbitrary: deep, weight: 2 }), async ({ path, method: asked, query, body, type }) => {
      const method = asked.toUpperCase();
      const res = await send(`${s.url}/admin/v1/${path}?${query}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': type }, body });
      const what = `${method} /admin/v1/${path.slice(0, 120)}?${query.slice(0, 80)} ${JSON.stringify(String(body ?? '').slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      assertNoSecret(res.text, res.headers, secrets.filter((x) => x !== victim.secret || !path.includes('rotate')), what);
      if (res.status < 300) {
        before = fingerprint(); // a request the generator happened to make valid
        return;
      }
      if (method !== 'HEAD') expectAdminError(res, what);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 300, seed: 20261208 },
  );
  await assertAlive(s.url);
});

test('S-08 the admin API without a valid admin token: hostile credentials are 400/401/403 with a Bearer challenge and change nothing', async () => {
  const before = fingerprint();
  const plainToken = String((await s.token(plain.id, plain.secret)).access_token);
  const request = fc.record({
    path: fc.constantFrom('clients', `clients/${victim.id}`, `clients/${victim.id}/disable`, 'keys/rotate', 'sessions', 'audit', 'consents?subject=user-1', `consents/${victim.id}?subject=user-1`, 'x/%zz'),
    method: hostileMethod,
    authorization: fc.oneof(hostileAuthorization(admin), fc.constant(`Bearer ${plainToken}`), hostileJwt.map((t) => `Bearer ${t}`), fc.constant(`Bearer ${adminToken}`).map((v): string[] => [v, v])),
    body: fc.oneof(fc.constant(undefined), hostileBody(hostileBag(CLIENT_FIELDS))),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ path, method: asked, authorization, body }) => {
      const method = asked.toUpperCase();
      const res = await send(`${s.url}/admin/v1/${path}`, { method, headers: { authorization, 'content-type': 'application/json' }, body });
      const what = `${method} /admin/v1/${path} (${String(JSON.stringify(authorization)).slice(0, 120)})`;
      assert.ok([400, 401, 403].includes(res.status), `${what} → ${res.status} ${res.text.slice(0, 200)}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="keymint-admin"/, what);
      if (method !== 'HEAD') expectAdminError(res, what);
      assertNoSecret(res.text, res.headers, [...secrets, plainToken], what);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 80, seed: 20261209 },
  );
  await assertAlive(s.url);
});

const CONSOLE_FORM_FIELDS = [
  'csrf', 'name', 'scopes', 'grants', 'mode', 'type', 'ttl', 'rate_limit', 'trusted', 'pkce_optional', 'redirect_uris', 'audiences', 'dialects', 'metadata', 'claims',
  'auth_method', 'jwks', 'jwks_uri', 'tls_subject_dn', 'tls_san_ip', 'dpop_bound', 'refresh_token_rotation', 'exchange_audiences', 'exchange_scopes', 'security_profile', 'id_token_alg',
  'overlap', 'username', 'password', 'confirm', 'token',
];

/** Strings a console form reads as numbers, JSON, key=value lines, URIs or choices, and gets wrong. */
const FORM_VALUES = [
  '-1', '0', '1.5', '1e3', '99999999999', '9'.repeat(30), '٣', '0x10', ' 7 ', '{"__proto__":{"x":1}}', '{"iss":"x"}', '{"a":[1,{"b":null}]}', '[]', 'null', '{', '__proto__=x', 'constructor=x',
  '=x', 'a=b\nc', 'a=b\r\n\r\nc=d', 'https://app.example/cb\njavascript:alert(1)', 'http://%zz', 'client_credentials', 'authorization_code', 'sandbox', 'public', 'on', 'ann', 'x'.repeat(300),
  'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'fapi2', 'ES256', '{"keys":[{"kty":"EC","crv":"P-256","x":1}]}', '{"keys":{"__proto__":[]}}', 'CN=x,O=\u202e',
];

/** A console answer: an HTML page (or a redirect) with the console's CSP, never JSON but for /api. */
function expectConsolePage(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/, `${what}: the console's CSP`);
  assert.doesNotMatch(res.text, /class="notice notice-"|>undefined<|\[object Object\]|function [a-zA-Z]*\(\) \{/, `${what}: the page shows a value that is not there`);
  if (res.status === 303 || res.status === 302) return assert.match(res.headers.get('location') ?? '', /^\/console\//, what);
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('application/json')) return;
  assert.match(type, /^text\/(html|css|javascript)|^image\/svg|^application\/javascript/, `${what}: content type ${type}`);
}

test('S-08 the console\'s forms and pages: hostile forms, paths, queries, methods and cookies are a page (a 4xx for errors) that changes no client, key or token', async () => {
  const csrf = await ann.csrf('/console/clients/new');
  // The console audits refused forms (CO-03) and marks a session's last use: those rows may change.
  const skip = ['audit', 'console_sessions'];
  let before = fingerprint(skip);
  const path = fc.oneof(
    fc.constantFrom('/console/clients/new', `/console/clients/${victim.id}/edit`, `/console/clients/${victim.id}/rotate`, `/console/clients/${victim.id}/disable`, '/console/sign-in', '/console/link', '/console/clients', '/console/audit', '/console/keys', '/console/api/traffic', '/console/sandbox', '/console/assets/console.css'),
    fc.tuple(fc.constantFrom('/console/', '/console/clients/', '/console/assets/', `/console/clients/${victim.id}/`), hostileSegment).map(([a, b]) => a + b),
  );
  const request = fc.record({
    path,
    method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE'),
    query: hostileQuery(['token', 'done', 'q', 'limit', 'before', 'target', 'status', 'dialect']),
    body: hostileBody(hostileBag(CONSOLE_FORM_FIELDS, fc.record({ csrf: fc.oneof(fc.constant(csrf), hostileString), name: fc.constant('x'), mode: fc.constantFrom('live', 'sandbox'), type: fc.constantFrom('confidential', 'public') }, { requiredKeys: [] }))),
    type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, hostileContentType),
    cookie: fc.oneof({ arbitrary: fc.constant(ann.cookieHeader()), weight: 3 }, hostileString.map((v) => `keymint_console=${v}`), fc.constant(undefined)),
    origin: fc.constantFrom(undefined, 'null', 'https://evil.example', '%'),
  });
  // A form as the console's own page posts it (session, CSRF token, no foreign origin), valid but for one to three hostile fields.
  const preCsrf = await ann.csrf('/console/sign-in');
  const deep = fc
    .record({
      // Sign-in and link forms hash a password (deliberately slow): fewer of them.
      form: fc.oneof({ arbitrary: fc.constantFrom('/console/clients/new', `/console/clients/${victim.id}/edit`, `/console/clients/${victim.id}/rotate`), weight: 4 }, fc.constantFrom('/console/sign-in', '/console/link')),
      names: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
      values: fc.array(fc.oneof(hostileString, fc.constantFrom(...FORM_VALUES), fc.array(hostileString, { minLength: 2, maxLength: 3 })), { minLength: 1, maxLength: 3 }),
    })
    .map(({ form, names, values }) => {
      const fields = form.endsWith('/rotate') ? ['overlap'] : form.endsWith('/sign-in') ? ['username', 'password'] : form.endsWith('/link') ? ['token', 'password', 'confirm'] : CONSOLE_FORM_FIELDS.slice(1);
      const base: Record<string, unknown> = form.endsWith('/new') || form.endsWith('/edit') ? { name: 'deep', mode: 'live', type: 'confidential', scopes: 'read', grants: 'client_credentials' } : {};
      for (const [i, v] of values.entries()) base[fields[names[i]! % fields.length]!] = v;
      const csrfValue = form.endsWith('/sign-in') || form.endsWith('/link') ? preCsrf : csrf;
      return { path: form, method: 'POST', query: '', body: formOf({ csrf: csrfValue, ...base }), type: 'application/x-www-form-urlencoded' as string | undefined, cookie: ann.cookieHeader() as string | undefined, origin: undefined as string | undefined };
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(request, { arbitrary: deep, weight: 2 }), async ({ path, method, query, body, type, cookie, origin }) => {
      const res = await send(`${s.url}${path}?${query}`, { method, headers: { cookie, 'content-type': type, origin }, body });
      const what = `${method} ${path.slice(0, 120)}?${query.slice(0, 80)} ${JSON.stringify(String(body).slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      assertNoMarkupEchoed(res.text, res.headers, what);
      assertNoSecret(res.text, res.headers, secrets.filter((x) => x !== victim.secret), what);
      expectConsolePage(res, what);
      if (res.status < 400 && method === 'POST') {
        before = fingerprint(skip); // a form the generator happened to make valid
        return;
      }
      assertSameStore(fingerprint(skip), before, what);
    }),
    { numRuns: 150, seed: 20261210 },
  );
  await assertAlive(s.url);
  assert.equal((await ann.get('/console/clients')).status, 200, 'still signed in');
});

test('S-06 nothing the hostile requests above carried reached the server\'s log: no client secret, token, session or password', () => {
  assertNotLogged(logged.lines, secrets);
});

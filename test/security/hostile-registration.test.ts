/**
 * Hostile input on open dynamic client registration (RFC 7591, `--registration open`: anyone may
 * register, public clients of the code flow only) and its management with the registration access
 * token (RFC 7592), one property test each (fast-check, fixed seeds, bounded runs). A registration
 * is a 201 whose client is inside the policy (RG-02) or a 400 in RFC 7591 §3.2.2's shape
 * (`invalid_redirect_uri` or `invalid_client_metadata`, an ASCII description); management is the
 * client's metadata or a 401/404/405 in the mount's shape. Never a 5xx; no secret echoed or logged;
 * an error leaves the store as it was. (Registration behind an initial access token is in
 * hostile-oauth.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/harness.ts';
import {
  assertAlive, assertAllowOn405, assertErrorShape, assertRegistrableRedirectUri, assertNoBidiControl, assertNoMarkupEchoed, assertNoSecret, assertNot5xx, assertNotLogged, assertSameStore, capturingLog, HOSTILE_REDIRECT_URIS, hostileAuthorization, hostileBag, hostileBody,
  hostileContentType, hostileJwk, hostileMethod, hostileSegment, hostileString, hostileValue, parseJson, send, storeFingerprint,
} from '../support/hostile.ts';

const REDIRECT = 'https://app.example/cb';
const POLICY_SCOPES = ['read', 'write'];
let s: TestServer;
/** Every log line the server wrote, at debug level: no secret may be among them (S-06). */
const logged = capturingLog();
let app: { id: string; secret: string };
/** A signed-in user's session, to see the consent page a registered client gets. */
let session: string;
let secrets: string[];

before(async () => {
  // A rate no run reaches: the limit itself is tested in test/sender/registration.test.ts.
  s = await startServer({ dialects: ['oauth2'], issuer: 'http://localhost:8080', registration: 'open', registrationRateLimit: '1000000', resources: ['https://api.example/v1=read,write'] }, { log: logged.log });
  app = await s.client({ scopes: ['read'] });
  session = (await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test')).sessionToken;
  secrets = [app.secret, session];
});
after(() => s.close());

const fingerprint = () => storeFingerprint(s.dataDir);

const REGISTRATION_FIELDS = ['redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'client_name', 'scope', 'jwks', 'jwks_uri', 'dpop_bound_access_tokens', 'client_id', 'client_secret', 'software_statement'];

/** Values of the right JSON type for some member that are wrong all the same. */
const DEEP_VALUES: readonly unknown[] = [
  ...HOSTILE_REDIRECT_URIS.map((u) => [u]), [REDIRECT, 'javascript:alert(1)'], Array.from({ length: 11 }, (_, i) => `${REDIRECT}${i}`), [],
  ['client_credentials'], ['authorization_code', 'client_credentials'], ['refresh_token'], ['implicit'], ['urn:ietf:params:oauth:grant-type:jwt-bearer'], ['authorization_code', 'authorization_code'],
  ['token'], ['code', 'token'], ['code id_token'], 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'None',
  'read write', 'read keymint:admin', 'keymint:register', 'read  write', ' read', 'read\twrite', 'r"ead', 'x'.repeat(201), '\u0000', 'ok\u007f', 'Ünïcödé', 'Pay\u202elapyap', 'a\u2067b', 'a\u200fb', 'a\ud800', '<script>alert(1)</script>',
  'https://app.example/jwks.json', 'http://127.0.0.1/jwks.json', { keys: [] }, { keys: [{ kty: 'oct', k: 'AAAA' }] }, 'sk_live_x', true, false, 'true', 1,
];

/** RFC 7591 §3.2.2's error answer: 400, JSON, no-store, one of its codes, an ASCII description. */
function expectRegistrationError(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.equal(res.status, 400, `${what} → ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8', `${what}: content type`);
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  const body = parseJson(res.text, what);
  assertErrorShape(body, what);
  assert.ok(['invalid_client_metadata', 'invalid_redirect_uri'].includes(String(body.error)), `${what}: RFC 7591 error code ${String(body.error)}`);
  assert.equal(typeof body.error_description, 'string', `${what}: says why`);
}

/**
 * What an open registration may create, whatever was asked (RG-02): a public client of the code
 * flow, within the policy's scopes, whose redirect URIs a live client may use; its secret-less
 * answer matches what RFC 7592 reads back.
 */
async function expectPolicyClient(res: { text: string; headers: Headers }, what: string): Promise<void> {
  const b = parseJson(res.text, what);
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  assert.equal(b.token_endpoint_auth_method, 'none', `${what}: a public client`);
  assert.equal(b.client_secret, undefined, `${what}: no secret`);
  assert.ok(Array.isArray(b.grant_types) && b.grant_types.length > 0 && b.grant_types.every((g) => ['authorization_code', 'refresh_token'].includes(g as string)), `${what}: grants ${JSON.stringify(b.grant_types)}`);
  assert.ok(String(b.scope).split(' ').every((x) => POLICY_SCOPES.includes(x)), `${what}: scope ${JSON.stringify(b.scope)}`);
  const uris = b.redirect_uris as unknown[];
  assert.ok(Array.isArray(uris) && uris.length >= 1 && uris.length <= 10, `${what}: redirect_uris ${JSON.stringify(uris)}`);
  for (const uri of uris) assertRegistrableRedirectUri(uri, what);
  assert.match(String(b.registration_access_token), /^km_reg_/, what);
  if ((b.grant_types as string[]).includes('authorization_code')) {
    // The user meets the client by the name it chose: shown escaped, never as markup.
    const query = new URLSearchParams({ response_type: 'code', client_id: String(b.client_id), redirect_uri: String(uris[0]), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const page = await send(`${s.url}/oauth2/authorize?${query}`, { method: 'GET', headers: { cookie: `keymint_session=${session}` } });
    assert.equal(page.status, 200, `${what}: the consent page → ${page.status} ${page.text.slice(0, 200)}`);
    assertNoMarkupEchoed(page.text, page.headers, what);
    assertNoBidiControl(page.text, what);
    assert.match(page.text, /You will be sent back to <code>(https?:\/\/[^<]+|[a-z][a-z0-9+.-]*:)<\/code>\./, `${what}: the page says where the user goes`);
    const escaped = String(b.client_name).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    assert.ok(page.text.includes(escaped), `${what}: the consent page names the client ${JSON.stringify(escaped)}`);
  }
  const read = await send(`${s.url}${new URL(String(b.registration_client_uri)).pathname}`, { method: 'GET', headers: { authorization: `Bearer ${String(b.registration_access_token)}` } });
  assert.equal(read.status, 200, `${what}: RFC 7592 reads it`);
  const { registration_access_token: _token, ...rest } = b;
  assert.deepEqual(parseJson(read.text, what), rest, `${what}: RFC 7592 reads what was answered`);
  assertNoSecret(read.text, read.headers, [String(b.registration_access_token)], what);
  secrets.push(String(b.registration_access_token));
}

test('S-08 RG-02 open registration: hostile bodies, content types, methods and metadata are a policy client or a 400 in RFC 7591 shape that registers nothing', async () => {
  let before = fingerprint();
  const shallow = fc.record({
    body: hostileBody(hostileBag(REGISTRATION_FIELDS, fc.record({ jwks: fc.oneof(hostileJwk, hostileJwk.map((k) => ({ keys: [k] }))), redirect_uris: fc.oneof(fc.constant([REDIRECT]), hostileValue) }, { requiredKeys: [] }))),
    type: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, hostileContentType),
    authorization: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, hostileAuthorization(app)),
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  });
  // Valid metadata of a public client with one to three members hostile: past parsing, into the policy's checks.
  const deep = fc
    .record({
      names: fc.array(fc.constantFrom(...REGISTRATION_FIELDS, '__proto__', 'constructor'), { minLength: 1, maxLength: 3 }),
      values: fc.array(fc.oneof({ arbitrary: fc.constantFrom(...DEEP_VALUES), weight: 3 }, hostileValue, fc.array(hostileString, { minLength: 1, maxLength: 3 }), hostileJwk.map((k) => ({ keys: [k] }))), { minLength: 3, maxLength: 3 }),
    })
    .map(({ names, values }) => {
      const base: Record<string, unknown> = { client_name: 'deep', redirect_uris: [REDIRECT] };
      for (const [i, name] of names.entries()) Object.defineProperty(base, name, { value: values[i], enumerable: true, writable: true, configurable: true });
      return { body: JSON.stringify(base) as string | Buffer, type: 'application/json' as string | undefined, authorization: undefined as string | string[] | undefined, method: 'POST' };
    });
  let created = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(shallow, { arbitrary: deep, weight: 3 }), async (r) => {
      const res = await send(`${s.url}/oauth2/register`, { method: r.method, headers: { 'content-type': r.type, authorization: r.authorization }, body: r.body });
      const what = `${r.method} /oauth2/register ${JSON.stringify(String(r.body).slice(0, 300))} (${r.type})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      if (res.status === 201) {
        before = fingerprint(); // first: a failing check below must not leave the next run comparing against the store before this client
        assert.equal(r.method, 'POST', what);
        await expectPolicyClient(res, what);
        created++;
        return;
      }
      if (r.method === 'POST') expectRegistrationError(res, what);
      else {
        assert.equal(res.status, 405, `${what} → ${res.status}`);
        assertErrorShape(parseJson(res.text, what), what);
      }
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 300, seed: 20261212 },
  );
  assert.ok(created > 0, 'some generated registrations were acceptable: the property reached the 201 path');
  await assertAlive(s.url);
});

test('S-08 RG-01 RFC 7592 management of an openly registered client: hostile tokens, ids, methods and bodies are its metadata or a 400/401/404/405 that changes nothing', async () => {
  const reg = await send(`${s.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'managed', redirect_uris: [REDIRECT] }) });
  assert.equal(reg.status, 201, reg.text);
  const registered = parseJson(reg.text, 'registration');
  const token = String(registered.registration_access_token);
  const id = String(registered.client_id);
  const other = parseJson((await send(`${s.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) })).text, 'registration');
  const otherToken = String(other.registration_access_token);
  secrets.push(token, otherToken);
  const { registration_access_token: _t, ...metadata } = registered;
  const before = fingerprint();
  const request = fc.record({
    segment: fc.oneof(hostileSegment, fc.constantFrom(id, encodeURIComponent(id).replace('_', '%5F'), `${id}/`, `${id}/x`, `${id}%00`, id.toUpperCase(), String(other.client_id), encodeURIComponent(app.id))),
    method: fc.oneof({ arbitrary: fc.constantFrom('GET', 'HEAD'), weight: 2 }, hostileMethod),
    authorization: fc.oneof(
      { arbitrary: fc.constant(`Bearer ${token}`), weight: 3 },
      hostileAuthorization(app),
      fc.constantFrom(`Bearer ${otherToken}`, `bearer   ${token}`, `Bearer ${token} `, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, `DPoP ${token}`, `Bearer ${token.toUpperCase()}`),
      fc.constant<string[]>([`Bearer ${token}`, `Bearer ${token}`]),
    ),
    body: fc.oneof(fc.constant(undefined), hostileBody(hostileBag(REGISTRATION_FIELDS, fc.record({ client_id: fc.constant(id), redirect_uris: fc.constant(['javascript:alert(1)']) }, { requiredKeys: [] })))),
    type: hostileContentType,
  }).filter((r) => !(r.method.toUpperCase() === 'DELETE' && [token, otherToken].some((t) => String(r.authorization).includes(t)))); // a DELETE that could work would end the client
  await fc.assert(
    fc.asyncProperty(request, async ({ segment, method: asked, authorization, body, type }) => {
      const method = asked.toUpperCase();
      const res = await send(`${s.url}/oauth2/register/${segment}`, { method, headers: { authorization, 'content-type': type }, body });
      const what = `${method} /oauth2/register/${segment.slice(0, 100)} (${String(JSON.stringify(authorization)).slice(0, 100)}) ${JSON.stringify(String(body ?? '').slice(0, 160))}`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      if (res.status === 204) return assert.fail(`${what}: a DELETE went through`);
      if (res.status === 200) {
        // Only the right token on the client's own id reads it; what it reads is what was registered.
        assert.ok(['GET', 'HEAD'].includes(method), what);
        if (method === 'GET') assert.deepEqual(parseJson(res.text, what), metadata, what);
      } else {
        assert.ok([400, 401, 404, 405].includes(res.status), `${what} → ${res.status} ${res.text.slice(0, 200)}`);
        if (res.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="keymint"/, `${what}: a Bearer challenge`);
        // 400 only for a malformed or repeated Authorization header (RFC 6750 §3.1).
        if (res.status === 400) assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_request"', what);
        if (method !== 'HEAD') assertErrorShape(parseJson(res.text, what), what);
      }
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 200, seed: 20261213 },
  );
  await assertAlive(s.url);
});

test('S-08 RG-02 the open registration rate cannot be dodged: forwarding headers and refused metadata from one address all count, and past the limit every POST is 429 with Retry-After', async (t) => {
  const limited = await startServer({ dialects: ['oauth2'], registration: 'open', registrationRateLimit: '5', resources: ['https://api.example/v1=read'] });
  t.after(() => limited.close());
  const spoof = fc.record({
    'x-forwarded-for': fc.oneof(fc.constant(undefined), fc.ipV4(), fc.ipV6(), fc.constantFrom('127.0.0.1', '::1', '::ffff:10.0.0.1', '10.0.0.1, 127.0.0.1', 'unknown', '', 'fe80::1%eth0', '1.2.3.4:80'), hostileString),
    forwarded: fc.oneof(fc.constant(undefined), fc.ipV4().map((ip) => `for=${ip}`), fc.constantFrom('for="[::1]"', 'for=unknown')),
    'x-real-ip': fc.oneof(fc.constant(undefined), fc.ipV4()),
    'true-client-ip': fc.oneof(fc.constant(undefined), fc.ipV4()),
    valid: fc.boolean(),
  });
  const requests = fc.sample(spoof, { numRuns: 20, seed: 20261217 });
  for (const [i, { valid, ...headers }] of requests.entries()) {
    const body = valid ? JSON.stringify({ redirect_uris: [REDIRECT] }) : JSON.stringify({ redirect_uris: ['javascript:alert(1)'] });
    const res = await send(`${limited.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const what = `registration #${i + 1} ${JSON.stringify(headers)}`;
    if (i < 5) {
      assert.ok(valid ? res.status === 201 : res.status === 400, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
      continue;
    }
    assert.equal(res.status, 429, `${what}: past the limit → ${res.status} ${res.text.slice(0, 200)}`);
    assert.ok(Number(res.headers.get('retry-after')) > 0, `${what}: Retry-After`);
    const answer = parseJson(res.text, what);
    assertErrorShape(answer, what);
  }
});

test('S-06 nothing the hostile registrations above carried reached the server\'s log: no client secret or registration access token', () => {
  assertNotLogged(logged.lines, secrets);
});

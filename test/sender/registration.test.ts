/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) at `/oauth2/register`:
 * behind an initial access token, and open; what the policy refuses; secrets and registration
 * access tokens shown once; the registered clients working at the token endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { answerDevice, startGrantServer, USER, type GrantServer } from '../grants/support.ts';
import { assertion, JWT_BEARER, keyPair } from '../support/sender.ts';
import { send } from '../support/hostile.ts';

const API = 'https://api.example/v1';
type Answer = { status: number; body: Record<string, unknown>; headers: Headers };

const register = async (s: TestServer, body: unknown, token?: string): Promise<Answer> => {
  const res = await fetch(`${s.url}/oauth2/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
};

describe('registration behind an initial access token', () => {
  let s: TestServer;
  let initial: string;
  before(async () => {
    s = await startServer({ registration: 'token', resources: [`${API}=api:read,api:write`] });
    const registrar = await s.client({ scopes: ['keymint:register'] });
    initial = String((await s.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
  });
  after(() => s.close());

  test('RG-01 metadata advertises the endpoint; no token, or a token without keymint:register, is 401 invalid_token', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(meta.registration_endpoint, `${s.keymint.config.issuer}/oauth2/register`);
    const none = await register(s, { grant_types: ['client_credentials'] });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const plain = await s.client({ scopes: ['api:read'] });
    const other = String((await s.token(plain.id, plain.secret)).access_token);
    assert.deepEqual([(await register(s, { grant_types: ['client_credentials'] }, other)).status], [401]);
  });

  test('B-02 RG-01 the initial and the registration access token: no bearer token (or another scheme) is a bare 401 challenge; a malformed or repeated header is 400 invalid_request', async () => {
    const created = await register(s, { grant_types: ['client_credentials'], scope: 'api:read' }, initial);
    const rat = String(created.body.registration_access_token);
    const path = new URL(String(created.body.registration_client_uri)).pathname;
    const routes = [
      { path: '/oauth2/register', method: 'POST', token: initial, missing: 'An initial access token is required.' },
      { path, method: 'GET', token: rat, missing: 'The registration access token is required.' },
    ];
    for (const { path: url, method, token, missing } of routes) {
      const call = (authorization: string | string[] | undefined) =>
        send(`${s.url}${url}`, { method, headers: { 'content-type': 'application/json', authorization }, ...(method === 'POST' ? { body: '{"grant_types":["client_credentials"]}' } : {}) });
      for (const authorization of [undefined, 'Basic YTpi', `DPoP ${token}`, '']) {
        const res = await call(authorization);
        assert.equal(res.status, 401, `${method} ${String(authorization)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint"');
        assert.deepEqual(JSON.parse(res.text), { error: 'invalid_token', error_description: missing });
      }
      for (const authorization of ['Bearer a b', 'Bearer', 'Bearer a,b', [`Bearer ${token}`, `Bearer ${token}`]]) {
        const res = await call(authorization);
        assert.equal(res.status, 400, `${method} ${String(authorization)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_request"');
        assert.deepEqual(JSON.parse(res.text), { error: 'invalid_request', error_description: 'The Authorization header is malformed.' });
      }
      // The scheme is case-insensitive (RFC 9110 §11.1).
      assert.equal((await call(`bEARER  ${token}`)).status, method === 'POST' ? 201 : 200);
    }
  });

  test('RG-01 a confidential client: the secret and the registration access token shown once, the client works, RFC 7592 reads and deletes it', async () => {
    const created = await register(s, { client_name: 'Reporting job', grant_types: ['client_credentials'], scope: 'api:read' }, initial);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const b = created.body as Record<string, string>;
    assert.equal(b.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(b.client_secret_expires_at as unknown as number, 0);
    assert.match(b.registration_access_token!, /^km_reg_/);
    assert.equal(b.registration_client_uri, `${s.keymint.config.issuer}/oauth2/register/${b.client_id}`);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const token = await s.token(b.client_id!, b.client_secret!);
    assert.equal(decodeJwt(String(token.access_token)).aud, API, 'the policy\'s audience');
    assert.equal(decodeJwt(String(token.access_token)).scope, 'api:read');

    const path = new URL(b.registration_client_uri!).pathname;
    const read = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${b.registration_access_token}` } });
    const view = (await read.json()) as Record<string, unknown>;
    assert.equal(read.status, 200);
    assert.equal(view.client_id, b.client_id);
    assert.equal(view.client_secret, undefined, 'a secret is shown once');
    for (const wrong of ['km_reg_wrong', initial]) {
      assert.equal((await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${wrong}` } })).status, 401);
    }
    assert.equal((await fetch(`${s.url}/oauth2/register/sk_live_nosuchclient00000000`, { headers: { authorization: `Bearer ${b.registration_access_token}` } })).status, 401);
    assert.equal((await fetch(`${s.url}${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${b.registration_access_token}` } })).status, 204);
    assert.equal((await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${b.registration_access_token}` } })).status, 401);
    const gone = await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(b.client_id!, b.client_secret!) });
    assert.equal(gone.status, 401);
  });

  test('RG-01 a private_key_jwt client registered with its keys authenticates with an assertion; no secret is issued', async () => {
    const key = await keyPair('ES256', 'reg-1');
    const created = await register(s, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, dpop_bound_access_tokens: false }, initial);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.client_secret, undefined);
    const clientId = String(created.body.client_id);
    const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId, aud: s.keymint.config.issuer }) });
    assert.equal(res.status, 200);
  });

  test('RG-01 refused metadata: invalid_redirect_uri and invalid_client_metadata, nothing created', async () => {
    const before = (await s.keymint.clients.list()).length;
    const cases: Array<[unknown, string]> = [
      [{ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['https://app.example/cb#frag'] }, 'invalid_redirect_uri'],
      [{ grant_types: ['authorization_code'] }, 'invalid_redirect_uri'],
      [{ grant_types: ['password'] }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], scope: 'admin' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://:pw@app.example/jwks.json' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks.json#' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'invalid_client_metadata'],
      [{ redirect_uris: 'https://app.example/cb' }, 'invalid_redirect_uri'],
      [{ grant_types: ['client_credentials'], client_name: 7 }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], client_name: 'Pay\u202elapyap' }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials'], client_name: 'a\ud800' }, 'invalid_client_metadata'],
    ];
    for (const [body, code] of cases) {
      const r = await register(s, body, initial);
      assert.deepEqual([r.status, r.body.error], [400, code], JSON.stringify(body));
    }
    assert.equal((await s.keymint.clients.list()).length, before);
  });

  test('RG-01 RG-05 client configuration takes GET, HEAD, PUT and DELETE: another method is 405 with Allow, and changes nothing', async () => {
    const created = await register(s, { grant_types: ['client_credentials'], scope: 'api:read' }, initial);
    const b = created.body as Record<string, string>;
    const path = new URL(b.registration_client_uri!).pathname;
    const auth = { authorization: `Bearer ${b.registration_access_token}` };
    for (const method of ['PATCH', 'POST', 'OPTIONS']) {
      const res = await fetch(`${s.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(method === 'OPTIONS' ? {} : { body: '{"client_name":"changed"}' }) });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET, HEAD, PUT, DELETE', method);
      assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'Client configuration (RFC 7592) accepts only GET, HEAD, PUT, DELETE.' });
    }
    const head = await fetch(`${s.url}${path}`, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal((await s.keymint.clients.show(b.client_id!)).name, 'Registered client');
  });

  describe('RFC 7592 update (PUT)', () => {
    const put = async (uri: string, token: string, body: unknown): Promise<Answer> => {
      const res = await fetch(`${s.url}${new URL(uri).pathname}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
    };

    test('RG-05 the whole metadata replaced: what is left out goes back to its default, the answer is the metadata and the endpoint (no credential), the client keeps working with the same secret', async () => {
      const created = await register(s, { client_name: 'Billing sync', grant_types: ['client_credentials'], scope: 'api:read api:write', post_logout_redirect_uris: ['https://app.example/bye'], refresh_token_rotation: false }, initial);
      const b = created.body as Record<string, string>;
      const updated = await put(b.registration_client_uri!, b.registration_access_token!, { client_id: b.client_id, client_secret: b.client_secret, client_name: 'Billing sync v2', grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'client_secret_post', client_id_issued_at: 1, client_secret_expires_at: 0, registration_client_uri: 'https://evil.example/', registration_access_token: 'km_reg_chosen' });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.headers.get('cache-control'), 'no-store');
      assert.deepEqual(updated.body, {
        client_id: b.client_id,
        client_id_issued_at: created.body.client_id_issued_at,
        client_name: 'Billing sync v2',
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        scope: 'api:read',
        registration_client_uri: b.registration_client_uri,
      });
      const view = await s.keymint.clients.show(b.client_id!);
      assert.deepEqual([view.name, view.scopes, view.post_logout_redirect_uris, view.refresh_token_rotation], ['Billing sync v2', ['api:read'], [], true], 'left out: reset to the defaults');
      assert.equal(decodeJwt(String((await s.token(b.client_id!, b.client_secret!)).access_token)).scope, 'api:read');
      const wider = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', scope: 'api:write' }, { authorization: basic(b.client_id!, b.client_secret!) });
      assert.deepEqual([wider.status, ((await wider.json()) as Record<string, unknown>).error], [400, 'invalid_scope']);
      const read = await fetch(`${s.url}${new URL(b.registration_client_uri!).pathname}`, { headers: { authorization: `Bearer ${b.registration_access_token}` } });
      const readBody = (await read.json()) as Record<string, unknown>;
      assert.deepEqual([readBody.client_name, readBody.registration_access_token, readBody.client_secret], ['Billing sync v2', undefined, undefined]);
      assert.equal((await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(b.client_id!, b.client_secret!) })).status, 200, 'the same secret');
      const audit = (await s.keymint.store.audit.list(1000)).filter((e) => e.target === b.client_id);
      assert.ok(audit.some((e) => e.action === 'client.update' && e.actor === `registration:${b.client_id}` && e.target === b.client_id), JSON.stringify(audit));
    });

    test('RG-05 refused updates change nothing: another client_id or none, a secret that is not the client\'s, another way to authenticate, metadata the policy refuses, no redirect URI for the code flow', async () => {
      const created = await register(s, { client_name: 'Steady', grant_types: ['client_credentials'], scope: 'api:read' }, initial);
      const b = created.body as Record<string, string>;
      const other = await register(s, { grant_types: ['client_credentials'], scope: 'api:read' }, initial);
      const base = { client_id: b.client_id, client_name: 'Changed', grant_types: ['client_credentials'], scope: 'api:read' };
      const cases: Array<[unknown, number, string]> = [
        [{ ...base, client_id: other.body.client_id }, 400, 'invalid_client_metadata'],
        [{ ...base, client_id: undefined }, 400, 'invalid_client_metadata'],
        [{ ...base, client_secret: other.body.client_secret }, 400, 'invalid_client_metadata'],
        [{ ...base, client_secret: 'ks_chosen-by-the-client-0123456789' }, 400, 'invalid_client_metadata'],
        [{ ...base, client_secret: 42 }, 400, 'invalid_client_metadata'],
        [{ ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [(await keyPair('ES256', 'swap')).jwk] } }, 400, 'invalid_client_metadata'],
        [{ ...base, token_endpoint_auth_method: 'none' }, 400, 'invalid_client_metadata'],
        [{ ...base, scope: 'keymint:register' }, 400, 'invalid_client_metadata'],
        [{ ...base, grant_types: ['authorization_code'] }, 400, 'invalid_redirect_uri'],
        [{ ...base, redirect_uris: ['javascript:alert(1)'] }, 400, 'invalid_redirect_uri'],
        ['not an object', 400, 'invalid_client_metadata'],
      ];
      for (const [body, status, code] of cases) {
        const r = await put(b.registration_client_uri!, b.registration_access_token!, body);
        assert.deepEqual([r.status, r.body.error], [status, code], JSON.stringify(body));
      }
      const wrongToken = await put(b.registration_client_uri!, String(other.body.registration_access_token), base);
      assert.equal(wrongToken.status, 401);
      const view = await s.keymint.clients.show(b.client_id!);
      assert.deepEqual([view.name, view.scopes, view.token_endpoint_auth_method], ['Steady', ['api:read'], 'client_secret_basic']);
      assert.equal((await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(b.client_id!, b.client_secret!) })).status, 200);
    });

    test('RG-05 a private_key_jwt client rotates its keys by PUT: the new key\'s assertion is accepted, the old one\'s refused', async () => {
      const oldKey = await keyPair('ES256', 'old-1');
      const newKey = await keyPair('ES256', 'new-1');
      const created = await register(s, { grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [oldKey.jwk] } }, initial);
      const clientId = String(created.body.client_id);
      const aud = s.keymint.config.issuer;
      const tokenWith = async (key: typeof oldKey) => (await s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId, aud }) })).status;
      assert.equal(await tokenWith(oldKey), 200);
      const updated = await put(String(created.body.registration_client_uri), String(created.body.registration_access_token), { client_id: clientId, grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [newKey.jwk] } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.deepEqual(updated.body.jwks, { keys: [newKey.jwk] });
      assert.equal(await tokenWith(newKey), 200);
      assert.equal(await tokenWith(oldKey), 401);
      const swap = await put(String(created.body.registration_client_uri), String(created.body.registration_access_token), { client_id: clientId, grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'client_secret_basic' });
      assert.deepEqual([swap.status, swap.body.error, swap.body.client_secret], [400, 'invalid_client_metadata', undefined]);
      assert.equal(swap.body.error_description, 'token_endpoint_auth_method cannot change how the client authenticates (private_key_jwt); delete the registration and register again');
      assert.equal(await tokenWith(newKey), 200, 'the refused change left the keys');
    });
  });

  test('R-05 RG-01 refusals are fixed ASCII text: a hostile grant, scope, name or redirect URI is not repeated', async () => {
    const hostile = '"<script>\u0000é\u202e';
    const cases: unknown[] = [
      { grant_types: [hostile] },
      { grant_types: ['client_credentials'], scope: 'api:read évil' },
      { grant_types: ['client_credentials'], scope: 'api:read not-offered-scope' },
      { grant_types: ['client_credentials'], client_name: '' },
      { redirect_uris: [`https://app.example/${'a'.repeat(2001)}`] },
      { redirect_uris: ['https://app.example/cb#x'] },
      { redirect_uris: ['ftp://app.example/cb'] },
      { redirect_uris: ['http://localhost:3000/cb'] },
      { redirect_uris: ['http://app.example/cb'] },
      { redirect_uris: ['https://app.example/cb'], response_types: [] },
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' },
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: [] },
    ];
    for (const body of cases) {
      const r = await register(s, body, initial);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      const description = String(r.body.error_description);
      assert.match(description, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, description);
      for (const echoed of ['script', 'évil', 'not-offered-scope']) assert.ok(!description.includes(echoed), description);
    }
  });
});

describe('open registration', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ registration: 'open', registrationRateLimit: '3', resources: [`${API}=api:read`] });
  });
  after(() => s.close());

  test('RG-02 anyone registers a public client of the code flow, nothing else; a fourth registration from one address within the hour is 429', async () => {
    const ok = await register(s, { redirect_uris: ['http://127.0.0.1:7777/cb'], client_name: 'CLI tool' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.token_endpoint_auth_method, 'none');
    assert.deepEqual(ok.body.grant_types, ['authorization_code']);
    assert.equal(ok.body.client_secret, undefined);
    assert.equal(ok.body.scope, 'api:read');
    const refused = await register(s, { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_client_metadata']);
    const cc = await register(s, { grant_types: ['client_credentials'] });
    assert.deepEqual([cc.status, cc.body.error], [400, 'invalid_client_metadata']);
    const limited = await register(s, { redirect_uris: ['https://app.example/cb'] });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});

describe('the device authorization grant (RFC 8628) for registered clients', () => {
  const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
  let s: GrantServer;
  let clock = Date.parse('2026-12-01T12:00:00Z');
  let initial: string;
  before(async () => {
    s = await startGrantServer({ registration: 'token', resources: [`${API}=api:read,api:write`] }, { now: () => clock });
    const registrar = await s.client({ scopes: ['keymint:register'] });
    initial = String((await s.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
  });
  after(() => s.close());

  const poll = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await s.postForm('/oauth2/token', { grant_type: DEVICE, ...form }, headers);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('RG-04 a public client registered with the device_code grant: device authorization, approval on the verification page, one token', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[]; device_authorization_endpoint: string };
    assert.ok(meta.grant_types_supported.includes(DEVICE));
    assert.equal(meta.device_authorization_endpoint, 'http://localhost:8080/oauth2/device_authorization');
    const created = await register(s, { client_name: 'Acme CLI', grant_types: [DEVICE, 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'api:read' }, initial);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { client_id: clientId, client_id_issued_at: _at, registration_access_token: rat, registration_client_uri: _uri, ...metadata } = created.body;
    assert.match(String(rat), /^km_reg_/);
    assert.deepEqual(metadata, { client_name: 'Acme CLI', redirect_uris: [], grant_types: [DEVICE, 'refresh_token'], response_types: [], token_endpoint_auth_method: 'none', scope: 'api:read' });

    const started = await s.postForm('/oauth2/device_authorization', { client_id: String(clientId) });
    const codes = (await started.json()) as { device_code: string; user_code: string; interval: number };
    assert.equal(started.status, 200, JSON.stringify(codes));
    assert.deepEqual(await poll({ client_id: String(clientId), device_code: codes.device_code }), { status: 400, body: { error: 'authorization_pending', error_description: 'The user has not yet approved the request.' } });
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    const approved = await answerDevice(s, codes.user_code, 'approve', cookie);
    assert.equal(approved.status, 200);
    clock += codes.interval * 1000;
    const issued = await poll({ client_id: String(clientId), device_code: codes.device_code });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.deepEqual(Object.keys(issued.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.deepEqual([issued.body.token_type, issued.body.scope], ['Bearer', 'api:read']);
    const claims = decodeJwt(String(issued.body.access_token));
    assert.deepEqual([claims.client_id, claims.sub, claims.aud], [clientId, USER, API]);
    clock += codes.interval * 1000;
    assert.deepEqual((await poll({ client_id: String(clientId), device_code: codes.device_code })).body.error, 'invalid_grant');
  });

  test('RG-04 a confidential client may register the grant too and starts the flow with its secret; open registration refuses the grant, creating nothing', async (t) => {
    const created = await register(s, { grant_types: [DEVICE], scope: 'api:write' }, initial);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.token_endpoint_auth_method, 'client_secret_basic');
    const auth = { authorization: basic(String(created.body.client_id), String(created.body.client_secret)) };
    const started = await s.postForm('/oauth2/device_authorization', {}, auth);
    assert.equal(started.status, 200);
    const code = String(((await started.json()) as { device_code: string }).device_code);
    assert.equal((await poll({ device_code: code }, auth)).body.error, 'authorization_pending');
    assert.equal((await poll({ device_code: code, client_id: String(created.body.client_id) })).status, 401, 'without its secret');

    const open = await startServer({ registration: 'open', resources: [`${API}=api:read`] });
    t.after(() => open.close());
    for (const grants of [[DEVICE], ['authorization_code', DEVICE]]) {
      const refused = await register(open, { grant_types: grants, redirect_uris: ['http://127.0.0.1:7777/cb'], token_endpoint_auth_method: 'none' });
      assert.deepEqual([refused.status, refused.body], [400, { error: 'invalid_client_metadata', error_description: 'a grant in grant_types may not be registered here; allowed: authorization_code, refresh_token' }]);
    }
    assert.deepEqual(await open.keymint.clients.list(), []);
  });
});

describe('clients registered for private_key_jwt by the operator', () => {
  test('PJ-02 the admin API and the CLI create secret-less clients from a JWKS; keys with private parts are refused by field; such a client has no secret to rotate', async (t) => {
    const s = await startServer();
    t.after(() => s.close());
    const admin = await s.client({ admin: true, scopes: [] });
    const adminToken = String((await s.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${s.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const key = await keyPair('ES256', 'ops-1');
    const created = await call('POST', '/clients', { name: 'signer', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, dpop_bound_access_tokens: true });
    const view = (await created.json()) as Record<string, unknown>;
    assert.equal(created.status, 201, JSON.stringify(view));
    assert.equal(view.client_secret, null);
    assert.equal(view.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(view.dpop_bound_access_tokens, true);
    assert.deepEqual(view.secrets, []);
    const leaked = await call('POST', '/clients', { name: 'leaky', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...key.jwk, d: 'AAAA' }] } });
    assert.equal(leaked.status, 400);
    assert.equal(((await leaked.json()) as { field: string }).field, 'jwks');
    const rotate = await call('POST', `/clients/${String(view.client_id)}/rotate-secret`, {});
    assert.equal(rotate.status, 400);
  });
});

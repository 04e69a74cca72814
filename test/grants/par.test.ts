/**
 * Pushed authorization requests (RFC 9126) on the wire: the push's exact answers (201 and each error),
 * the authorization endpoint's use of a request_uri (pushed parameters only, one time, the client's
 * own, within its lifetime), the consent page's round trip, clients that must push, discovery.
 * SQLite store (the grant server's default); the PostgreSQL race is in par-races.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertion, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { authorizeGet, basic, formFields, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const ISSUER = 'http://localhost:8080';
const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:km_rq_[0-9A-Za-z]{43}$/;

describe('pushed authorization requests (PAR-*)', () => {
  let s: GrantServer;
  let now = Date.now();
  let app: { id: string; secret: string };
  let trusted: { id: string; secret: string };
  let other: { id: string; secret: string };
  let publicApp: { id: string; secret: string };
  let mustPush: { id: string; secret: string };
  let ccOnly: { id: string; secret: string };
  let cookie: string;
  const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] };
  before(async () => {
    s = await startGrantServer({}, { now: () => now });
    app = await s.client({ ...base, name: 'Acme Reports' });
    trusted = await s.client({ ...base, name: 'Dashboard', trusted: true });
    other = await s.client({ ...base, name: 'Other', trusted: true });
    publicApp = await s.client({ ...base, name: 'SPA', type: 'public', trusted: true });
    mustPush = await s.client({ ...base, name: 'FAPI app', trusted: true, requirePar: true });
    ccOnly = await s.client({ name: 'Machine', scopes: ['read'], redirectUris: [CB] });
    cookie = `keymint_session=${(await s.session()).session_token}`;
  });
  after(() => s.close());

  const pushed = (c: { id: string; secret: string }, over: Record<string, string | undefined> = {}, headers?: Record<string, string>) => {
    const { challenge, verifier } = pkce();
    const form: Record<string, string> = { response_type: 'code', client_id: c.id, redirect_uri: CB, scope: 'openid read', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete form[k]; else form[k] = v;
    return { verifier, res: s.postForm('/oauth2/par', form, headers ?? { authorization: basic(c.id, c.secret) }) };
  };
  const push = async (c: { id: string; secret: string }, over: Record<string, string | undefined> = {}) => {
    const { verifier, res } = pushed(c, over);
    const r = await res;
    const body = await s.json(r);
    assert.equal(r.status, 201, JSON.stringify(body));
    return { requestUri: String(body.request_uri), verifier };
  };
  const expectError = async (res: Response, status: number, error: string, description: string) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('location'), null);
    assert.deepEqual(await res.json(), { error, error_description: description });
  };
  const location = (res: Response) => new URL(String(res.headers.get('location')));
  /** The consent form posted as the user's browser does. */
  const decide = (userCookie: string, fields: Record<string, string>, decision: string) =>
    fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie: userCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision }).toString() });
  const redeem = (c: { id: string; secret: string }, code: string, verifier: string) =>
    s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(c.id, c.secret) });

  test('PAR-01 push: 201, Cache-Control no-store, exactly request_uri (a URN) and expires_in 60; the code comes from the pushed parameters only', async () => {
    const { verifier, res: pending } = pushed(trusted);
    const res = await pending;
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['expires_in', 'request_uri']);
    assert.equal(body.expires_in, 60);
    assert.match(String(body.request_uri), REQUEST_URI);
    // RFC 9126 §4: parameters beside client_id and request_uri are ignored, not merged.
    const auth = await authorizeGet(s, { client_id: trusted.id, request_uri: String(body.request_uri), redirect_uri: 'https://evil.example/cb', state: 'evil', scope: 'read' }, cookie);
    assert.equal(auth.status, 302);
    const back = location(auth);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.equal(back.searchParams.get('state'), 'st-1');
    assert.equal(back.searchParams.get('iss'), ISSUER);
    const token = await redeem(trusted, back.searchParams.get('code')!, verifier);
    const tokens = await s.json(token);
    assert.equal(token.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, 'openid read');
  });

  test('PAR-03 a request_uri is used once: the second authorization request gets error=invalid_request_uri at the pushed redirect URI', async () => {
    const { requestUri } = await push(trusted);
    const first = await authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie);
    assert.ok(location(first).searchParams.get('code'));
    const second = await authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie);
    assert.equal(second.status, 302);
    const back = location(second);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.deepEqual(Object.fromEntries(back.searchParams), {
      error: 'invalid_request_uri', error_description: 'The request_uri has expired or has already been used.', state: 'st-1', iss: ISSUER,
    });
  });

  test('PAR-03 expiry: after expires_in the request_uri is refused (invalid_request_uri), and nothing is issued', async () => {
    const { requestUri } = await push(trusted);
    now += 60_000;
    try {
      const res = await authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie);
      assert.equal(res.status, 302);
      assert.equal(location(res).searchParams.get('error'), 'invalid_request_uri');
      assert.equal(location(res).searchParams.get('code'), null);
    } finally {
      now -= 60_000;
    }
    const fresh = await push(trusted);
    now += 59_000;
    try {
      assert.ok(location(await authorizeGet(s, { client_id: trusted.id, request_uri: fresh.requestUri }, cookie)).searchParams.get('code'), 'within its lifetime');
    } finally {
      now -= 59_000;
    }
  });

  test('PAR-04 a request_uri of another client, unknown or malformed: the error page (400), never a redirect; the owner can still use it', async () => {
    const { requestUri } = await push(trusted);
    const refusals: Record<string, string>[] = [
      { client_id: other.id, request_uri: requestUri },
      { client_id: trusted.id, request_uri: 'urn:ietf:params:oauth:request_uri:km_rq_0000000000000000000000000000000000000000000' },
      { client_id: trusted.id, request_uri: 'https://app.example/request.jwt' },
      { request_uri: requestUri },
    ];
    for (const q of refusals) {
      const res = await authorizeGet(s, q, cookie);
      assert.equal(res.status, 400, JSON.stringify(q));
      assert.equal(res.headers.get('location'), null);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      await res.text();
    }
    assert.ok(location(await authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie)).searchParams.get('code'), 'unused by the refusals');
  });

  test('PAR-01 the push counts against the client\'s own rate limit, as the token endpoint does: 429 with Retry-After', async () => {
    const limited = await s.client({ ...base, name: 'Limited', trusted: true, rateLimit: 1 });
    const before = await push(limited);
    assert.match(before.requestUri, REQUEST_URI);
    const res = await pushed(limited).res;
    assert.equal(res.status, 429);
    assert.match(String(res.headers.get('retry-after')), /^[1-9][0-9]*$/);
    assert.deepEqual(await res.json(), { error: 'temporarily_unavailable', error_description: 'Too many requests.' });
  });

  test('PAR-02 push errors are JSON 400/401, exact, never redirects', async () => {
    await expectError(await pushed(app, { request_uri: 'urn:ietf:params:oauth:request_uri:x' }).res, 400, 'invalid_request', 'A pushed authorization request cannot carry a request_uri.');
    await expectError(await pushed(app, { redirect_uri: 'https://evil.example/cb' }).res, 400, 'invalid_request', 'The redirect URI is missing or not registered for this application.');
    await expectError(await pushed(app, { redirect_uri: undefined }).res, 400, 'invalid_request', 'The redirect URI is missing or not registered for this application.');
    await expectError(await pushed(app, { response_type: 'token' }).res, 400, 'invalid_request', 'Only response_type=code is supported.');
    await expectError(await pushed(app, { scope: 'openid admin' }).res, 400, 'invalid_scope', 'The requested scope is invalid or not allowed.');
    await expectError(await pushed(app, { code_challenge: undefined, code_challenge_method: undefined }).res, 400, 'invalid_request', 'PKCE with code_challenge_method=S256 is required.');
    await expectError(await pushed(app, { code_challenge_method: 'plain' }).res, 400, 'invalid_request', 'PKCE with code_challenge_method=S256 is required.');
    await expectError(await pushed(app, { prompt: 'none login' }).res, 400, 'invalid_request', 'prompt=none cannot be combined with another value.');
    await expectError(await pushed(app, { resource: 'https://elsewhere.example/' }).res, 400, 'invalid_target', 'The requested resource is not allowed for this client.');
    // Request objects are jar.test.ts's: an unsigned one is refused (JAR-02).
    await expectError(await pushed(app, { request: 'eyJhbGciOiJub25lIn0.e30.' }).res, 400, 'invalid_request_object', 'The request object is not a signed JWT (compact JWS; encrypted request objects are not supported).');
    await expectError(await pushed(ccOnly).res, 400, 'unauthorized_client', 'The client is not allowed to use the authorization code flow.');
    // Client authentication exactly as at the token endpoint.
    const wrong = await pushed(app, {}, { authorization: basic(app.id, `${app.secret}x`) }).res;
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="keymint"');
    await expectError(wrong, 401, 'invalid_client', 'Client authentication failed.');
    await expectError(await pushed(app, {}, {}).res, 401, 'invalid_client', 'Client authentication failed.');
    await expectError(await pushed(app, { client_id: other.id }).res, 400, 'invalid_request', 'The client_id does not match the authenticated client.');
    const get = await fetch(`${s.url}/oauth2/par`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  test('PAR-01 public clients push with client_id alone; client_secret_post and private_key_jwt (aud: the issuer or the PAR endpoint) authenticate too', async () => {
    const { res: fromPublic } = pushed(publicApp, {}, {});
    assert.equal((await fromPublic).status, 201);
    const { res: post } = pushed(app, { client_secret: app.secret }, {});
    assert.equal((await post).status, 201);
    const key = await keyPair('ES256', 'par-k1');
    const id = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, trusted: true });
    for (const aud of [ISSUER, `${ISSUER}/oauth2/par`]) {
      const { res } = pushed({ id, secret: '' }, { client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: id, aud }) }, {});
      const r = await res;
      assert.equal(r.status, 201, await r.clone().text());
      const body = await s.json(r);
      assert.ok(location(await authorizeGet(s, { client_id: id, request_uri: String(body.request_uri) }, cookie)).searchParams.get('code'));
    }
    const forged = pushed({ id, secret: '' }, { client_assertion_type: JWT_BEARER, client_assertion: await assertion(await keyPair('ES256', 'par-k1'), { clientId: id, aud: ISSUER }) }, {});
    await expectError(await forged.res, 401, 'invalid_client', 'Client authentication failed.');
  });

  test('PAR-05 a client registered with require_pushed_authorization_requests is refused a plain authorization request, and served through PAR', async () => {
    const { challenge } = pkce();
    const plain = await authorizeGet(s, { response_type: 'code', client_id: mustPush.id, redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', state: 'p' }, cookie);
    assert.equal(plain.status, 302);
    assert.deepEqual(Object.fromEntries(location(plain).searchParams), {
      error: 'invalid_request', error_description: 'This client must push its authorization request first (pushed authorization requests).', state: 'p', iss: ISSUER,
    });
    const { requestUri, verifier } = await push(mustPush);
    const res = await authorizeGet(s, { client_id: mustPush.id, request_uri: requestUri }, cookie);
    assert.equal((await redeem(mustPush, location(res).searchParams.get('code')!, verifier)).status, 200);
    const view = await s.json(await s.admin('GET', `/clients/${mustPush.id}`));
    assert.equal(view.require_pushed_authorization_requests, true);
  });

  test('PAR-06 consent round trip: the page (reloadable) carries client_id and request_uri; the decision uses the request_uri, so a second post gets no code', async () => {
    const { requestUri, verifier } = await push(app);
    const userCookie = `keymint_session=${(await s.session({ subject: 'par-consent-user' })).session_token}`;
    const page = await authorizeGet(s, { client_id: app.id, request_uri: requestUri }, userCookie);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.deepEqual(Object.keys(formFields(html)).sort(), ['client_id', 'csrf_token', 'request_uri']);
    assert.match(html, /Acme Reports/);
    const again = await authorizeGet(s, { client_id: app.id, request_uri: requestUri }, userCookie);
    assert.equal(again.status, 200, 'showing the page does not use the request');
    const fields = formFields(await again.text());
    const post = (decision: string, over: Record<string, string> = {}) => decide(userCookie, { ...fields, ...over }, decision);
    // The CSRF token is bound to the request_uri: another request's form cannot be replayed with it.
    const other = await push(app);
    assert.equal((await post('approve', { request_uri: other.requestUri })).status, 403);
    now += 120_000; // the user reads for two minutes: past expires_in, within the decision window
    try {
      const approved = await post('approve');
      assert.equal(approved.status, 302);
      const code = location(approved).searchParams.get('code');
      assert.ok(code, location(approved).href);
      assert.equal(location(approved).searchParams.get('state'), 'st-1');
      const replay = await post('approve');
      assert.equal(replay.status, 302);
      assert.equal(location(replay).searchParams.get('error'), 'invalid_request_uri');
      assert.equal(location(replay).searchParams.get('code'), null);
      assert.equal((await redeem(app, code, verifier)).status, 200);
      const late = await authorizeGet(s, { client_id: app.id, request_uri: other.requestUri }, userCookie);
      assert.equal(location(late).searchParams.get('error'), 'invalid_request_uri', 'a new arrival after expires_in is refused');
    } finally {
      now -= 120_000;
    }
  });

  test('PAR-06 a denial uses the request_uri too', async () => {
    const { requestUri } = await push(app);
    const userCookie = `keymint_session=${(await s.session({ subject: 'par-deny-user' })).session_token}`;
    const page = await authorizeGet(s, { client_id: app.id, request_uri: requestUri }, userCookie);
    const fields = formFields(await page.text());
    const post = (decision: string) => decide(userCookie, fields, decision);
    assert.equal(location(await post('deny')).searchParams.get('error'), 'access_denied');
    assert.equal(location(await post('approve')).searchParams.get('error'), 'invalid_request_uri');
  });

  test('PAR-03 20 parallel authorization requests with one request_uri on SQLite: exactly one code', async () => {
    const { requestUri } = await push(trusted);
    const answers = await Promise.all(Array.from({ length: 20 }, () => authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie)));
    const outcomes = answers.map((r) => location(r).searchParams.get('code') ? 'code' : location(r).searchParams.get('error'));
    assert.equal(outcomes.filter((o) => o === 'code').length, 1, JSON.stringify(outcomes));
    assert.equal(outcomes.filter((o) => o === 'invalid_request_uri').length, 19);
  });

  test('PAR-07 discovery names the endpoint; require_pushed_authorization_requests false unless --require-par', async () => {
    const doc = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(doc.pushed_authorization_request_endpoint, `${ISSUER}/oauth2/par`);
    assert.equal(doc.require_pushed_authorization_requests, false);
    const strict = await startGrantServer({ requirePar: 'true' });
    try {
      const meta = (await (await fetch(`${strict.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(meta.require_pushed_authorization_requests, true);
      const c = await strict.client({ ...base, trusted: true });
      const { challenge } = pkce();
      const plain = await authorizeGet(strict, { response_type: 'code', client_id: c.id, redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal(new URL(String(plain.headers.get('location'))).searchParams.get('error'), 'invalid_request');
    } finally {
      await strict.close();
    }
  });
});

/**
 * JWT Secured Authorization Response Mode (JARM): `response_mode` query.jwt or jwt sends the code
 * (or the error) back as one signed JWT, the `response` parameter. openid-client v6's
 * `useJwtResponseMode` and oauth4webapi's `validateJwtAuthResponse` validate what Keymint sends, end
 * to end against a started server (session cookie, consent page, code exchange); then the hostile
 * cases: errors before the redirect URI is trusted stay pages, errors after it go in the JWT, a
 * response mode not offered is answered in the query, and the pushed, signed and polar paths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { JARM_TTL_SECONDS } from '../../src/protocol/jarm.ts';
import { keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { answerConsent, authorizeGet, basic, browseApproving, formFields, openidLogin, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const app = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] };

let s: GrantServer;
let issuer: URL;
before(async () => {
  s = await startGrantServer({ issuer: undefined });
  issuer = new URL(s.keymint.config.issuer);
});
after(() => s.close());

let users = 0;
const cookieOf = async () => `keymint_session=${(await s.session({ subject: `jarm-user-${++users}` })).session_token}`;

/** The `response` JWT's claims, its signature checked against the server's JWKS; and its header. */
async function opened(location: string | URL, audience: string) {
  const url = new URL(location);
  assert.deepEqual([...url.searchParams.keys()], ['response'], `only the response parameter: ${url.href}`);
  const jwt = url.searchParams.get('response')!;
  const jwks = (await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: s.keymint.config.issuer, audience });
  return { claims: payload as Record<string, unknown>, header: decodeProtectedHeader(jwt), base: `${url.origin}${url.pathname}` };
}

/** A plain authorization request of `client` (PKCE S256) with `extra` parameters. */
const request = (clientId: string, extra: Record<string, string> = {}) => ({
  response_type: 'code', client_id: clientId, redirect_uri: CB, scope: 'openid read', state: 'st-1', code_challenge: pkce().challenge, code_challenge_method: 'S256', ...extra,
});

describe('real clients', () => {
  test('JARM-01 openid-client useJwtResponseMode: authorize URL, the browser with a session and the consent page, then authorizationCodeGrant validates the response JWT', async () => {
    const client = await s.client({ ...app, name: 'JARM app' });
    const config = await openid.discovery(issuer, client.id, undefined, openid.ClientSecretBasic(client.secret), { execute: [openid.allowInsecureRequests, openid.useJwtResponseMode] });
    assert.deepEqual(config.serverMetadata().response_modes_supported, ['query', 'query.jwt', 'jwt']);
    assert.deepEqual(config.serverMetadata().authorization_signing_alg_values_supported, ['RS256']);
    const { url, location, fields, checks } = await openidLogin(s, config, 'jarm-rp-1');
    assert.equal(url.searchParams.get('response_mode'), 'jwt');
    assert.equal(fields?.response_mode, 'jwt', 'the consent form carries the response mode (CSRF-bound)');
    const { claims, header } = await opened(location, client.id);
    assert.deepEqual(Object.keys(claims).sort(), ['aud', 'code', 'exp', 'iss', 'state']);
    assert.equal(claims.state, checks.expectedState);
    assert.deepEqual([header.alg, header.typ, typeof header.kid], ['RS256', 'JWT', 'string']);
    const tokens = await openid.authorizationCodeGrant(config, location, checks);
    assert.equal(tokens.claims()?.sub, 'jarm-rp-1');
    assert.ok(tokens.refresh_token);
  });

  for (const alg of ['ES256', 'PS256'] as const) test(`JARM-01 JARM-05 oauth4webapi validateJwtAuthResponse with response_mode=query.jwt, ${alg} for a client that registered it, to tokens; exp is 600 s ahead`, async (t) => {
    const es = await startGrantServer({ issuer: undefined, alg });
    t.after(() => es.close());
    const esIssuer = new URL(es.keymint.config.issuer);
    const made = await es.client({ ...app, name: `${alg} app`, authorizationResponseAlg: alg });
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(esIssuer, await oauth.discoveryRequest(esIssuer, { ...options, algorithm: 'oidc' }));
    assert.deepEqual(as.authorization_signing_alg_values_supported, ['RS256', alg]);
    const client: oauth.Client = { client_id: made.id, authorization_signed_response_alg: alg };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    const state = 'state with spaces & symbols ✓';
    for (const [k, v] of Object.entries({ response_type: 'code', response_mode: 'query.jwt', client_id: made.id, redirect_uri: CB, scope: 'read', state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const before = Math.floor(Date.now() / 1000);
    const { location } = await browseApproving(es, url, 'jarm-rp-2');
    const jwt = location.searchParams.get('response')!;
    assert.equal(decodeProtectedHeader(jwt).alg, alg);
    const exp = decodeJwt(jwt).exp!;
    assert.ok(exp >= before + JARM_TTL_SECONDS && exp <= Math.floor(Date.now() / 1000) + JARM_TTL_SECONDS, String(exp));
    assert.equal(JARM_TTL_SECONDS, 600);
    const params = await oauth.validateJwtAuthResponse(as, client, location, state, options);
    assert.equal(params.get('state'), state, 'the state round-trips inside the JWT');
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(made.secret), params, CB, verifier, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response);
    assert.equal(result.token_type.toLowerCase(), 'bearer');
    // A client expecting another alg refuses the response itself.
    const wrong = { ...client, authorization_signed_response_alg: 'RS256' };
    const again = await browseApproving(es, url, 'jarm-rp-3');
    await assert.rejects(oauth.validateJwtAuthResponse(as, wrong, again.location, state, options), (e: unknown) => {
      assert.ok(e instanceof oauth.OperationProcessingError, String(e));
      assert.deepEqual([e.code, e.message], [oauth.INVALID_RESPONSE, 'unexpected JWT "alg" header parameter']);
      return true;
    });
  });

  test('JARM-03 oauth4webapi: a denial is an error inside the JWT (access_denied with the state), an AuthorizationResponseError', async () => {
    const made = await s.client({ ...app, name: 'Denied app' });
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
    const cookie = await cookieOf();
    const page = await authorizeGet(s, request(made.id, { response_mode: 'jwt', state: 'st-deny' }), cookie);
    assert.equal(page.status, 200);
    const denied = await answerConsent(s, page, cookie, 'deny');
    assert.equal(denied.status, 302);
    const location = String(denied.headers.get('location'));
    const { claims } = await opened(location, made.id);
    assert.deepEqual({ ...claims, exp: 0 }, { error: 'access_denied', error_description: 'The user denied the request.', state: 'st-deny', iss: s.keymint.config.issuer, aud: made.id, exp: 0 });
    await assert.rejects(oauth.validateJwtAuthResponse(as, { client_id: made.id }, new URL(location), 'st-deny', options), (e: unknown) => {
      assert.ok(e instanceof oauth.AuthorizationResponseError, String(e));
      assert.equal(e.error, 'access_denied');
      return true;
    });
  });
});

describe('hostile and edge cases', () => {
  test('JARM-02 response_mode=jwt with a redirect URI not registered, or an unknown client: the error page, never a redirect', async () => {
    const made = await s.client({ ...app, name: 'Page app' });
    const cookie = await cookieOf();
    for (const query of [
      request(made.id, { response_mode: 'jwt', redirect_uri: 'https://evil.example/cb' }),
      request(made.id, { response_mode: 'query.jwt', redirect_uri: `${CB}/x` }),
      request('sk_live_unknown', { response_mode: 'jwt' }),
      { ...request(made.id, { response_mode: 'jwt' }), redirect_uri: '' },
    ]) {
      const res = await authorizeGet(s, query, cookie);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.equal(res.headers.get('location'), null);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.doesNotMatch(await res.text(), /evil\.example|eyJ/);
    }
  });

  test('JARM-03 errors after the redirect URI is trusted go in the JWT: invalid_scope, missing PKCE, login_required (prompt=none), unsupported_response_type, request_uri_not_supported, with the state', async () => {
    const made = await s.client({ ...app, name: 'Error app' });
    const cases: Array<[Record<string, string>, string | undefined, string]> = [
      [request(made.id, { response_mode: 'jwt', scope: 'admin' }), await cookieOf(), 'invalid_scope'],
      [{ ...request(made.id, { response_mode: 'jwt' }), code_challenge: '' }, await cookieOf(), 'invalid_request'],
      [request(made.id, { response_mode: 'query.jwt', prompt: 'none' }), undefined, 'login_required'],
      [request(made.id, { response_mode: 'jwt', response_type: 'token' }), await cookieOf(), 'unsupported_response_type'],
      // Refused before its parameters are read (a request object by reference): the query's mode, at its registered redirect URI.
      [request(made.id, { response_mode: 'jwt', request_uri: 'https://app.example/request.jwt' }), await cookieOf(), 'request_uri_not_supported'],
    ];
    for (const [query, cookie, error] of cases) {
      const res = await authorizeGet(s, query, cookie);
      assert.equal(res.status, 302, error);
      const { claims, base } = await opened(String(res.headers.get('location')), made.id);
      assert.equal(base, CB);
      assert.deepEqual([claims.error, claims.state, typeof claims.error_description, claims.code], [error, 'st-1', 'string', undefined]);
    }
  });

  test('JARM-04 a response mode not offered (fragment, form_post, another) or sent twice: invalid_request in the query, as before', async () => {
    const made = await s.client({ ...app, name: 'Mode app' });
    const cookie = await cookieOf();
    for (const mode of ['fragment', 'form_post', 'fragment.jwt', 'form_post.jwt', 'JWT']) {
      const res = await authorizeGet(s, request(made.id, { response_mode: mode }), cookie);
      assert.equal(res.status, 302, mode);
      const location = new URL(String(res.headers.get('location')));
      assert.deepEqual(Object.fromEntries(location.searchParams), {
        error: 'invalid_request', error_description: 'response_mode takes query, query.jwt, jwt.', state: 'st-1', iss: s.keymint.config.issuer,
      }, mode);
    }
    const twice = new URLSearchParams(request(made.id, { response_mode: 'jwt' }));
    twice.append('response_mode', 'jwt');
    const res = await fetch(`${s.url}/oauth2/authorize?${twice}`, { redirect: 'manual', headers: { cookie } });
    const location = new URL(String(res.headers.get('location')));
    assert.deepEqual([location.searchParams.get('error'), location.searchParams.get('response')], ['invalid_request', null]);
    // response_mode=query is the default, said aloud.
    const query = await authorizeGet(s, request(made.id, { response_mode: 'query', prompt: 'none' }));
    assert.deepEqual([...new URL(String(query.headers.get('location'))).searchParams.keys()], ['error', 'error_description', 'state', 'iss']);
  });

  test('JARM-05 a client whose stored alg the keyring no longer keeps gets unauthorized_client in the query, not a JWT it could not verify', async () => {
    const made = await s.client({ ...app, name: 'Moved app' });
    await s.keymint.store.clients.update(made.id, (c) => ({ ...c, authorizationResponseAlg: 'ES256' as const }));
    const res = await authorizeGet(s, request(made.id, { response_mode: 'jwt' }), await cookieOf());
    const location = new URL(String(res.headers.get('location')));
    assert.deepEqual(Object.fromEntries(location.searchParams), {
      error: 'unauthorized_client',
      error_description: 'This client\'s authorization responses are to be signed with ES256, which this server no longer signs with; its authorization_signed_response_alg must be changed.',
      state: 'st-1',
      iss: s.keymint.config.issuer,
    });
    // Its plain requests are served as before.
    const plain = await authorizeGet(s, request(made.id, { prompt: 'none' }));
    assert.equal(new URL(String(plain.headers.get('location'))).searchParams.get('error'), 'login_required');
  });

  test('JARM-07 a pushed response_mode is honoured (the query\'s is ignored), also for the refusal of a spent request_uri; a push with a mode not offered is refused', async () => {
    const made = await s.client({ ...app, name: 'Pushed app', trusted: true });
    const push = await s.postForm('/oauth2/par', { ...request(made.id, { response_mode: 'jwt', state: 'pushed-st' }) }, { authorization: basic(made.id, made.secret) });
    assert.equal(push.status, 201);
    const { request_uri: requestUri } = (await push.json()) as { request_uri: string };
    const res = await authorizeGet(s, { client_id: made.id, request_uri: requestUri, response_mode: 'query' }, await cookieOf());
    const { claims } = await opened(String(res.headers.get('location')), made.id);
    assert.deepEqual([typeof claims.code, claims.state], ['string', 'pushed-st']);
    // Used: the second visit's invalid_request_uri is in the pushed mode too.
    const spent = await authorizeGet(s, { client_id: made.id, request_uri: requestUri }, await cookieOf());
    assert.equal((await opened(String(spent.headers.get('location')), made.id)).claims.error, 'invalid_request_uri');
    // A push with a mode not offered is refused in JSON, and nothing is stored.
    const bad = await s.postForm('/oauth2/par', request(made.id, { response_mode: 'form_post' }), { authorization: basic(made.id, made.secret) });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'invalid_request', error_description: 'response_mode takes query, query.jwt, jwt.' });
  });

  test('JARM-07 openid-client buildAuthorizationUrlWithJAR with useJwtResponseMode, by value and pushed, to tokens: response_mode travels inside the signed object', async () => {
    const key = await keyPair('ES256', 'jarm-jar-1');
    const clientId = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...app, name: 'Signed JARM app', requireSignedRequestObject: true });
    const signingKey = { key: key.privateKey, kid: 'jarm-jar-1' };
    const config = await openid.discovery(issuer, clientId, undefined, openid.PrivateKeyJwt(signingKey), { execute: [openid.allowInsecureRequests, openid.useJwtResponseMode] });
    for (const pushed of [false, true]) {
      const pkceCodeVerifier = openid.randomPKCECodeVerifier();
      const expectedState = openid.randomState();
      const jar = await openid.buildAuthorizationUrlWithJAR(config, {
        redirect_uri: CB, scope: 'read', state: expectedState, code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
      }, signingKey);
      assert.deepEqual([...jar.searchParams.keys()].sort(), ['client_id', 'request']);
      assert.equal(decodeJwt(jar.searchParams.get('request')!).response_mode, 'jwt');
      const url = pushed ? await openid.buildAuthorizationUrlWithPAR(config, jar.searchParams) : jar;
      const { location } = await browseApproving(s, url, `jarm-jar-${pushed}`);
      assert.deepEqual([...location.searchParams.keys()], ['response']);
      const tokens = await openid.authorizationCodeGrant(config, location, { pkceCodeVerifier, expectedState });
      assert.equal(tokens.scope, 'read', String(pushed));
    }
  });

  test('JARM-07 a request object refused after its signature verified answers at its redirect URI in its own response mode', async () => {
    const key = await keyPair('ES256', 'jarm-jar-2');
    const clientId = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...app, name: 'Refused JARM app' });
    const now = Math.floor(Date.now() / 1000);
    const object = await new SignJWT({ ...request(clientId, { response_mode: 'jwt', state: 'obj-st' }), aud: 'https://other.example', exp: now + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'jarm-jar-2', typ: 'oauth-authz-req+jwt' }).sign(key.privateKey);
    const res = await authorizeGet(s, { client_id: clientId, request: object }, await cookieOf());
    assert.equal(res.status, 302);
    const { claims } = await opened(String(res.headers.get('location')), clientId);
    assert.deepEqual([claims.error, claims.error_description, claims.state], ['invalid_request_object', 'The request object aud must be the issuer identifier.', 'obj-st']);
  });

  test('JARM-06 the polar mount ignores response_mode in the query: the answer is byte for byte the one without it; a pushed one is honoured', async () => {
    const made = await s.client({ ...app, name: 'Polar app', trusted: true });
    const cookie = await cookieOf();
    const path = '/v1/oauth2/authorize';
    const plain = await authorizeGet(s, request(made.id, { prompt: 'none' }), undefined, path);
    const jwt = await authorizeGet(s, request(made.id, { prompt: 'none', response_mode: 'jwt' }), undefined, path);
    const odd = await authorizeGet(s, request(made.id, { prompt: 'none', response_mode: 'form_post' }), undefined, path);
    assert.equal(plain.status, 302);
    assert.deepEqual([jwt.status, jwt.headers.get('location')], [302, plain.headers.get('location')]);
    assert.deepEqual([odd.status, odd.headers.get('location')], [302, plain.headers.get('location')]);
    const code = await authorizeGet(s, request(made.id, { response_mode: 'jwt' }), cookie, path);
    assert.deepEqual([...new URL(String(code.headers.get('location'))).searchParams.keys()], ['code', 'state', 'iss']);
    // A pushed one cannot have been changed on the way, and is honoured there too (as a pushed dpop_jkt).
    const push = await s.postForm('/oauth2/par', request(made.id, { response_mode: 'jwt' }), { authorization: basic(made.id, made.secret) });
    const { request_uri: requestUri } = (await push.json()) as { request_uri: string };
    const pushed = await authorizeGet(s, { client_id: made.id, request_uri: requestUri }, cookie, path);
    assert.equal(typeof (await opened(String(pushed.headers.get('location')), made.id)).claims.code, 'string');
  });
});

test('JARM-01 the login page round trip keeps response_mode, and the consent form binds it: a changed response_mode is refused as an expired form', async (t) => {
  const login = await startGrantServer({ loginUrl: 'https://login.example/signin' });
  t.after(() => login.close());
  const someone = await login.client({ ...app, name: 'Login app' });
  const away = await authorizeGet(login, request(someone.id, { response_mode: 'jwt' }));
  assert.equal(away.status, 302);
  const back = new URL(String(new URL(String(away.headers.get('location'))).searchParams.get('return_to')));
  assert.equal(back.searchParams.get('response_mode'), 'jwt');

  const made = await s.client({ ...app, name: 'Form app' });
  const cookie = await cookieOf();
  const page = await authorizeGet(s, request(made.id, { response_mode: 'jwt' }), cookie);
  assert.equal(page.status, 200);
  const fields = formFields(await page.text());
  const post = (form: Record<string, string>) => fetch(`${s.url}/oauth2/authorize`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...form, decision: 'approve' }).toString(),
  });
  const changed = await post({ ...fields, response_mode: 'query' });
  assert.equal(changed.status, 403);
  const approved = await post(fields);
  assert.equal(typeof (await opened(String(approved.headers.get('location')), made.id)).claims.code, 'string');
});

test('JARM-08 a fapi2 client asking for a JWT response signed RS256 gets unauthorized_client in the query; registered with ES256 its errors go in an ES256 JWT', async (t) => {
  const es = await startGrantServer({ alg: 'ES256' });
  t.after(() => es.close());
  const key = await keyPair('ES256', 'jarm-fapi-1');
  const fapi = { grants: ['authorization_code'], scopes: ['accounts'], redirectUris: [CB], securityProfile: 'fapi2' } as const;
  const rs = await privateKeyJwtClient(es.keymint, { keys: [key] }, { ...fapi, name: 'FAPI RS app' });
  const refused = await authorizeGet(es, { ...request(rs, { response_mode: 'jwt' }), scope: 'accounts' });
  assert.deepEqual(Object.fromEntries(new URL(String(refused.headers.get('location'))).searchParams), {
    error: 'unauthorized_client',
    error_description: 'A fapi2 client\'s authorization responses are not signed with RS256 (FAPI 2.0 §5.4.1); its authorization_signed_response_alg must be changed to the server\'s --alg.',
    state: 'st-1',
    iss: es.keymint.config.issuer,
  });
  const ok = await privateKeyJwtClient(es.keymint, { keys: [key] }, { ...fapi, name: 'FAPI ES app', authorizationResponseAlg: 'ES256' });
  // A plain request of a fapi2 client is refused (it must push): in the JWT it asked for.
  const pushFirst = await authorizeGet(es, { ...request(ok, { response_mode: 'jwt' }), scope: 'accounts' });
  const jwt = new URL(String(pushFirst.headers.get('location'))).searchParams.get('response')!;
  assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
  assert.deepEqual([decodeJwt(jwt).error, decodeJwt(jwt).aud], ['invalid_request', ok]);
});

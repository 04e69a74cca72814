/**
 * Hostile input on the OAuth surfaces of the `oauth2` mount, one property test each (fast-check,
 * fixed seeds, bounded runs): the token endpoint with every grant, client assertions and DPoP proofs;
 * introspection and revocation; the authorization endpoint; userinfo and the revocation feed; dynamic
 * registration and its management; discovery, JWKS, the OpenAPI document and the ops routes. Each
 * answer is a 4xx (or the status the endpoint documents for it) in that endpoint's error shape, never
 * a 5xx; no secret is echoed; the server answers afterwards; an error leaves the store as it was.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { DIALECTS } from '../../src/dialects/index.ts';
import { validate } from '../dialects/support/json-schema.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import {
  assertAlive, assertAllowOn405, assertErrorShape, assertNotLogged, capturingLog, assertNoMarkupEchoed, assertSameStore, assertNoSecret, assertNot5xx, hostileAuthorization, hostileB64, hostileBag, hostileBody, hostileContentType, hostileJwk,
  formOf, hostileJwt, hostileMethod, hostileQuery, hostileSegment, hostileString, hostileValue, parseJson, send, signedHostileJwts, storeFingerprint,
} from '../support/hostile.ts';
import { JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { seedRefreshToken } from '../grants/support.ts';
import { KEYMINT_ACCESS, KEYMINT_REFRESH, opaqueFormat } from '../../src/tokens/opaque.ts';

const ISSUER = 'http://localhost:8080';
const REDIRECT = 'https://app.example/cb';
let s: TestServer;
/** Every log line the server wrote, at debug level: no secret may be among them (S-06). */
const logged = capturingLog();
let app: { id: string; secret: string };
let keyClient: string;
let initial: string;
let clientJwk: Record<string, unknown>;
let session: string;
let secrets: string[];
/** Client assertions and DPoP proofs with valid signatures and hostile claims or headers. */
let signedAssertions: string[];
let signedProofs: string[];

before(async () => {
  // Lockouts would stop the generated requests from reaching the code behind client authentication.
  s = await startServer({ dialects: ['oauth2', 'polar'], issuer: ISSUER, registration: 'token', lockoutThreshold: '1000', resources: ['https://api.example/v1=read,write'] }, { log: logged.log });
  app = await s.client({ scopes: ['read', 'write'], grants: ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', 'web'], redirectUris: [REDIRECT] });
  const clientKey = await keyPair('ES256', 'k1');
  keyClient = await privateKeyJwtClient(s.keymint, { keys: [clientKey] });
  clientJwk = { ...clientKey.jwk };
  const now = Math.floor(Date.now() / 1000);
  signedAssertions = await signedHostileJwts(clientKey, { kid: 'k1' }, { iss: keyClient, sub: keyClient, aud: `${ISSUER}/oauth2/token`, exp: now + 60, iat: now, jti: 'assertion-1' });
  const proofKey = await keyPair('ES256');
  signedProofs = await signedHostileJwts(proofKey, { typ: 'dpop+jwt', jwk: proofKey.jwk }, { jti: 'proof-1', htm: 'POST', htu: `${ISSUER}/oauth2/token`, iat: now });
  const registrar = await s.client({ scopes: ['keymint:register'] });
  initial = String((await s.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
  const created = await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test');
  session = created.sessionToken;
  secrets = [app.secret, registrar.secret, initial, session];
  // Real credentials among the lookalikes, so a grant gets past its lookup to the checks behind it
  // (a refresh token the caller holds, a subject token for token exchange, a live session).
  const subject = String((await s.token(app.id, app.secret, { scope: 'read' })).access_token);
  const { token: refresh } = await seedRefreshToken(s, app.id, { scope: 'read write' });
  LOOKALIKES.push(subject, refresh, session);
  REAL.refresh_token = refresh;
  REAL['urn:ietf:params:oauth:grant-type:token-exchange'] = subject;
  REAL.web = session;
  secrets.push(subject, refresh);
});
after(() => s.close());

/**
 * Everything but the one-time `jti`s: a verified client assertion or DPoP proof is spent whatever
 * the request's outcome (RFC 7523 §3, RFC 9449 §11.1), so a refused request may add one.
 */
const fingerprint = () => storeFingerprint(s.dataDir, ['replays']);

/** An oauth2 error answer: JSON in the dialect's contract, no-store, no secret. */
function expectOAuthError(res: { status: number; headers: Headers; text: string }, what: string, dialect = 'oauth2'): Record<string, unknown> {
  assert.ok(res.status >= 400 && res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8', `${what}: content type`);
  const body = parseJson(res.text, what);
  assert.deepEqual(validate(DIALECTS.get(dialect)!.contract.error, body), [], `${what}: the ${dialect} error contract (${res.text.slice(0, 200)})`);
  assertNoSecret(res.text, res.headers, secrets, what);
  return body;
}

/** Each grant's parameters, the required one first. */
const GRANT_PARAMS: Readonly<Record<string, readonly string[]>> = {
  client_credentials: ['scope', 'resource', 'audience'],
  authorization_code: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  refresh_token: ['refresh_token', 'scope', 'resource'],
  'urn:ietf:params:oauth:grant-type:token-exchange': ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'],
  'urn:ietf:params:oauth:grant-type:jwt-bearer': ['assertion', 'scope'],
  web: ['session_token', 'sub_type', 'sub', 'scope'],
};

/** Values that look right and are not: well-formed unknown tokens, token-type URNs, scopes and resources of the deployment. */
const LOOKALIKES = [
  opaqueFormat(KEYMINT_REFRESH).mint(), opaqueFormat(KEYMINT_ACCESS).mint(), 'km_ac_x', 'km_st_', 'urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:refresh_token', 'urn:ietf:params:oauth:token-type:id_token', 'read', 'read write', 'read read', 'keymint:admin', 'https://api.example/v1', 'https://api.example/v1#x',
  REDIRECT, 'user', 'organization', 'S256',
];

/** A grant's first parameter as a real credential of the caller's (filled in before the tests). */
const REAL: Record<string, string> = {};

const GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'web', 'password', 'implicit'];
const TOKEN_FIELDS = ['grant_type', 'scope', 'resource', 'audience', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'session_token', 'sub', 'sub_type'];

/**
 * A well-formed request of one grant, authenticated (Basic, or an assertion of the key client), whose
 * grant parameters, assertion or DPoP proof are hostile: it gets past decoding to the grant's checks.
 */
const deepTokenRequest = () =>
  fc
    .record({
      grant: fc.constantFrom(...Object.keys(GRANT_PARAMS)),
      values: fc.array(fc.oneof(hostileString, hostileJwt, hostileB64, fc.constantFrom(...signedAssertions, ...LOOKALIKES)), { minLength: 8, maxLength: 8 }),
      present: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      real: fc.boolean(),
      assertion: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, fc.constantFrom(...signedAssertions), hostileJwt),
      dpop: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, fc.constantFrom(...signedProofs), hostileJwt),
    })
    .map(({ grant, values, present, real, assertion, dpop }) => {
      // The grant's first parameter always (it is required; half the time a real one where there is one), the others as drawn.
      const first = real ? REAL[grant] : undefined;
      const params = Object.fromEntries(GRANT_PARAMS[grant]!.flatMap((name, i) => (i === 0 || present[i] ? [[name, i === 0 && first !== undefined ? first : values[i]!]] : [])));
      return {
        body: formOf({ grant_type: grant, ...params, ...(assertion === undefined ? {} : { client_id: keyClient, client_assertion_type: JWT_BEARER, client_assertion: assertion }) }),
        type: 'application/x-www-form-urlencoded' as string | undefined,
        authorization: assertion === undefined ? basic(app.id, app.secret) : undefined,
        dpop: dpop as string | string[] | undefined,
      };
    });

/** The parts a token request is made of, each hostile, some valid, so requests get past the early checks. */
const tokenRequest = () =>
  fc.record({
    body: hostileBody(
      hostileBag(
        TOKEN_FIELDS,
        fc.record(
          {
            grant_type: fc.oneof(fc.constantFrom(...GRANTS), hostileValue),
            client_id: fc.constantFrom(app.id, keyClient),
            client_assertion_type: fc.constantFrom(JWT_BEARER, 'urn:x'),
            client_assertion: hostileJwt,
            subject_token: hostileJwt,
            subject_token_type: fc.constantFrom('urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:jwt', 'x'),
            code_verifier: hostileB64,
            redirect_uri: fc.constantFrom(REDIRECT, `${REDIRECT}#x`, 'javascript:alert(1)'),
          },
          { requiredKeys: ['grant_type'] },
        ),
      ),
    ),
    type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, hostileContentType),
    authorization: fc.oneof(fc.constant(basic(app.id, app.secret)), hostileAuthorization(app)),
    dpop: fc.oneof(fc.constant(undefined), hostileJwt, fc.tuple(hostileJwt, hostileJwt).map((p) => [...p])),
  });

test('S-08 the oauth2 and polar token endpoints, every grant, client assertions and DPoP proofs: hostile bodies and headers are a 4xx in the mount\'s shape that changes nothing', async () => {
  let before = fingerprint();
  let spent = false;
  await fc.assert(
    fc.asyncProperty(fc.oneof(tokenRequest(), deepTokenRequest()), fc.constantFrom('oauth2', 'oauth2', 'polar'), async ({ body, type, authorization, dpop }, dialect) => {
      const path = dialect === 'oauth2' ? '/oauth2/token' : '/v1/oauth2/token';
      const res = await send(s.url + path, { method: 'POST', headers: { 'content-type': type, authorization, dpop }, body });
      const what = `${path} ${JSON.stringify(String(body).slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      const presentsRefresh = String(body).includes(REAL.refresh_token!);
      if (res.status === 200) {
        spent ||= presentsRefresh;
        before = fingerprint();
        return;
      }
      expectOAuthError(res, what, dialect);
      if (spent && presentsRefresh) {
        before = fingerprint(); // reuse of a rotated refresh token revokes its family (RT-04): the one error that writes
        return;
      }
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 200, seed: 20261202 },
  );
  await assertAlive(s.url);
});

test('S-08 introspection and revocation on the oauth2 and polar mounts: hostile bodies, credentials and tampered tokens are 200 (inactive, nothing revoked) or a 4xx in the mount\'s shape, and change nothing', async () => {
  // Real tokens the caller may not act on (another client's), and real ones of the caller's with one character changed.
  const other = await s.client({ scopes: ['read'] });
  const othersToken = String((await s.token(other.id, other.secret)).access_token);
  const own = String((await s.token(app.id, app.secret, { scope: 'read' })).access_token);
  const { token: othersRefresh } = await seedRefreshToken(s, other.id, { scope: 'read' });
  const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
  const tokens = [othersToken, othersRefresh, flip(own, own.length - 2), flip(own, 30), flip(own, own.indexOf('.') + 5), `${own}.`, own.split('.').slice(0, 2).join('.'), flip(othersRefresh, 10)];
  secrets.push(other.secret, othersToken, othersRefresh, own);
  const before = fingerprint();
  const request = fc.record({
    mount: fc.constantFrom('oauth2', 'polar'),
    endpoint: fc.constantFrom('introspect', 'revoke'),
    body: fc.oneof(
      hostileBody(hostileBag(['token', 'token_type_hint', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'], fc.record({ token: fc.oneof(hostileJwt, hostileString, fc.constantFrom(...tokens)) }))),
      fc.record({ token: fc.constantFrom(...tokens), token_type_hint: fc.oneof(fc.constantFrom('access_token', 'refresh_token'), hostileString) }, { requiredKeys: ['token'] }).map(formOf),
    ),
    type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, hostileContentType),
    authorization: fc.oneof({ arbitrary: fc.constant(basic(app.id, app.secret)), weight: 2 }, hostileAuthorization(app)),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ mount, endpoint, body, type, authorization }) => {
      const path = `${mount === 'oauth2' ? '/oauth2' : '/v1/oauth2'}/${endpoint}`;
      const res = await send(s.url + path, { method: 'POST', headers: { 'content-type': type, authorization }, body });
      const what = `${path} ${JSON.stringify(String(body).slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      if (res.status === 200) {
        assertNoSecret(res.text, res.headers, secrets, what);
        if (endpoint === 'introspect') assert.deepEqual(parseJson(res.text, what), { active: false }, what);
        else assert.equal(res.text, mount === 'polar' ? '{}' : '', what);
      } else expectOAuthError(res, what, mount);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 150, seed: 20261203 },
  );
  await assertAlive(s.url);
});

const AUTHORIZE_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'resource', 'csrf_token', 'decision', 'request', 'request_uri'];

test('S-08 the authorization endpoint: hostile query strings, forms and cookies are an error page or an error redirect to the registered URI, never a code', async () => {
  const before = fingerprint();
  const valid = () =>
    fc.record(
      {
        client_id: fc.constant(app.id),
        redirect_uri: fc.constant(encodeURIComponent(REDIRECT)),
        response_type: fc.constantFrom('code', 'code', 'token', 'code%20token'),
        code_challenge: fc.constant('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
        code_challenge_method: fc.constantFrom('S256', 'S256', 'plain'),
      },
      { requiredKeys: [] },
    );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT'),
    query: fc.tuple(hostileQuery(AUTHORIZE_FIELDS), valid()).map(([q, v]) => [q, ...Object.entries(v).map(([k, x]) => `${k}=${x}`)].filter((p) => p !== '').join('&')),
    body: hostileBody(hostileBag(AUTHORIZE_FIELDS, fc.record({ client_id: fc.constant(app.id), redirect_uri: fc.constant(REDIRECT), decision: fc.constant('approve') }, { requiredKeys: [] }))),
    type: fc.oneof(fc.constant('application/x-www-form-urlencoded'), hostileContentType),
    cookie: fc.oneof(fc.constant(undefined), fc.constant(`keymint_session=${session}`), hostileString.map((v) => `keymint_session=${v}`), fc.constant(`keymint_session=${session}; keymint_session=x`)),
  });
  // A valid request of a signed-in user (the consent page's way) with one to three hostile parameters.
  const deep = fc
    .record({
      hostile: fc.dictionary(fc.constantFrom('scope', 'state', 'nonce', 'resource', 'prompt', 'max_age', 'login_hint', 'ui_locales', 'claims', 'request', 'code_challenge'), fc.oneof(hostileSegment, hostileString.map((v) => (v.isWellFormed() ? encodeURIComponent(v) : '%ED%A0%80'))), { minKeys: 1, maxKeys: 3 }),
      method: fc.constantFrom('GET', 'POST'),
    })
    .map(({ hostile, method }) => {
      const base: Record<string, string> = { response_type: 'code', client_id: app.id, redirect_uri: encodeURIComponent(REDIRECT), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'read' };
      const query = Object.entries({ ...base, ...hostile }).map(([k, v]) => `${k}=${v}`).join('&');
      return { method, query: method === 'GET' ? query : '', body: method === 'POST' ? `${query}&decision=approve` : '', type: 'application/x-www-form-urlencoded' as string | undefined, cookie: `keymint_session=${session}` as string | undefined };
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(request, deep), async ({ method, query, body, type, cookie }) => {
      const res = await send(`${s.url}/oauth2/authorize?${query}`, { method, headers: { 'content-type': type, cookie }, body });
      const what = `${method} authorize?${query.slice(0, 200)} ${JSON.stringify(String(body).slice(0, 120))}`;
      assertNot5xx(res.status, what);
      assertNoMarkupEchoed(res.text, res.headers, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      if (res.status === 302) {
        const location = new URL(res.headers.get('location') ?? '');
        assert.equal(`${location.origin}${location.pathname}`, REDIRECT, `${what}: redirects only to the registered URI`);
        assert.ok(location.searchParams.get('error'), `${what}: an error redirect`);
        assert.equal(location.searchParams.get('code'), null, `${what}: never a code`);
      } else if (res.status === 405) {
        // A HEAD (which this endpoint does not answer: its GET may issue a code) has no body.
        if (method === 'HEAD') assert.equal(res.text, '', what);
        else assertErrorShape(parseJson(res.text, what), what);
        assert.equal(res.headers.get('allow'), 'GET, POST');
      } else {
        assert.ok([200, 400, 403].includes(res.status), `${what} → ${res.status}`);
        assert.equal(res.headers.get('content-type'), 'text/html;charset=utf-8', what);
      }
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 100, seed: 20261204 },
  );
  await assertAlive(s.url);
});

/** An access token of the code flow (a user's), for userinfo: authorize as the signed-in user, consent, redeem. */
async function userAccessToken(): Promise<string> {
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({ response_type: 'code', client_id: app.id, redirect_uri: REDIRECT, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
  const cookie = `keymint_session=${session}`;
  const page = await fetch(`${s.url}/oauth2/authorize?${query}`, { redirect: 'manual', headers: { cookie } });
  const fields = Object.fromEntries([...(await page.text()).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
  const approved = await fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'approve' }).toString() });
  const code = new URL(String(approved.headers.get('location'))).searchParams.get('code');
  assert.ok(code, `no code: ${approved.status} ${approved.headers.get('location')}`);
  const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: basic(app.id, app.secret) });
  return String(((await res.json()) as Record<string, unknown>).access_token);
}

test('S-08 userinfo and the revocation feed: hostile bearer tokens, queries and methods are a 4xx in the oauth2 shape', async () => {
  // Valid credentials too, so hostile queries and proofs reach past authentication: a feed reader's, and a user's access token.
  const reader = await s.client({ scopes: ['keymint:revocations'] });
  const userToken = await userAccessToken();
  secrets.push(reader.secret, userToken);
  const request = fc.record({
    path: fc.constantFrom('/oauth2/userinfo', '/oauth2/revocations', '/v1/oauth2/userinfo'),
    method: fc.oneof({ arbitrary: fc.constant('GET'), weight: 3 }, hostileMethod),
    query: hostileQuery(['after', 'cursor', 'limit', 'access_token', 'since']),
    authorization: fc.oneof(
      hostileAuthorization(app),
      fc.constant(basic(app.id, app.secret)),
      fc.constant(basic(reader.id, reader.secret)),
      fc.constantFrom(`Bearer ${userToken}`, `DPoP ${userToken}`, `bearer  ${userToken}`),
      hostileJwt.map((t) => `DPoP ${t}`),
    ),
    dpop: fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, hostileJwt, fc.constantFrom(...signedProofs)),
    // A browser on another origin, and its preflights (CORS: userinfo is open to it, the feed is not).
    origin: fc.option(fc.constantFrom('https://app.example', 'null', '')),
    preflight: fc.option(fc.constantFrom('GET', 'POST', 'x y', '')),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ path, method, query, authorization, dpop, origin, preflight }) => {
      const res = await send(`${s.url}${path}?${query}`, { method, headers: { authorization, dpop, origin: origin ?? undefined, 'access-control-request-method': preflight ?? undefined } });
      const what = `${method} ${path}?${query.slice(0, 200)} (${String(authorization).slice(0, 80)}, origin ${origin}, preflight ${preflight})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      const open = path.endsWith('/userinfo') && origin !== null;
      assert.equal(res.headers.get('access-control-allow-origin'), open ? '*' : null, what);
      if (res.status === 204) return assert.ok(open && method === 'OPTIONS' && preflight !== null, `${what}: a preflight answer`);
      if (res.status === 200) return assertNoSecret(res.text, res.headers, secrets, what); // the feed is readable by an authenticated client
      assert.ok(res.status >= 400, `${what} → ${res.status}`);
      if (method !== 'HEAD') assertErrorShape(parseJson(res.text, what), what);
      assertNoSecret(res.text, res.headers, secrets, what);
    }),
    { numRuns: 80, seed: 20261205 },
  );
  await assertAlive(s.url);
});

const REGISTRATION_FIELDS = ['redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'client_name', 'scope', 'jwks', 'jwks_uri', 'dpop_bound_access_tokens', 'client_id', 'client_secret', 'software_statement'];

test('S-08 dynamic registration and its management: hostile metadata, tokens, ids and methods are a 4xx in RFC 7591\'s shape and register nothing', async () => {
  let before = fingerprint();
  const register = fc.record({
    kind: fc.constant('register' as const),
    body: hostileBody(hostileBag(REGISTRATION_FIELDS, fc.record({ jwks: fc.oneof(hostileJwk, hostileJwk.map((k) => ({ keys: [k] }))), redirect_uris: fc.oneof(fc.constant([REDIRECT]), hostileValue) }, { requiredKeys: [] }))),
    type: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, hostileContentType),
    authorization: fc.oneof({ arbitrary: fc.constant(`Bearer ${initial}`), weight: 3 }, hostileAuthorization(app)),
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
  });
  // A registered client whose registration access token the generator may use (its DELETE would end it: never generated).
  const registered = parseJson((await send(`${s.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${initial}` }, body: '{"grant_types":["client_credentials"],"scope":"read"}' })).text, 'registration');
  secrets.push(String(registered.registration_access_token), String(registered.client_secret));
  before = fingerprint();
  const manage = fc.record({
    kind: fc.constant('manage' as const),
    body: fc.oneof(fc.constant(''), hostileBody(hostileBag(REGISTRATION_FIELDS))),
    type: hostileContentType,
    authorization: fc.oneof(hostileAuthorization(app), fc.constant(`Bearer ${initial}`), fc.constant(`Bearer ${String(registered.registration_access_token)}`)),
    method: hostileMethod.filter((m) => m !== 'DELETE'),
    segment: fc.oneof(hostileSegment, fc.constant(encodeURIComponent(app.id)), fc.constant(String(registered.client_id)), fc.constant(encodeURIComponent(String(registered.client_id)).replace('_', '%5F'))),
  });
  // Valid metadata of a confidential client (or a private_key_jwt one) with one or two members hostile: past parsing, into the policy's checks.
  const deep = fc
    .record({
      names: fc.array(fc.constantFrom(...REGISTRATION_FIELDS, '__proto__'), { minLength: 1, maxLength: 2 }),
      values: fc.array(fc.oneof(hostileValue, fc.array(hostileString, { minLength: 1, maxLength: 3 }), hostileJwk.map((k) => ({ keys: [k] }))), { minLength: 2, maxLength: 2 }),
      keyed: fc.boolean(),
    })
    .map(({ names, values, keyed }) => {
      const base: Record<string, unknown> = { client_name: 'deep', grant_types: ['client_credentials'], scope: 'read', ...(keyed ? { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] } } : {}) };
      for (const [i, name] of names.entries()) Object.defineProperty(base, name, { value: values[i], enumerable: true, writable: true, configurable: true });
      return { kind: 'register' as const, body: JSON.stringify(base), type: 'application/json' as string | undefined, authorization: `Bearer ${initial}` as string | string[] | undefined, method: 'POST' };
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(register, manage, { arbitrary: deep, weight: 2 }), async (r) => {
      const path = r.kind === 'register' ? '/oauth2/register' : `/oauth2/register/${r.segment}`;
      const res = await send(s.url + path, { method: r.method, headers: { 'content-type': r.type, authorization: r.authorization }, body: r.body });
      const what = `${r.method} ${path.slice(0, 120)} ${JSON.stringify(String(r.body).slice(0, 200))} (${r.type})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      if (res.status === 201 || (res.status === 200 && r.kind === 'manage')) {
        before = fingerprint(); // the generated metadata happened to be acceptable, or the registration was read
        return;
      }
      assert.ok(res.status >= 400, `${what} → ${res.status}`);
      if (r.method !== 'HEAD') assertErrorShape(parseJson(res.text, what), what);
      assertNoSecret(res.text, res.headers, secrets, what);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 100, seed: 20261206 },
  );
  await assertAlive(s.url);
});

test('S-08 discovery, JWKS, OpenAPI and ops routes, and paths nobody serves: hostile methods, queries and percent-encoding are the same document or a 404/405 in the oauth2 shape', async () => {
  const documents = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/oauth2/jwks', '/oauth2/token/openapi.json', '/healthz'];
  const baseline = new Map<string, string>();
  for (const p of documents) baseline.set(p, await (await fetch(s.url + p)).text());
  const request = fc.record({
    path: fc.oneof(
      fc.constantFrom(...documents),
      fc.tuple(fc.constantFrom('/oauth2/', '/.well-known/', '/', '/oauth2/register/x/', '/admin/', '/oauth2/token/'), hostileSegment).map(([a, b]) => a + b),
    ),
    method: hostileMethod,
    query: hostileQuery(['format', 'kid', 'alg', 'callback']),
    body: fc.oneof(fc.constant(undefined), hostileBody(hostileBag(['keys', 'issuer']))),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ path, method: asked, query, body }) => {
      const method = asked.toUpperCase(); // as node:http sends it
      const res = await send(`${s.url}${path}?${query}`, { method, body: body ?? undefined });
      const what = `${method} ${path.slice(0, 120)}?${query.slice(0, 120)}`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      const doc = baseline.get(path);
      if (doc !== undefined && (method === 'GET' || method === 'HEAD')) {
        assert.equal(res.status, 200, what);
        assert.equal(res.text, method === 'HEAD' ? '' : doc, `${what}: the document does not depend on the query`);
        return;
      }
      assert.ok(res.status >= 400, `${what} → ${res.status}`);
      if (doc !== undefined) assert.equal(res.status, 405, what);
      if (method !== 'HEAD') assertErrorShape(parseJson(res.text, what), what, ['field']);
    }),
    { numRuns: 120, seed: 20261207 },
  );
  await assertAlive(s.url);
});

test('S-06 nothing the hostile requests above carried reached the server\'s log: no client secret, token, session or password', () => {
  assertNotLogged(logged.lines, secrets);
});

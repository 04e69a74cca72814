/**
 * Request objects (RFC 9101, JAR) on the wire: a signed `request` at the authorization endpoint (by
 * value) and at the PAR endpoint (RFC 9126 §3), the parameters taken from the object alone, every
 * refusal (wrong key, `alg: none`, HS256 with the client's secret, expired, wrong `aud`, another
 * client_id, a nested request, garbage) with its exact code, status and place, and nothing stored or
 * issued for it; `jti` used once at a push; clients that must sign; request_uri by reference.
 * Real relying-party libraries drive the flow in openid-client-jar.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import { assertion, JWT_BEARER, keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';
import { authorizeGet, basic, formFields, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const CB2 = 'https://app.example/cb2';
const ISSUER = 'http://localhost:8080';
const REQUIRE_SIGNED = 'This client must send its authorization request as a signed request object (the request parameter).';
const TEXT = {
  notJwt: 'The request object is not a signed JWT (compact JWS; encrypted request objects are not supported).',
  alg: 'The request object must be signed with an asymmetric algorithm (none and HS* are refused).',
  key: 'The request object is not signed by a key registered for this client.',
  typ: 'The request object typ must be oauth-authz-req+jwt.',
  clientId: 'The request object client_id must equal the client_id parameter.',
  iss: 'The request object iss must be the client_id.',
  aud: 'The request object aud must be the issuer identifier.',
  exp: 'The request object has expired, is not yet valid, or has no exp.',
  far: 'The request object exp is more than 60 minutes ahead.',
  nbf: 'The request object nbf is more than 60 minutes old.',
  nested: 'A request object cannot contain request or request_uri.',
  type: 'The request object scope has the wrong type.',
  replay: 'The request object has already been used (jti).',
  signIn: 'A request object asking for a new sign-in needs iat or nbf.',
} as const;

describe('request objects (JAR-*)', () => {
  let s: GrantServer;
  let now = Date.now();
  let key: KeyPair;
  let id: string;
  let mustSign: string;
  let consenting: string;
  let secretApp: { id: string; secret: string };
  let cookie: string;
  let inserts = 0;
  let codes = 0;
  const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB, CB2] };
  before(async () => {
    s = await startGrantServer({}, { now: () => now });
    key = await keyPair('ES256', 'jar-k1');
    id = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Signed app', trusted: true });
    mustSign = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'FAPI app', trusted: true, requireSignedRequestObject: true });
    consenting = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Acme Reports' });
    secretApp = await s.client({ ...base, name: 'Secret app', trusted: true });
    cookie = `keymint_session=${(await s.session()).session_token}`;
    // Counts what the store is asked to keep: a refused request object leaves nothing behind.
    const { pushedRequests, codes: codeRepo } = s.keymint.store;
    const insert = pushedRequests.insert.bind(pushedRequests);
    pushedRequests.insert = (r) => ((inserts += 1), insert(r));
    const insertCode = codeRepo.insert.bind(codeRepo);
    codeRepo.insert = (r) => ((codes += 1), insertCode(r));
  });
  after(() => s.close());

  /** A request object as a client makes it; `claims` overrides (undefined: left out). */
  const requestObject = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signer: KeyPair = key) => {
    const t = Math.floor(now / 1000);
    const { challenge, verifier } = pkce();
    const body: Record<string, unknown> = {
      iss: id, aud: ISSUER, client_id: id, response_type: 'code', redirect_uri: CB, scope: 'openid read', state: 'st-j',
      code_challenge: challenge, code_challenge_method: 'S256', jti: randomBytes(12).toString('base64url'), iat: t, nbf: t, exp: t + 300, ...claims,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    const jwt = await new SignJWT(body as JWTPayload).setProtectedHeader({ alg: signer.alg, kid: 'jar-k1', typ: 'oauth-authz-req+jwt', ...header }).sign(signer.privateKey);
    return { jwt, verifier };
  };
  /** A compact JWS with the given header and claims and a made-up signature. */
  const forged = (header: Record<string, unknown>, claims: Record<string, unknown>, signature = '') =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  const clientAuth = async (clientId: string) => ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId, aud: ISSUER }) });
  const push = async (form: Record<string, string>, clientId = id) => s.postForm('/oauth2/par', { ...(await clientAuth(clientId)), ...form });
  const expectError = async (res: Response, status: number, error: string, description: string) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { error, error_description: description });
  };
  const location = (res: Response) => new URL(String(res.headers.get('location')));
  const redeem = async (clientId: string, code: string, verifier: string, redirectUri = CB) =>
    s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...(await clientAuth(clientId)) });

  test('JAR-01 JAR-03 by value at the authorization endpoint: the code follows the parameters of the object alone (the other query parameters are ignored)', async () => {
    const { jwt, verifier } = await requestObject();
    const res = await authorizeGet(s, { client_id: id, request: jwt, redirect_uri: CB2, state: 'outer', scope: 'read', response_type: 'token' }, cookie);
    assert.equal(res.status, 302);
    const back = location(res);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.deepEqual([...back.searchParams.keys()].sort(), ['code', 'iss', 'state']);
    assert.equal(back.searchParams.get('state'), 'st-j');
    const token = await redeem(id, back.searchParams.get('code')!, verifier);
    const body = await s.json(token);
    assert.equal(token.status, 200, JSON.stringify(body));
    assert.equal(body.scope, 'openid read');
  });

  test('JAR-01 JAR-03 pushed (RFC 9126 §3): the parameters of the object are stored, the other body parameters ignored; the request_uri gives the code', async () => {
    const { jwt, verifier } = await requestObject({ max_age: 3600, resource: undefined });
    const res = await push({ request: jwt, scope: 'read', redirect_uri: CB2, state: 'outer' });
    const body = await s.json(res);
    assert.equal(res.status, 201, JSON.stringify(body));
    const auth = await authorizeGet(s, { client_id: id, request_uri: String(body.request_uri) }, cookie);
    const back = location(auth);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.equal(back.searchParams.get('state'), 'st-j');
    const token = await redeem(id, back.searchParams.get('code')!, verifier);
    assert.equal((await s.json(token)).scope, 'openid read');
  });

  /** Each refusal, as a client could send it: the object, and its exact description. */
  const hostile = async (): Promise<Array<{ name: string; request: string; text: string; signed: boolean }>> => {
    const t = Math.floor(now / 1000);
    const claims = { iss: id, aud: ISSUER, client_id: id, response_type: 'code', redirect_uri: CB, scope: 'openid read', state: 'st-h', exp: t + 300 };
    const stranger = await keyPair('ES256', 'jar-k1'); // the registered kid, another key
    const hs = async (secret: string) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'jar-k1' }).sign(new TextEncoder().encode(secret));
    return [
      { name: 'wrong key', request: (await requestObject({ state: 'st-h' }, {}, stranger)).jwt, text: TEXT.key, signed: false },
      { name: 'alg none', request: forged({ alg: 'none' }, claims), text: TEXT.notJwt, signed: false },
      { name: 'alg none, signed', request: forged({ alg: 'none', kid: 'jar-k1' }, claims, 'AAAA'), text: TEXT.alg, signed: false },
      { name: 'HS256 with the client secret', request: await hs(secretApp.secret), text: TEXT.alg, signed: false },
      { name: 'garbage', request: 'not-a-jwt', text: TEXT.notJwt, signed: false },
      { name: 'JWE', request: 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d', text: TEXT.notJwt, signed: false },
      { name: 'typ of a DPoP proof', request: (await requestObject({ state: 'st-h' }, { typ: 'dpop+jwt' })).jwt, text: TEXT.typ, signed: false },
      { name: 'expired', request: (await requestObject({ state: 'st-h', exp: t - 10 })).jwt, text: TEXT.exp, signed: true },
      { name: 'no exp', request: (await requestObject({ state: 'st-h', exp: undefined })).jwt, text: TEXT.exp, signed: true },
      { name: 'exp 61 minutes ahead', request: (await requestObject({ state: 'st-h', exp: t + 3700 })).jwt, text: TEXT.far, signed: true },
      { name: 'nbf 61 minutes old', request: (await requestObject({ state: 'st-h', nbf: t - 3700, iat: t - 3700 })).jwt, text: TEXT.nbf, signed: true },
      { name: 'aud the token endpoint', request: (await requestObject({ state: 'st-h', aud: `${ISSUER}/oauth2/token` })).jwt, text: TEXT.aud, signed: true },
      { name: 'aud the PAR endpoint', request: (await requestObject({ state: 'st-h', aud: `${ISSUER}/oauth2/par` })).jwt, text: TEXT.aud, signed: true },
      { name: 'no aud', request: (await requestObject({ state: 'st-h', aud: undefined })).jwt, text: TEXT.aud, signed: true },
      { name: 'another client_id', request: (await requestObject({ state: 'st-h', client_id: secretApp.id })).jwt, text: TEXT.clientId, signed: true },
      { name: 'no client_id', request: (await requestObject({ state: 'st-h', client_id: undefined })).jwt, text: TEXT.clientId, signed: true },
      { name: 'another iss', request: (await requestObject({ state: 'st-h', iss: secretApp.id })).jwt, text: TEXT.iss, signed: true },
      { name: 'nested request', request: (await requestObject({ state: 'st-h', request: (await requestObject()).jwt })).jwt, text: TEXT.nested, signed: true },
      { name: 'nested request_uri', request: (await requestObject({ state: 'st-h', request_uri: 'urn:ietf:params:oauth:request_uri:x' })).jwt, text: TEXT.nested, signed: true },
      { name: 'scope not a string', request: (await requestObject({ state: 'st-h', scope: ['openid'] })).jwt, text: TEXT.type, signed: true },
      { name: 'prompt=login, no iat or nbf', request: (await requestObject({ state: 'st-h', prompt: 'login', iat: undefined, nbf: undefined })).jwt, text: TEXT.signIn, signed: true },
    ];
  };

  test('JAR-01 JAR-02 JAR-04 at the PAR endpoint every refusal is 400 invalid_request_object, exact, and nothing is stored', async () => {
    const before = inserts;
    for (const h of await hostile()) await expectError(await push({ request: h.request }), 400, 'invalid_request_object', h.text).catch((err) => assert.fail(`${h.name}: ${err}`));
    assert.equal(inserts, before, 'no pushed request stored');
  });

  test('JAR-01 JAR-02 JAR-04 at the authorization endpoint: to the redirect URI of the object once its signature verified, else to a registered one of the query, else the error page; never a code', async () => {
    const before = codes;
    for (const h of await hostile()) {
      const res = await authorizeGet(s, { client_id: id, request: h.request }, cookie);
      if (h.signed) {
        assert.equal(res.status, 302, h.name);
        const back = location(res);
        assert.equal(`${back.origin}${back.pathname}`, CB, h.name);
        assert.deepEqual(Object.fromEntries(back.searchParams), { error: 'invalid_request_object', error_description: h.text, state: 'st-h', iss: ISSUER }, h.name);
      } else {
        assert.equal(res.status, 400, h.name);
        assert.equal(res.headers.get('location'), null, h.name);
        assert.match(await res.text(), /request object/, h.name);
        // Unverified: only a redirect URI registered for the client, from the query, with its state.
        const outer = await authorizeGet(s, { client_id: id, request: h.request, redirect_uri: CB2, state: 'outer' }, cookie);
        assert.equal(outer.status, 302, h.name);
        assert.deepEqual(Object.fromEntries(location(outer).searchParams), { error: 'invalid_request_object', error_description: h.text, state: 'outer', iss: ISSUER }, h.name);
        assert.equal(`${location(outer).origin}${location(outer).pathname}`, CB2);
        const evil = await authorizeGet(s, { client_id: id, request: h.request, redirect_uri: 'https://evil.example/cb' }, cookie);
        assert.equal(evil.status, 400, h.name);
      }
    }
    // Signed by the client but naming a redirect URI it never registered: no redirect there.
    const unregistered = (await requestObject({ redirect_uri: 'https://evil.example/cb', exp: Math.floor(now / 1000) - 10 })).jwt;
    const page = await authorizeGet(s, { client_id: id, request: unregistered }, cookie);
    assert.equal(page.status, 400);
    assert.equal(page.headers.get('location'), null);
    await page.text();
    assert.equal(codes, before, 'no code issued');
  });

  test('JAR-06 the jti of a request object is used once at the PAR endpoint; by value at the authorization endpoint the same URL may come again (a reload)', async () => {
    const { jwt } = await requestObject();
    assert.equal((await push({ request: jwt })).status, 201);
    await expectError(await push({ request: jwt }), 400, 'invalid_request_object', TEXT.replay);
    const again = await requestObject();
    for (let i = 0; i < 2; i++) {
      const res = await authorizeGet(s, { client_id: id, request: again.jwt }, cookie);
      assert.ok(location(res).searchParams.get('code'), `visit ${i + 1}`);
    }
  });

  test('JAR-06 a pushed object\'s exp bounds its request_uri: expires_in is the seconds left to exp when that is below the server\'s lifetime', async () => {
    const t = Math.floor(now / 1000);
    const soon = await requestObject({ exp: t + 20 });
    const short = await s.json(await push({ request: soon.jwt }));
    // Whole seconds left to exp: 20 less the fraction of the current second, rounded down.
    assert.equal(short.expires_in, Math.floor(((t + 20) * 1000 - now) / 1000));
    assert.ok(short.expires_in === 19 || short.expires_in === 20);
    const late = await requestObject({ exp: t + 300 });
    const usual = await s.json(await push({ request: late.jwt }));
    assert.equal(usual.expires_in, 60);
  });

  test('JAR-05 require_signed_request_object: a plain request is refused at both endpoints; a signed one is served', async () => {
    const { challenge } = pkce();
    const plain = { response_type: 'code', client_id: mustSign, redirect_uri: CB, scope: 'openid', state: 'p', code_challenge: challenge, code_challenge_method: 'S256' };
    const direct = await authorizeGet(s, plain, cookie);
    assert.equal(direct.status, 302);
    assert.deepEqual(Object.fromEntries(location(direct).searchParams), { error: 'invalid_request', error_description: REQUIRE_SIGNED, state: 'p', iss: ISSUER });
    await expectError(await push(plain, mustSign), 400, 'invalid_request', REQUIRE_SIGNED);
    const signed = await requestObject({ iss: mustSign, client_id: mustSign });
    const res = await authorizeGet(s, { client_id: mustSign, request: signed.jwt }, cookie);
    assert.equal((await redeem(mustSign, location(res).searchParams.get('code')!, signed.verifier)).status, 200);
    const pushedSigned = await requestObject({ iss: mustSign, client_id: mustSign });
    const uri = String((await s.json(await push({ request: pushedSigned.jwt }, mustSign))).request_uri);
    assert.ok(location(await authorizeGet(s, { client_id: mustSign, request_uri: uri }, cookie)).searchParams.get('code'));
  });

  test('JAR-05 the setting through the admin API: shown in the view, switched off and on, refused for a client without keys', async () => {
    const view = await s.json(await s.admin('GET', `/clients/${mustSign}`));
    assert.equal(view.require_signed_request_object, true);
    const off = await s.admin('PATCH', `/clients/${id}`, { require_signed_request_object: true });
    assert.equal(off.status, 200, await off.clone().text());
    assert.equal((await s.json(off)).require_signed_request_object, true);
    const back = await s.admin('PATCH', `/clients/${id}`, { require_signed_request_object: false });
    assert.equal((await s.json(back)).require_signed_request_object, false);
    const keyless = await s.admin('PATCH', `/clients/${secretApp.id}`, { require_signed_request_object: true });
    assert.equal(keyless.status, 400);
    assert.match(await keyless.text(), /require_signed_request_object needs the client keys/);
  });

  test('JAR-03 consent round trip: the form carries client_id and request (CSRF-bound), the object is verified again at the decision', async () => {
    const { jwt, verifier } = await requestObject({ iss: consenting, client_id: consenting });
    const userCookie = `keymint_session=${(await s.session({ subject: 'jar-consent-user' })).session_token}`;
    const page = await authorizeGet(s, { client_id: consenting, request: jwt, scope: 'read' }, userCookie);
    assert.equal(page.status, 200);
    const fields = formFields(await page.text());
    assert.deepEqual(Object.keys(fields).sort(), ['client_id', 'csrf_token', 'request']);
    const decide = (over: Record<string, string>) =>
      fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie: userCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'approve', ...over }).toString() });
    const other = await requestObject({ iss: consenting, client_id: consenting, scope: 'openid' });
    assert.equal((await decide({ request: other.jwt })).status, 403, 'the CSRF token is bound to the object');
    const approved = await decide({});
    assert.equal(approved.status, 302);
    assert.equal((await s.json(await redeem(consenting, location(approved).searchParams.get('code')!, verifier))).scope, 'openid read');
  });

  test('JAR-07 a request_uri by reference is request_uri_not_supported (at a registered redirect URI of the query, else the page); request and request_uri together are invalid_request', async () => {
    const byReference = await authorizeGet(s, { client_id: id, request_uri: 'https://app.example/request.jwt', redirect_uri: CB, state: 'r' }, cookie);
    assert.equal(byReference.status, 302);
    assert.deepEqual(Object.fromEntries(location(byReference).searchParams), {
      error: 'request_uri_not_supported', error_description: 'Only a request_uri from the pushed authorization request endpoint is supported.', state: 'r', iss: ISSUER,
    });
    const page = await authorizeGet(s, { client_id: id, request_uri: 'https://app.example/request.jwt' }, cookie);
    assert.equal(page.status, 400);
    await page.text();
    const { jwt } = await requestObject();
    const both = await authorizeGet(s, { client_id: id, request: jwt, request_uri: 'urn:ietf:params:oauth:request_uri:x', redirect_uri: CB, state: 'b' }, cookie);
    assert.equal(location(both).searchParams.get('error'), 'invalid_request');
    assert.equal(location(both).searchParams.get('code'), null);
  });

  test('JAR-04 a client secret cannot sign: a client without registered keys gets invalid_request_object for any signed object', async () => {
    const { jwt } = await requestObject({ iss: secretApp.id, client_id: secretApp.id });
    await expectError(await s.postForm('/oauth2/par', { request: jwt }, { authorization: basic(secretApp.id, secretApp.secret) }), 400, 'invalid_request_object', TEXT.key);
  });
});

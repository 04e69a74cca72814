/**
 * The FAPI 2.0 Security Profile for a client registered with `security_profile: fapi2`, on the wire:
 * each rule as a refusal of the fapi2 client where a client without the profile (same keys, same
 * request) succeeds, with the exact answer. PAR only, PKCE S256, https redirect URIs, request_uri
 * lifetime under 600 s, private_key_jwt only, DPoP on every token request (code, refresh, client
 * credentials), PS256/ES256/EdDSA for assertions, request objects and proofs, code lifetime 60 s,
 * `iss` in the authorization response. A real relying party drives the whole flow in
 * openid-client-fapi2.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import { ClientInputError } from '../../src/credentials/client-rules.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';
import { authorizeGet, basic, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const ISSUER = 'http://localhost:8080';
const TOKEN_URL = `${ISSUER}/oauth2/token`;
const PAR_URL = `${ISSUER}/oauth2/par`;
const MUST_PUSH = 'This client must push its authorization request first (pushed authorization requests).';
const NEEDS_PROOF = { error: 'invalid_dpop_proof', error_description: 'This client must send a DPoP proof.' };
const PROOF_ALG = { error: 'invalid_dpop_proof', error_description: 'This client must sign its DPoP proofs with PS256, ES256, EdDSA (FAPI 2.0).' };
const BAD_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const base = { grants: ['authorization_code', 'refresh_token', 'client_credentials'], scopes: ['openid', 'read'], redirectUris: [CB], trusted: true };

describe('FAPI 2.0 Security Profile (FAPI-*)', () => {
  let s: GrantServer;
  let now = Date.now();
  let es: KeyPair;
  let rs: KeyPair;
  let dpopKey: KeyPair;
  let fapi: string;
  let plain: string;
  let fapiRs: string;
  let plainRs: string;
  let cookie: string;
  before(async () => {
    // --par-ttl 600: the longest the server allows, which FAPI 2 does not (expires_in < 600).
    // --alg ES256: a fapi2 client with the openid scope has its ID tokens signed with it (FAPI-11).
    s = await startGrantServer({ parTtl: '600', alg: 'ES256' }, { now: () => now });
    es = await keyPair('ES256', 'es-1');
    rs = await keyPair('RS256', 'rs-1');
    dpopKey = await keyPair('ES256');
    fapi = await privateKeyJwtClient(s.keymint, { keys: [es, rs] }, { ...base, name: 'FAPI app', securityProfile: 'fapi2', idTokenAlg: 'ES256' });
    plain = await privateKeyJwtClient(s.keymint, { keys: [es, rs] }, { ...base, name: 'Plain app' });
    fapiRs = await privateKeyJwtClient(s.keymint, { keys: [rs] }, { ...base, name: 'FAPI RS256 app', securityProfile: 'fapi2', idTokenAlg: 'ES256' });
    plainRs = await privateKeyJwtClient(s.keymint, { keys: [rs] }, { ...base, name: 'Plain RS256 app' });
    cookie = `keymint_session=${(await s.session()).session_token}`;
  });
  after(() => s.close());

  /** Seconds between the server's clock and this process's (assertions and proofs are made with Date.now()). */
  const skew = () => Math.round((now - Date.now()) / 1000);
  const clientAuth = async (clientId: string, key: KeyPair = es, aud: string | string[] = ISSUER) =>
    ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId, aud, expiresIn: 120 }) });
  const proof = (htu: string, key: KeyPair = dpopKey) => dpopProof(key, { htu, iatOffset: skew() });
  const expectError = async (res: Response, status: number, body: Record<string, string>) => {
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.deepEqual(JSON.parse(text), body);
  };
  const push = async (clientId: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    s.postForm('/oauth2/par', { ...(await clientAuth(clientId)), ...form }, headers);
  /** A push, the browser at the authorization endpoint, the code; resolves the code and verifier. */
  const codeFor = async (clientId: string): Promise<{ code: string; verifier: string; location: URL }> => {
    const { challenge, verifier } = pkce();
    const pushed = await push(clientId, { response_type: 'code', redirect_uri: CB, scope: 'openid read', state: 'st-f', code_challenge: challenge, code_challenge_method: 'S256' });
    const body = await s.json(pushed);
    assert.equal(pushed.status, 201, JSON.stringify(body));
    const res = await authorizeGet(s, { client_id: clientId, request_uri: String(body.request_uri) }, cookie);
    assert.equal(res.status, 302, await res.clone().text());
    const location = new URL(String(res.headers.get('location')));
    return { code: location.searchParams.get('code')!, verifier, location };
  };
  const redeem = async (clientId: string, code: string, verifier: string, headers: Record<string, string> = {}) =>
    s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier, ...(await clientAuth(clientId)) }, headers);

  test('FAPI-02 a plain authorization request of a fapi2 client is refused at its redirect URI (with iss); the same request of a plain client gets a code', async () => {
    const { challenge } = pkce();
    const query = { response_type: 'code', redirect_uri: CB, scope: 'read', state: 'st-p', code_challenge: challenge, code_challenge_method: 'S256' };
    const refused = await authorizeGet(s, { ...query, client_id: fapi }, cookie);
    assert.equal(refused.status, 302);
    const back = new URL(String(refused.headers.get('location')));
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.deepEqual(Object.fromEntries(back.searchParams), { error: 'invalid_request', error_description: MUST_PUSH, state: 'st-p', iss: ISSUER });
    const allowed = await authorizeGet(s, { ...query, client_id: plain }, cookie);
    assert.ok(new URL(String(allowed.headers.get('location'))).searchParams.get('code'));
  });

  test('FAPI-02 FAPI-08 through PAR the fapi2 client gets a code, and the authorization response carries iss (RFC 9207)', async () => {
    const { location } = await codeFor(fapi);
    assert.deepEqual([...location.searchParams.keys()].sort(), ['code', 'iss', 'state']);
    assert.equal(location.searchParams.get('iss'), ISSUER);
  });

  test('FAPI-02 the push of a fapi2 client needs PKCE S256, response_type=code and redirect_uri', async () => {
    const { challenge } = pkce();
    const ok = { response_type: 'code', redirect_uri: CB, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' };
    const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = ok;
    await expectError(await push(fapi, noPkce), 400, { error: 'invalid_request', error_description: 'PKCE with code_challenge_method=S256 is required.' });
    await expectError(await push(fapi, { ...ok, code_challenge_method: 'plain' }), 400, { error: 'invalid_request', error_description: 'PKCE with code_challenge_method=S256 is required.' });
    await expectError(await push(fapi, { ...ok, response_type: 'code id_token' }), 400, { error: 'invalid_request', error_description: 'Only response_type=code is supported.' });
    const { redirect_uri: _r, ...noRedirect } = ok;
    await expectError(await push(fapi, noRedirect), 400, { error: 'invalid_request', error_description: 'The redirect URI is missing or not registered for this application.' });
  });

  test('FAPI-03 a fapi2 client\'s request_uri lives 599 s under --par-ttl 600 (expires_in < 600); a plain client\'s 600 s', async () => {
    const { challenge } = pkce();
    const form = { response_type: 'code', redirect_uri: CB, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' };
    const f = await push(fapi, form);
    assert.equal(f.status, 201);
    const fb = await s.json(f);
    assert.equal(fb.expires_in, 599);
    assert.equal((await s.json(await push(plain, form))).expires_in, 600);
    // The stored request ends when expires_in says: 599.5 s later the browser is too late.
    const at = now;
    now += 599_500;
    try {
      const late = await authorizeGet(s, { client_id: fapi, request_uri: String(fb.request_uri) }, cookie);
      assert.equal(new URL(String(late.headers.get('location'))).searchParams.get('error'), 'invalid_request_uri');
    } finally {
      now = at;
    }
  });

  test('FAPI-04 a fapi2 client authenticated by a secret is refused invalid_client at the token and PAR endpoints; without the profile the secret works', async () => {
    const app = await s.client({ ...base, name: 'Secret app' });
    const held2 = await s.client({ ...base, name: 'Secret app (fapi2)' });
    const cc = { grant_type: 'client_credentials', scope: 'read' };
    const dpop = async () => ({ dpop: await proof(TOKEN_URL) });
    assert.equal((await s.postForm('/oauth2/token', cc, { authorization: basic(app.id, app.secret), ...(await dpop()) })).status, 200);
    // A record the client rules would refuse (they hold a fapi2 client to private_key_jwt, FAPI-01):
    // the token endpoint still refuses its secret.
    await s.keymint.store.clients.update(held2.id, (c) => ({ ...c, securityProfile: 'fapi2' as const }));
    const held = await s.postForm('/oauth2/token', cc, { authorization: basic(held2.id, held2.secret), ...(await dpop()) });
    assert.equal(held.status, 401);
    assert.deepEqual(await held.json(), BAD_CLIENT);
    const { challenge } = pkce();
    const pushed = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', client_id: held2.id, client_secret: held2.secret });
    assert.equal(pushed.status, 401);
    assert.deepEqual(await pushed.json(), BAD_CLIENT);
  });

  test('FAPI-05 a fapi2 client\'s code is redeemed only with a DPoP proof (the refused request leaves the code usable); the token is DPoP-bound, refreshes need a proof too; RT-11 its refresh token is kept, not rotated', async () => {
    const { code, verifier } = await codeFor(fapi);
    await expectError(await redeem(fapi, code, verifier), 400, NEEDS_PROOF);
    const res = await redeem(fapi, code, verifier, { dpop: await proof(TOKEN_URL) });
    const tokens = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.token_type, 'DPoP');
    assert.equal((decodeJwt(String(tokens.access_token)).cnf as { jkt?: string }).jkt, await thumbprint(dpopKey));
    const refresh = { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) };
    await expectError(await s.postForm('/oauth2/token', { ...refresh, ...(await clientAuth(fapi)) }), 400, NEEDS_PROOF);
    const refreshed = await s.postForm('/oauth2/token', { ...refresh, ...(await clientAuth(fapi)) }, { dpop: await proof(TOKEN_URL) });
    const again = await s.json(refreshed);
    assert.equal(refreshed.status, 200, JSON.stringify(again));
    assert.equal(again.token_type, 'DPoP');
    // RT-11, FAPI 2.0 §5.3.2.1 item 10: no rotation for a fapi2 client; the same refresh token works again.
    assert.equal(again.refresh_token, undefined);
    const third = await s.postForm('/oauth2/token', { ...refresh, ...(await clientAuth(fapi)) }, { dpop: await proof(TOKEN_URL) });
    assert.equal(third.status, 200, JSON.stringify(await third.clone().json()));
    assert.equal((await s.json(third)).refresh_token, undefined);
    // Control: the plain client redeems without a proof and gets a Bearer token.
    const other = await codeFor(plain);
    const bearer = await s.json(await redeem(plain, other.code, other.verifier));
    assert.equal(bearer.token_type, 'Bearer');
  });

  test('FAPI-05 client_credentials of a fapi2 client needs a DPoP proof too; a plain client gets a Bearer token without one', async () => {
    const cc = { grant_type: 'client_credentials', scope: 'read' };
    await expectError(await s.postForm('/oauth2/token', { ...cc, ...(await clientAuth(fapi)) }), 400, NEEDS_PROOF);
    const bound = await s.json(await s.postForm('/oauth2/token', { ...cc, ...(await clientAuth(fapi)) }, { dpop: await proof(TOKEN_URL) }));
    assert.equal(bound.token_type, 'DPoP');
    assert.equal((await s.json(await s.postForm('/oauth2/token', { ...cc, ...(await clientAuth(plain)) }))).token_type, 'Bearer');
  });

  test('FAPI-06 RS256: a fapi2 client\'s assertion is refused invalid_client, its DPoP proof invalid_dpop_proof, its request object invalid_request_object; a plain client\'s are accepted', async () => {
    const cc = { grant_type: 'client_credentials', scope: 'read' };
    const token = async (clientId: string, key: KeyPair, proofKey: KeyPair) =>
      s.postForm('/oauth2/token', { ...cc, ...(await clientAuth(clientId, key)) }, { dpop: await proof(TOKEN_URL, proofKey) });
    const rsProof = await keyPair('RS256');
    // Assertions.
    await expectError(await token(fapiRs, rs, dpopKey), 401, BAD_CLIENT);
    assert.equal((await token(plainRs, rs, dpopKey)).status, 200);
    // DPoP proofs, at the token endpoint and with a push.
    await expectError(await token(fapi, es, rsProof), 400, PROOF_ALG);
    assert.equal((await token(plain, es, rsProof)).status, 200);
    const { challenge } = pkce();
    const form = { response_type: 'code', redirect_uri: CB, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' };
    await expectError(await push(fapi, form, { dpop: await proof(PAR_URL, rsProof) }), 400, PROOF_ALG);
    assert.equal((await push(plain, form, { dpop: await proof(PAR_URL, rsProof) })).status, 201);
    // Request objects (the client authenticates with its ES256 key, signs the object with its RS256 one).
    const object = async (clientId: string) => {
      const t = Math.floor(Date.now() / 1000) + skew();
      return new SignJWT({ iss: clientId, aud: ISSUER, client_id: clientId, ...form, jti: randomBytes(12).toString('base64url'), iat: t, nbf: t, exp: t + 300 })
        .setProtectedHeader({ alg: 'RS256', kid: 'rs-1', typ: 'oauth-authz-req+jwt' }).sign(rs.privateKey);
    };
    await expectError(await push(fapi, { request: await object(fapi) }), 400, { error: 'invalid_request_object', error_description: 'This client must sign its request objects with PS256, ES256 or EdDSA (FAPI 2.0).' });
    assert.equal((await push(plain, { request: await object(plain) })).status, 201);
  });

  test('FAPI-07 a fapi2 client\'s code lives 60 s: redeemed 61 s later it is invalid_grant', async () => {
    const { code, verifier } = await codeFor(fapi);
    const at = now;
    now += 61_000;
    try {
      await expectError(await redeem(fapi, code, verifier, { dpop: await proof(TOKEN_URL) }), 400, { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used.' });
    } finally {
      now = at;
    }
  });

  test('FAPI-09 a fapi2 client\'s assertion with the issuer as aud (a string, or in an array) is accepted at the token endpoint', async () => {
    const cc = { grant_type: 'client_credentials', scope: 'read' };
    for (const aud of [ISSUER, ['https://elsewhere.example', ISSUER]]) {
      const res = await s.postForm('/oauth2/token', { ...cc, ...(await clientAuth(fapi, es, aud)) }, { dpop: await proof(TOKEN_URL) });
      assert.equal(res.status, 200, await res.clone().text());
    }
  });

  test('FAPI-01 the client rules: a fapi2 client is confidential, private_key_jwt, PKCE-bound, https-redirected, with code/refresh/client_credentials grants only', async () => {
    const refused = async (input: Record<string, unknown>, field: string, message: string) => {
      await assert.rejects(s.keymint.clients.create({ name: 'x', securityProfile: 'fapi2', ...input } as never, 'test'), (e: unknown) => {
        assert.ok(e instanceof ClientInputError, String(e));
        assert.deepEqual([e.field, e.message], [field, message]);
        return true;
      });
    };
    const keyed = { authMethod: 'private_key_jwt', jwks: { keys: [es.jwk] } };
    await refused({ grants: ['client_credentials'] }, 'token_endpoint_auth_method', 'a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1)');
    await refused({ type: 'public', grants: ['authorization_code'], redirectUris: [CB] }, 'security_profile', 'a fapi2 client is confidential (FAPI 2.0 §5.3.2.1)');
    await refused({ ...keyed, grants: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] }, 'grant', 'a fapi2 client may use only authorization_code, refresh_token, client_credentials');
    await refused({ ...keyed, grants: ['authorization_code'], redirectUris: ['http://127.0.0.1:8400/cb'] }, 'redirect_uri', 'a fapi2 client\'s redirect URIs are https (FAPI 2.0 §5.3.2.2)');
    await refused({ ...keyed, grants: ['authorization_code'], redirectUris: [CB], pkceRequired: false }, 'pkce_required', 'a fapi2 client must use PKCE (FAPI 2.0 §5.3.2.2)');
    await refused({ ...keyed, securityProfile: 'fapi1' }, 'security_profile', 'security_profile is fapi2 or none');
    // An update that would break a rule is refused too; `none` drops the profile.
    await assert.rejects(s.keymint.clients.update(fapi, { authMethod: 'client_secret_basic' }, 'test'), ClientInputError);
    const made = await privateKeyJwtClient(s.keymint, { keys: [es] }, { ...base, name: 'Dropped', securityProfile: 'fapi2', idTokenAlg: 'ES256' });
    assert.equal((await s.keymint.clients.update(made, { securityProfile: 'none' }, 'test')).security_profile, null);
  });
});

async function thumbprint(key: KeyPair): Promise<string> {
  const { calculateJwkThumbprint } = await import('jose');
  const { kid: _kid, ...jwk } = key.jwk;
  return calculateJwkThumbprint(jwk, 'sha256');
}

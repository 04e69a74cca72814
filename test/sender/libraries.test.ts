/**
 * private_key_jwt and DPoP at Keymint's `oauth2` token endpoint, driven by real client libraries:
 * oauth4webapi and openid-client discover the server, authenticate with a JWT assertion, ask for
 * DPoP-bound tokens, answer the nonce challenge themselves, introspect and refresh. Requests they
 * made are replayed and tampered with to show what is refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { startServer, type TestServer } from '../support/harness.ts';
import { dpopProof, keyPair, privateKeyJwtClient } from '../support/sender.ts';

const es = await keyPair('ES256', 'c-es');
const ps = await keyPair('PS256', 'c-ps');
const dpopKey = await keyPair('ES256');
const jkt = await calculateJwkThumbprint(dpopKey.jwk, 'sha256');

let server: TestServer;
let clientId: string;
let as: oauth.AuthorizationServer;
before(async () => {
  server = await startServer({ dpopNonce: true });
  clientId = await privateKeyJwtClient(server.keymint, { keys: [es, ps] }, { scopes: ['payments:read', 'payments:write'] });
  const issuer = new URL(server.keymint.config.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
});
after(() => server.close());

/** Records each request's body and headers, so a test can send it again. */
function recorder() {
  const sent: { url: string; body: string; headers: Headers; status: number }[] = [];
  const fetchFn = async (url: string, init: RequestInit) => {
    const res = await fetch(url, init);
    sent.push({ url, body: String(init.body), headers: new Headers(init.headers), status: res.status });
    return res;
  };
  return { sent, fetchFn };
}

function oauth4webapiClient(key = es) {
  const client: oauth.Client = { client_id: clientId };
  const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.jwk.kid });
  const rec = recorder();
  const DPoP = oauth.DPoP(client, dpopKey);
  const options = { DPoP, [oauth.allowInsecureRequests]: true, [oauth.customFetch]: rec.fetchFn };
  return { client, auth, rec, options };
}

const post = async (url: string, headers: Headers, body: string): Promise<[number, string | undefined]> => {
  const res = await fetch(url, { method: 'POST', headers, body });
  return [res.status, ((await res.json()) as { error?: string }).error];
};

test('metadata advertises private_key_jwt with its algorithms, and DPoP with its algorithms', () => {
  assert.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
  assert.ok(as.introspection_endpoint_auth_methods_supported?.includes('private_key_jwt'));
  for (const alg of ['ES256', 'PS256', 'RS256', 'EdDSA']) {
    assert.ok(as.token_endpoint_auth_signing_alg_values_supported?.includes(alg), alg);
    assert.ok(as.dpop_signing_alg_values_supported?.includes(alg), alg);
  }
  for (const list of [as.token_endpoint_auth_signing_alg_values_supported, as.dpop_signing_alg_values_supported]) {
    assert.ok(!list?.some((alg) => alg === 'none' || alg.startsWith('HS')), 'no symmetric or none algorithm');
  }
});

test('BCP-09 BCP-13 PJ-01 DP-01 DP-02 DP-03 oauth4webapi: private_key_jwt and a DPoP proof, the nonce challenge answered, a bound token that introspection confirms', async () => {
  const { client, auth, rec, options } = oauth4webapiClient();
  const grant = async () =>
    oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: 'payments:read' }), options));
  let result: oauth.TokenEndpointResponse;
  try {
    result = await grant();
    assert.fail('the first request has no nonce');
  } catch (error) {
    assert.ok(oauth.isDPoPNonceError(error), String(error));
    result = await grant();
  }
  assert.deepEqual(rec.sent.map((s) => s.status), [400, 200]);
  assert.equal(result.token_type, 'dpop');
  const claims = decodeJwt(result.access_token);
  assert.deepEqual(claims.cnf, { jkt });
  assert.equal(claims.client_id, clientId);
  assert.equal(claims.scope, 'payments:read');

  // The client introspects its own token, authenticating the same way (DP-02: `cnf` and `token_type`).
  const res = await oauth.introspectionRequest(as, client, auth, result.access_token, { [oauth.allowInsecureRequests]: true });
  const answer = await oauth.processIntrospectionResponse(as, client, res);
  assert.equal(answer.active, true);
  assert.equal(answer.token_type, 'DPoP');
  assert.deepEqual(answer.cnf, { jkt });
});

test('PJ-01 DP-01 a request oauth4webapi made, replayed: the proof is refused, and the assertion under a fresh proof', async () => {
  const { client, auth, rec, options } = oauth4webapiClient();
  const request = () => oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options);
  if ((await request()).status === 400) assert.equal((await request()).status, 200); // the first may learn the nonce
  const sent = rec.sent.at(-1)!;
  assert.equal(sent.status, 200);
  const [h, p, sig] = sent.headers.get('dpop')!.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { nonce: string };
  /** The recorded body with a new assertion from the library's own signer. */
  const freshBody = async () => {
    const body = new URLSearchParams(sent.body);
    await auth(as, client, body, new Headers());
    return body.toString();
  };
  const withProof = (proof: string | undefined) => {
    const headers = new Headers(sent.headers);
    if (proof === undefined) headers.delete('dpop');
    else headers.set('dpop', proof);
    return headers;
  };
  // The proof is checked first (a nonce challenge must not spend an assertion), so a replay fails on it.
  assert.deepEqual(await post(sent.url, sent.headers, sent.body), [400, 'invalid_dpop_proof']);
  const fresh = () => dpopProof(dpopKey, { htu: sent.url, nonce: payload.nonce });
  assert.deepEqual(await post(sent.url, withProof(await fresh()), sent.body), [401, 'invalid_client'], 'the assertion was used');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, jti: 'new' })).toString('base64url')}.${sig}`;
  assert.deepEqual(await post(sent.url, withProof(tampered), await freshBody()), [400, 'invalid_dpop_proof']);
  const plain = await fetch(sent.url, { method: 'POST', headers: withProof(undefined), body: await freshBody() });
  assert.equal(plain.status, 200);
  assert.equal(((await plain.json()) as { token_type?: string }).token_type, 'Bearer', 'a fresh assertion without a proof gets an unbound token');
});

test('PJ-01 PJ-02 an assertion signed by another key under the client\'s kid, for another audience, or by an unregistered kid is refused', async () => {
  const client: oauth.Client = { client_id: clientId };
  const intruder = await keyPair('ES256', 'c-es');
  const options = { [oauth.allowInsecureRequests]: true };
  for (const auth of [
    oauth.PrivateKeyJwt({ key: intruder.privateKey, kid: 'c-es' }),
    oauth.PrivateKeyJwt({ key: es.privateKey, kid: 'c-es' }, { [oauth.modifyAssertion]: (_h, p) => void (p.aud = 'https://elsewhere.example') }),
    oauth.PrivateKeyJwt({ key: es.privateKey, kid: 'c-unknown' }),
  ]) {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' });
  }
});

test('PJ-01 DP-01 DP-03 openid-client: private_key_jwt (PS256) and DPoP, the nonce retry inside the library, then a refresh-less second grant reusing the nonce', async () => {
  const config = await openid.discovery(new URL(server.keymint.config.issuer), clientId, {}, openid.PrivateKeyJwt({ key: ps.privateKey, kid: 'c-ps' }), {
    execute: [openid.allowInsecureRequests],
  });
  const rec = recorder();
  config[openid.customFetch] = rec.fetchFn as typeof fetch;
  const DPoP = openid.getDPoPHandle(config, dpopKey);
  const first = await openid.clientCredentialsGrant(config, { scope: 'payments:write' }, { DPoP });
  assert.equal(first.token_type, 'dpop');
  assert.deepEqual(decodeJwt(first.access_token).cnf, { jkt });
  assert.equal(decodeJwt(first.access_token).scope, 'payments:write');
  const second = await openid.clientCredentialsGrant(config, {}, { DPoP });
  assert.deepEqual(decodeJwt(second.access_token).cnf, { jkt });
  assert.deepEqual(rec.sent.map((s) => s.status), [400, 200, 200], 'one nonce challenge, then the remembered nonce serves');
});

test('DP-05 B-06 oauth4webapi and openid-client at userinfo (GET, and POST through openid-client): a DPoP-bound user token with the library\'s proof; another key\'s proof and the bearer scheme are refused', async () => {
  const USER = 'user-dpop-1';
  const webClient = await privateKeyJwtClient(server.keymint, { keys: [es] }, { grants: ['web'] });
  const client: oauth.Client = { client_id: webClient };
  const auth = oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.jwk.kid });
  const rec = recorder();
  const options = { DPoP: oauth.DPoP(client, dpopKey), [oauth.allowInsecureRequests]: true, [oauth.customFetch]: rec.fetchFn };
  const { sessionToken } = await server.keymint.sessions.create({ subject: USER }, 'test');
  // The web grant exchanges the user's session; the library answers the nonce challenge if it meets one.
  const grant = () => oauth.genericTokenEndpointRequest(as, client, auth, 'web', new URLSearchParams({ session_token: sessionToken }), options);
  let response = await grant();
  if (response.status === 400) response = await grant();
  const token = await oauth.processGenericTokenEndpointResponse(as, client, response);
  assert.deepEqual(decodeJwt(token.access_token).cnf, { jkt });

  const info = await oauth.processUserInfoResponse(as, client, USER, await oauth.userInfoRequest(as, client, token.access_token, options));
  assert.deepEqual(info, { sub: USER, sub_type: 'user' });
  const asked = rec.sent.filter((s) => s.url.endsWith('/oauth2/userinfo')).at(-1)!;
  assert.match(asked.headers.get('authorization') ?? '', /^DPoP /);
  assert.deepEqual(rec.sent.map((s) => s.status), [400, 200, 200], 'the nonce learnt at the token endpoint serves at userinfo');

  // A proof by a key the token is not bound to: the DPoP scheme's invalid_token, which the library reads.
  const other = await keyPair('ES256');
  const stranger = { ...options, DPoP: oauth.DPoP(client, other) };
  const refused = async () => oauth.processUserInfoResponse(as, client, USER, await oauth.userInfoRequest(as, client, token.access_token, stranger));
  await assert.rejects(refused().catch(async (error) => (oauth.isDPoPNonceError(error) ? refused() : Promise.reject(error))), (error: unknown) => {
    assert.ok(error instanceof oauth.WWWAuthenticateChallengeError, String(error));
    assert.equal(error.status, 401);
    assert.deepEqual(error.cause.map((c) => [c.scheme, c.parameters.error]), [['dpop', 'invalid_token']]);
    return true;
  });

  const config = await openid.discovery(new URL(server.keymint.config.issuer), webClient, {}, openid.PrivateKeyJwt({ key: es.privateKey, kid: 'c-es' }), {
    execute: [openid.allowInsecureRequests],
  });
  const seen = recorder();
  config[openid.customFetch] = seen.fetchFn as typeof fetch;
  const DPoP = openid.getDPoPHandle(config, dpopKey);
  assert.deepEqual(await openid.fetchUserInfo(config, token.access_token, USER, { DPoP }), { sub: USER, sub_type: 'user' });
  // A new handle knows no nonce: the resource server's challenge (401 use_dpop_nonce, RFC 9449 §9), answered by the library.
  assert.deepEqual(seen.sent.map((s) => s.status), [401, 200]);
  // B-06: userinfo by POST, the proof naming that method (openid-client's generic protected-resource call).
  const posted = await openid.fetchProtectedResource(config, token.access_token, new URL(`${server.keymint.config.issuer}/oauth2/userinfo`), 'POST', null, undefined, { DPoP });
  assert.equal(posted.status, 200);
  assert.deepEqual(await posted.json(), { sub: USER, sub_type: 'user' });
  assert.match(String(decodeJwt(String(seen.sent.at(-1)!.headers.get('dpop'))).htm), /^POST$/);
  // Without its proof the bound token is no bearer token.
  await assert.rejects(openid.fetchUserInfo(config, token.access_token, USER), (error: unknown) => {
    assert.ok(error instanceof openid.WWWAuthenticateChallengeError, String(error));
    assert.deepEqual(error.cause.map((c) => [c.scheme, c.parameters.error]), [['bearer', 'invalid_token']]);
    return true;
  });
});

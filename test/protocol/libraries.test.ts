/**
 * The sender-constraining protocol modules against real client libraries: oauth4webapi and
 * openid-client authenticate with `private_key_jwt` and ask for DPoP-bound tokens (answering a
 * nonce challenge) at a token endpoint made of those modules (test/support/sender-endpoint.ts);
 * replayed and tampered requests captured from them are refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { startSenderEndpoint, type SenderEndpoint } from '../support/sender-endpoint.ts';

const CLIENT = 'sk_live_libclient';
const clientKey = await generateKeyPair('ES256', { extractable: true });
const rsaClientKey = await generateKeyPair('PS256', { extractable: true });
const clients = new Map([
  [CLIENT, { keys: [{ ...(await exportJWK(clientKey.publicKey)), kid: 'c-es' }, { ...(await exportJWK(rsaClientKey.publicKey)), kid: 'c-ps' }] }],
]);
const dpopKey = await generateKeyPair('ES256', { extractable: true });
const jkt = await calculateJwkThumbprint(await exportJWK(dpopKey.publicKey), 'sha256');

let endpoint: SenderEndpoint;
before(async () => {
  endpoint = await startSenderEndpoint(clients, { nonces: true });
});
after(() => endpoint.close());

/** Records each request's body and headers, so a test can send it again. */
function recorder() {
  const sent: { body: string; headers: Headers }[] = [];
  const fetchFn = async (url: string, init: RequestInit) => {
    sent.push({ body: String(init.body), headers: new Headers(init.headers) });
    return fetch(url, init);
  };
  return { sent, fetchFn };
}

/** oauth4webapi set up for the endpoint: private_key_jwt with the ES256 key, a DPoP handle, a recorder. */
function oauth4webapiClient() {
  const as: oauth.AuthorizationServer = { issuer: endpoint.issuer, token_endpoint: endpoint.tokenUrl };
  const client: oauth.Client = { client_id: CLIENT };
  const auth = oauth.PrivateKeyJwt({ key: clientKey.privateKey, kid: 'c-es' });
  const rec = recorder();
  const options = { DPoP: oauth.DPoP(client, dpopKey), [oauth.allowInsecureRequests]: true, [oauth.customFetch]: rec.fetchFn };
  return { as, client, auth, rec, options };
}

test('PJ-01 DP-01 DP-03 oauth4webapi: private_key_jwt and a DPoP proof, the nonce challenge answered, a DPoP-bound token', async () => {
  const { as, client, auth, rec, options } = oauth4webapiClient();
  const grant = async () =>
    oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options));
  let result: oauth.TokenEndpointResponse;
  try {
    result = await grant();
    assert.fail('the first request has no nonce');
  } catch (error) {
    assert.ok(oauth.isDPoPNonceError(error), String(error));
    result = await grant();
  }
  assert.equal(result.token_type, 'dpop');
  assert.deepEqual(decodeJwt(result.access_token).cnf, { jkt });
  assert.deepEqual(endpoint.outcomes.slice(-2), ['use_dpop_nonce', 'ok']);
});

test('PJ-01 DP-01 a request oauth4webapi made, replayed: the assertion is refused, then the proof', async () => {
  const { as, client, auth, rec, options } = oauth4webapiClient();
  const request = () => oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options);
  if ((await request()).status === 400) assert.equal((await request()).status, 200); // first one learns the nonce
  const sent = rec.sent.at(-1)!;
  const post = (headers: Headers, body: string) => fetch(endpoint.tokenUrl, { method: 'POST', headers, body }).then(async (r) => [r.status, ((await r.json()) as { error?: string }).error]);
  /** The recorded body with a new assertion from the library's own signer. */
  const freshBody = async () => {
    const body = new URLSearchParams(sent.body);
    await auth(as, client, body, new Headers());
    return body.toString();
  };
  assert.deepEqual(await post(sent.headers, sent.body), [401, 'invalid_client']);
  assert.deepEqual(await post(sent.headers, await freshBody()), [400, 'invalid_dpop_proof']);
  const [h, p, sig] = sent.headers.get('dpop')!.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  const tampered = new Headers(sent.headers);
  tampered.set('dpop', `${h}.${Buffer.from(JSON.stringify({ ...payload, jti: 'new' })).toString('base64url')}.${sig}`);
  assert.deepEqual(await post(tampered, await freshBody()), [400, 'invalid_dpop_proof']);
  const withoutProof = new Headers(sent.headers);
  withoutProof.delete('dpop');
  const plain = await fetch(endpoint.tokenUrl, { method: 'POST', headers: withoutProof, body: await freshBody() });
  assert.equal(((await plain.json()) as { token_type?: string }).token_type, 'Bearer', 'a fresh assertion without a proof gets an unbound token');
});

test('PJ-01 PJ-02 an assertion signed by another key under the client\'s kid, or for another audience, is refused', async () => {
  const as: oauth.AuthorizationServer = { issuer: endpoint.issuer, token_endpoint: endpoint.tokenUrl };
  const client: oauth.Client = { client_id: CLIENT };
  const intruder = await generateKeyPair('ES256');
  const options = { [oauth.allowInsecureRequests]: true };
  for (const auth of [
    oauth.PrivateKeyJwt({ key: intruder.privateKey, kid: 'c-es' }),
    oauth.PrivateKeyJwt({ key: clientKey.privateKey, kid: 'c-es' }, { [oauth.modifyAssertion]: (_h, p) => void (p.aud = 'https://elsewhere.example') }),
  ]) {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' });
  }
});

test('PJ-01 DP-01 DP-03 openid-client: private_key_jwt (PS256) and DPoP, nonce retry inside the library', async (t) => {
  const own = await startSenderEndpoint(clients, { nonces: true });
  t.after(() => own.close());
  const config = new openid.Configuration(
    { issuer: own.issuer, token_endpoint: own.tokenUrl },
    CLIENT,
    {},
    openid.PrivateKeyJwt({ key: rsaClientKey.privateKey, kid: 'c-ps' }),
  );
  openid.allowInsecureRequests(config);
  const DPoP = openid.getDPoPHandle(config, dpopKey);
  const tokens = await openid.clientCredentialsGrant(config, {}, { DPoP });
  assert.equal(tokens.token_type, 'dpop');
  assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });
  assert.deepEqual(own.outcomes, ['use_dpop_nonce', 'ok']);
});

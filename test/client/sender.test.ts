/**
 * keymint/client's `private_key_jwt` and DPoP: against Keymint's `oauth2` token endpoint and a
 * resource server protected by keymint/verify, and its resource proofs checked by another
 * implementation (oauth4webapi's validateJwtAccessToken).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { authorizedFetch, createDpopProver, createTokenSource } from '../../src/client/index.ts';
import { createVerifier, protectNode } from '../../src/verify/index.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const CLIENT = 'sk_live_sdk';
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: 'es' }, { ...(await exportJWK(rsa.publicKey)), kid: 'rsa' }, { ...(await exportJWK(ed.publicKey)), kid: 'ed' }] };

/** Keymint with one client registered for private_key_jwt with the three keys above; `outcomes` lists each token answer. */
async function keymintEndpoint(flags: Record<string, string | boolean> = {}) {
  const outcomes: string[] = [];
  const server: TestServer = await startServer({ lockoutThreshold: '1000', ...flags }, { observers: [(o) => o.endpoint === 'token' && outcomes.push(o.result)] });
  const { client } = await server.keymint.clients.create({ name: 'sdk', authMethod: 'private_key_jwt', jwks }, 'test');
  const issuer = server.keymint.config.issuer;
  return { server, clientId: client.client_id, issuer, tokenUrl: `${issuer}/oauth2/token`, outcomes, close: () => server.close() };
}

test('PJ-01 private_key_jwt from keymint/client passes the assertion checks, for EC, RSA (RS256, PS256) and Ed25519 keys', async (t) => {
  const endpoint = await keymintEndpoint();
  t.after(() => endpoint.close());
  const keys = [
    { privateKey: es.privateKey, keyId: 'es' },
    { privateKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), keyId: 'rsa' },
    { privateKey: rsa.privateKey, keyId: 'rsa', algorithm: 'PS256' as const },
    { privateKey: ed.privateKey.export({ format: 'jwk' }), keyId: 'ed' },
  ];
  for (const key of keys) {
    const source = createTokenSource({ tokenUrl: endpoint.tokenUrl, clientId: endpoint.clientId, privateKeyJwt: { ...key, audience: endpoint.issuer } });
    const claims = decodeJwt(await source.getToken());
    assert.equal(claims.client_id, endpoint.clientId);
    assert.equal(claims.cnf, undefined, 'no DPoP asked for: an unbound token');
  }
  assert.deepEqual(endpoint.outcomes, ['ok', 'ok', 'ok', 'ok']);
  // A key the client never registered is refused as invalid_client.
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const bad = createTokenSource({ tokenUrl: endpoint.tokenUrl, clientId: endpoint.clientId, privateKeyJwt: { privateKey: stranger, keyId: 'es', audience: endpoint.issuer } });
  await assert.rejects(bad.getToken(), { name: 'TokenSourceError', code: 'invalid_client', status: 401 });
});

test('DP-03 DP-05 keymint/client gets a DPoP-bound token through a nonce challenge and uses it at a keymint/verify API through another', async (t) => {
  const endpoint = await keymintEndpoint({ dpopNonce: true });
  t.after(() => endpoint.close());
  let rsNonce = `rs-${randomBytes(4).toString('hex')}`;
  const verifier = createVerifier({
    issuer: endpoint.issuer,
    audience: endpoint.issuer,
    jwksUri: `${endpoint.server.url}/oauth2/jwks`,
    dpop: { nonce: { current: () => rsNonce, isValid: (n) => n === rsNonce } },
  });
  const guard = protectNode(verifier);
  const seen: number[] = [];
  const api = createServer(async (req, res) => {
    const claims = await guard(req, res);
    seen.push(res.statusCode);
    if (claims) res.writeHead(200).end(String(claims.cnf?.jkt));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => api.close(() => resolve())));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/payments?page=2`;

  const source = createTokenSource({
    tokenUrl: endpoint.tokenUrl, clientId: endpoint.clientId, dpop: true, privateKeyJwt: { privateKey: es.privateKey, keyId: 'es', audience: endpoint.issuer },
  });
  const token = await source.getToken();
  assert.deepEqual(endpoint.outcomes, ['use_dpop_nonce', 'ok'], 'one immediate retry with the nonce');
  assert.deepEqual(decodeJwt(token).cnf, { jkt: source.dpop!.jkt });

  const call = authorizedFetch(source);
  const res = await call(apiUrl, { method: 'GET' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), source.dpop!.jkt);
  assert.deepEqual(seen, [401, 200], 'the API asked for its nonce once');
  assert.equal((await call(apiUrl)).status, 200);
  assert.deepEqual(seen, [401, 200, 200], 'the nonce is remembered');
  rsNonce = 'rotated';
  assert.equal((await call(apiUrl)).status, 200);
  assert.deepEqual(seen, [401, 200, 200, 401, 200], 'a rotated nonce costs one more round trip');
  assert.equal(endpoint.outcomes.length, 2, 'a nonce retry is not a reason for a new token');
});

test('DP-05 keymint/client resource proofs pass oauth4webapi\'s validateJwtAccessToken', async (t) => {
  const endpoint = await keymintEndpoint();
  t.after(() => endpoint.close());
  const prover = createDpopProver({ privateKey: generateKeyPairSync('ed25519').privateKey });
  const source = createTokenSource({ tokenUrl: endpoint.tokenUrl, clientId: endpoint.clientId, dpop: prover, privateKeyJwt: { privateKey: es.privateKey, keyId: 'es', audience: endpoint.issuer } });
  const { headers } = await source.authorize('POST', 'https://api.example.com/payments?x=1');
  assert.match(headers.authorization!, /^DPoP /);
  const as = { issuer: endpoint.issuer, jwks_uri: `${endpoint.server.url}/oauth2/jwks` };
  const request = new Request('https://api.example.com/payments?x=1', { method: 'POST', headers });
  const claims = await oauth.validateJwtAccessToken(as, request, endpoint.issuer, { requireDPoP: true, [oauth.allowInsecureRequests]: true });
  assert.deepEqual(claims.cnf, { jkt: prover.jkt });
  const elsewhere = new Request('https://api.example.com/other', { method: 'POST', headers });
  await assert.rejects(oauth.validateJwtAccessToken(as, elsewhere, endpoint.issuer, { [oauth.allowInsecureRequests]: true }));
});

test('construction: exactly one of clientSecret and privateKeyJwt; private_key_jwt and DPoP only on the oauth2 dialect', () => {
  const base = { tokenUrl: 'https://auth.example.com/token', clientId: CLIENT };
  const privateKeyJwt = { privateKey: es.privateKey, audience: 'https://auth.example.com' };
  assert.throws(() => createTokenSource({ ...base }), TypeError);
  assert.throws(() => createTokenSource({ ...base, clientSecret: 's', privateKeyJwt }), TypeError);
  assert.throws(() => createTokenSource({ ...base, dialect: 'orum', privateKeyJwt }), TypeError);
  assert.throws(() => createTokenSource({ ...base, dialect: 'orum', clientSecret: 's', dpop: true }), TypeError);
  assert.throws(() => createTokenSource({ ...base, privateKeyJwt: { ...privateKeyJwt, algorithm: 'EdDSA' } }), TypeError, 'alg must fit the key');
  assert.throws(() => createDpopProver({ privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }), TypeError);
});

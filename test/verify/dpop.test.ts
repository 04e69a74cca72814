/**
 * DPoP at the resource server (RFC 9449 §7) and protected-resource metadata (RFC 9728), through
 * `protectNode` on a real node:http server: exact status, WWW-Authenticate and body for each
 * refusal; proofs made by hand (to get one thing wrong at a time) and by oauth4webapi and
 * openid-client (to show real clients pass, nonce challenge included).
 */
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { createVerifier, protectNode, type DpopNonceSource, type ProtectOptions, type VerifierOptions } from '../../src/verify/index.ts';

const ISSUER = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const ALGS = 'ES256 EdDSA';
const signing = await generateKeyPair('RS256', { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'RS256' }] };
const holder = await generateKeyPair('ES256', { extractable: true });
const holderJwk = await exportJWK(holder.publicKey);
const jkt = await calculateJwkThumbprint(holderJwk, 'sha256');

const nowSec = () => Math.floor(Date.now() / 1000);
const accessToken = (extra: JWTPayload = {}) =>
  new SignJWT({ iss: ISSUER, aud: AUD, sub: 'c1', client_id: 'c1', jti: randomBytes(8).toString('hex'), scope: 'read', iat: nowSec(), exp: nowSec() + 300, ...extra })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
    .sign(signing.privateKey);
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

let base = '';
const guards = new Map<string, ReturnType<typeof protectNode>>();
const server = createServer(async (req, res) => {
  const guard = guards.get(req.url!.split('?')[0]!.replace(/^\/\.well-known\/oauth-protected-resource/, '')) ?? guards.get('/data')!;
  const claims = await guard(req, res);
  if (claims) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: claims.sub, jkt: claims.cnf?.jkt ?? null }));
});
const mount = (path: string, verifier: Partial<VerifierOptions>, options: ProtectOptions = {}) => {
  const v = createVerifier({ issuer: ISSUER, audience: AUD, jwksUri: `${ISSUER}/jwks`, fetch: (async () => Response.json(jwks)) as typeof fetch, ...verifier });
  guards.set(path, protectNode(v, { origin: 'https://api.example.com', ...options }));
};
/** Sends to the server while the proof names the public origin (`origin` option). */
const PUBLIC = 'https://api.example.com';
async function call(path: string, headers: Record<string, string | string[]>, method = 'GET') {
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) for (const value of [v].flat()) h.append(k, value);
  const res = await fetch(`${base}${path}`, { method, headers: h });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), nonce: res.headers.get('dpop-nonce'), body: await res.text() };
}
const proof = (claims: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey = holder.privateKey, jwk: JWK = holderJwk) =>
  new SignJWT({ jti: randomBytes(12).toString('base64url'), htm: 'GET', iat: nowSec(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(key);
const dpopChallenge = (error: string, description: string) =>
  `DPoP realm="api", error="${error}", error_description="${description}", algs="${ALGS}"`;
const body = (error: string, description: string) => JSON.stringify({ error, error_description: description });

let nonceValue = 'n-1';
const nonces: DpopNonceSource = { current: () => nonceValue, isValid: (n) => n === nonceValue };

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mount('/data', { dpop: { algorithms: ['ES256', 'EdDSA'] } });
  mount('/strict', { dpop: { algorithms: ['ES256', 'EdDSA'], required: true } });
  mount('/nonce', { dpop: { algorithms: ['ES256', 'EdDSA'], nonce: nonces } });
  mount('/plain', {});
  mount('/mcp', { dpop: { algorithms: ['ES256', 'EdDSA'] } }, {
    resourceMetadata: { resource: `${PUBLIC}/mcp`, authorizationServers: [ISSUER], scopesSupported: ['read', 'write'], resourceName: 'Example MCP' },
  });
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('DP-05 a DPoP-bound token with a good proof passes; the claims carry cnf.jkt', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const res = await call('/data?x=1', { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath(token) }) });
  assert.deepEqual(res, { status: 200, challenge: null, nonce: null, body: JSON.stringify({ sub: 'c1', jkt }) });
});

test('DP-05 ath must be the hash of this token; htm and htu must be this request; no reuse', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const d = 'The DPoP proof is invalid';
  const refused = { status: 401, challenge: dpopChallenge('invalid_dpop_proof', d), nonce: null, body: body('invalid_dpop_proof', d) };
  const auth = `DPoP ${token}`;
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath('another') }) }), refused);
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${PUBLIC}/data` }) }), refused);
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath(token), htm: 'POST' }) }), refused);
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${PUBLIC}/other`, ath: ath(token) }) }), refused);
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${base}/data`, ath: ath(token) }) }), refused, 'the public origin is what counts');
  assert.deepEqual(await call('/data', { authorization: auth, dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath(token), iat: nowSec() - 120 }) }), refused);
  assert.deepEqual(await call('/data', { authorization: auth }), refused, 'no proof');
  const good = await proof({ htu: `${PUBLIC}/data`, ath: ath(token) });
  assert.deepEqual(await call('/data', { authorization: auth, dpop: [good, good] }), refused, 'two DPoP headers');
  assert.equal((await call('/data', { authorization: auth, dpop: good })).status, 200);
  assert.deepEqual(await call('/data', { authorization: auth, dpop: good }), refused, 'replayed');
});

test('DP-05 the proof key must be the one the token is bound to', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const other = await generateKeyPair('ES256', { extractable: true });
  const d = 'The access token is invalid';
  const res = await call('/data', {
    authorization: `DPoP ${token}`,
    dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath(token) }, {}, other.privateKey, await exportJWK(other.publicKey)),
  });
  assert.deepEqual(res, { status: 401, challenge: dpopChallenge('invalid_token', d), nonce: null, body: body('invalid_token', d) });
});

test('DP-05 a bound token sent as Bearer is refused, by a DPoP verifier and by one without DPoP', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const d = 'The access token is invalid';
  assert.deepEqual(await call('/data', { authorization: `Bearer ${token}` }), {
    status: 401, challenge: dpopChallenge('invalid_token', d), nonce: null, body: body('invalid_token', d),
  });
  assert.deepEqual(await call('/plain', { authorization: `Bearer ${token}` }), {
    status: 401, challenge: `Bearer realm="api", error="invalid_token", error_description="${d}"`, nonce: null, body: body('invalid_token', d),
  });
});

test('DP-05 an unbound token with the DPoP scheme is refused; Bearer tokens pass unless DPoP is required', async () => {
  const token = await accessToken();
  const d = 'The access token is invalid';
  const res = await call('/data', { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${PUBLIC}/data`, ath: ath(token) }) });
  assert.deepEqual(res, { status: 401, challenge: dpopChallenge('invalid_token', d), nonce: null, body: body('invalid_token', d) });
  assert.equal((await call('/data', { authorization: `Bearer ${token}` })).status, 200);
  assert.deepEqual(await call('/strict', { authorization: `Bearer ${token}` }), {
    status: 401, challenge: dpopChallenge('invalid_token', d), nonce: null, body: body('invalid_token', d),
  });
  // Without DPoP on, the DPoP scheme is no token at all.
  assert.deepEqual(await call('/plain', { authorization: `DPoP ${token}` }), { status: 401, challenge: 'Bearer realm="api"', nonce: null, body: '' });
});

test('DP-05 no token: both schemes are offered, with algs; only DPoP when it is required', async () => {
  assert.deepEqual(await call('/data', {}), { status: 401, challenge: `Bearer realm="api", DPoP realm="api", algs="${ALGS}"`, nonce: null, body: '' });
  assert.deepEqual(await call('/strict', {}), { status: 401, challenge: `DPoP realm="api", algs="${ALGS}"`, nonce: null, body: '' });
});

test('DP-05 a nonce is required: 401 use_dpop_nonce with DPoP-Nonce, then the proof with it passes', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const d = 'The resource server requires a nonce in the DPoP proof';
  const first = await call('/nonce', { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${PUBLIC}/nonce`, ath: ath(token) }) });
  assert.deepEqual(first, { status: 401, challenge: dpopChallenge('use_dpop_nonce', d), nonce: 'n-1', body: body('use_dpop_nonce', d) });
  const second = await call('/nonce', { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${PUBLIC}/nonce`, ath: ath(token), nonce: first.nonce! }) });
  assert.equal(second.status, 200);
});

test('DP-05 oauth4webapi: its DPoP handle passes, retrying once on the nonce challenge', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const handle = oauth.DPoP({}, { privateKey: holder.privateKey, publicKey: holder.publicKey });
  nonceValue = 'n-2';
  const request = () =>
    oauth.protectedResourceRequest(token, 'GET', new URL(`${PUBLIC}/nonce`), new Headers(), null, {
      DPoP: handle,
      [oauth.customFetch]: (url: string, init: RequestInit) => fetch(url.replace(PUBLIC, base), init),
    });
  let res: Response;
  try {
    res = await request();
    assert.fail('the first request needs a nonce');
  } catch (error) {
    assert.ok(oauth.isDPoPNonceError(error));
    res = await request();
  }
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: 'c1', jkt });
});

test('DP-05 openid-client: fetchProtectedResource with a DPoP handle passes', async () => {
  const token = await accessToken({ cnf: { jkt } });
  const config = new openid.Configuration({ issuer: ISSUER }, 'c1');
  config[openid.customFetch] = (url: string, init: RequestInit) => fetch(url.replace(PUBLIC, base), init);
  const handle = openid.getDPoPHandle(config, { privateKey: holder.privateKey, publicKey: holder.publicKey });
  const res = await openid.fetchProtectedResource(config, token, new URL(`${PUBLIC}/data`), 'GET', null, new Headers(), { DPoP: handle });
  assert.equal(res.status, 200);
});

test('PR-01 protected-resource metadata at the path-aware well-known URL, its CORS preflight answered; 401s name it', async () => {
  const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), {
    resource: `${PUBLIC}/mcp`,
    authorization_servers: [ISSUER],
    bearer_methods_supported: ['header'],
    scopes_supported: ['read', 'write'],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    resource_name: 'Example MCP',
  });
  // A page on another origin reading it with a header of its own (the MCP SDK's): its browser's preflight.
  const preflight = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
  assert.equal(preflight.status, 204);
  assert.deepEqual(
    Object.fromEntries([...preflight.headers].filter(([name]) => name.startsWith('access-control-'))),
    { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': '*', 'access-control-max-age': '600' },
  );
  assert.equal(await preflight.text(), '');
  const meta = `${PUBLIC}/.well-known/oauth-protected-resource/mcp`;
  assert.deepEqual(await call('/mcp', {}), {
    status: 401,
    challenge: `Bearer realm="api", resource_metadata="${meta}", DPoP realm="api", algs="${ALGS}", resource_metadata="${meta}"`,
    nonce: null,
    body: '',
  });
  const d = 'The access token is invalid';
  assert.equal((await call('/mcp', { authorization: 'Bearer x.y.z' })).challenge, `Bearer realm="api", error="invalid_token", error_description="${d}", resource_metadata="${meta}"`);
});

test('PR-01 oauth4webapi reads the metadata and the resource_metadata of the challenge', async () => {
  const options = { [oauth.customFetch]: (url: string, init: RequestInit) => fetch(url.replace(PUBLIC, base), init) };
  const resource = new URL(`${PUBLIC}/mcp`);
  const metadata = await oauth.processResourceDiscoveryResponse(resource, await oauth.resourceDiscoveryRequest(resource, options));
  assert.deepEqual(metadata.authorization_servers, [ISSUER]);
  try {
    await oauth.protectedResourceRequest('x.y.z', 'GET', resource, new Headers(), null, options);
    assert.fail('refused');
  } catch (error) {
    assert.ok(error instanceof oauth.WWWAuthenticateChallengeError);
    const bearer = error.cause.find((c) => c.scheme === 'bearer');
    assert.equal(bearer?.parameters.resource_metadata, `${PUBLIC}/.well-known/oauth-protected-resource/mcp`);
  }
});

/**
 * private_key_jwt and DPoP at the `oauth2` token endpoint with requests made by hand, for what no
 * library sends: two authentication methods at once, assertions and proofs that break one rule
 * each, clients that must use DPoP, refresh tokens of public clients bound to their key, keys
 * published at a `jwks_uri`. Every refusal is checked by status, code and headers.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK, SignJWT } from 'jose';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';
import { obtainCode, startGrantServer, type GrantServer } from '../grants/support.ts';

const es = await keyPair('ES256', 'k1');
const ed = await keyPair('EdDSA', 'k2');
const proofKey = await keyPair('ES256');
const otherProofKey = await keyPair('EdDSA');

type Answer = { status: number; body: Record<string, unknown>; headers: Headers };

describe('the oauth2 token endpoint with client assertions and DPoP proofs', () => {
  let s: TestServer;
  let issuer: string;
  let tokenUrl: string;
  let clientId: string;
  before(async () => {
    // Every refusal below counts towards the (client, address) lockout, which is not under test here.
    s = await startServer({ lockoutThreshold: '1000' });
    issuer = s.keymint.config.issuer;
    tokenUrl = `${issuer}/oauth2/token`;
    clientId = await privateKeyJwtClient(s.keymint, { keys: [es, ed] }, { scopes: ['read'] });
  });
  after(() => s.close());

  const call = async (form: Record<string, string>, headers: Record<string, string> = {}, path = '/oauth2/token'): Promise<Answer> => {
    const res = await s.postForm(path, form, headers);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  const withAssertion = async (claims: Partial<Parameters<typeof assertion>[1]> = {}, key: KeyPair = es, header: Record<string, unknown> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: await assertion(key, { clientId, aud: issuer, ...claims }, header),
  });
  const refused = (a: Answer, status: number, error: string) => {
    assert.equal(a.status, status, JSON.stringify(a.body));
    assert.equal(a.body.error, error);
  };

  test('PJ-01 the issuer or the token endpoint URL as audience; client_id optional, and when sent it must be the assertion\'s', async () => {
    for (const aud of [issuer, tokenUrl, [tokenUrl, 'https://other.example']]) {
      const a = await call(await withAssertion({ aud }));
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(decodeJwt(String(a.body.access_token)).client_id, clientId);
    }
    assert.equal((await call({ ...(await withAssertion()), client_id: clientId })).status, 200);
    refused(await call({ ...(await withAssertion()), client_id: 'sk_live_someoneelse000000000' }), 401, 'invalid_client');
  });

  test('PJ-01 refused as invalid_client: wrong type, iss not the client, expired, too long-lived, no jti, not a JWT (nothing echoed)', async () => {
    const good = await withAssertion();
    refused(await call({ ...good, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }), 401, 'invalid_client');
    refused(await call(await withAssertion({ iss: 'sk_live_someoneelse000000000' })), 401, 'invalid_client');
    refused(await call(await withAssertion({ expiresIn: -60 })), 401, 'invalid_client');
    refused(await call(await withAssertion({ expiresIn: 3700 })), 401, 'invalid_client');
    const noJti = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(clientId).setSubject(clientId).setAudience(issuer).setExpirationTime('1m').sign(es.privateKey);
    refused(await call({ ...good, client_assertion: noJti }), 401, 'invalid_client');
    const a = await call({ ...good, client_assertion: 'not-a-jwt' });
    assert.deepEqual(a.body, { error: 'invalid_client', error_description: 'Client authentication failed.' }, 'nothing of the input echoed');
  });

  test('PJ-02 none, HS256, and a key carried in the header are never used', async () => {
    const payload = { iss: clientId, sub: clientId, aud: issuer, jti: 'j-none', exp: Math.floor(Date.now() / 1000) + 60 };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    refused(await call({ ...(await withAssertion()), client_assertion: unsigned }), 401, 'invalid_client');
    const hs = await new SignJWT({ ...payload, jti: 'j-hs' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode('x'.repeat(32)));
    refused(await call({ ...(await withAssertion()), client_assertion: hs }), 401, 'invalid_client');
    const intruder = await keyPair('ES256');
    refused(await call(await withAssertion({}, intruder, { kid: undefined, jwk: intruder.jwk })), 401, 'invalid_client');
    // Ed25519 under its own kid works: the key is picked by kid from the registered set.
    assert.equal((await call(await withAssertion({}, ed))).status, 200);
  });

  test('PJ-04 one method per request: an assertion with Basic or with client_secret is invalid_request; a secret for a key client, or an assertion for a secret client, proves nothing', async () => {
    const form = await withAssertion();
    refused(await call(form, { authorization: basic(clientId, 'ks_whatever') }), 400, 'invalid_request');
    refused(await call({ ...form, client_secret: 'ks_whatever' }), 400, 'invalid_request');
    const query = await fetch(`${s.url}/oauth2/token?client_assertion=${form.client_assertion}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials',
    });
    assert.equal(query.status, 400, 'an assertion in the URI');
    const asSecret = await call({ grant_type: 'client_credentials' }, { authorization: basic(clientId, 'ks_whatever') });
    refused(asSecret, 401, 'invalid_client');
    const secretClient = await s.client({ scopes: ['read'] });
    const claimsSecret = await call({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(es, { clientId: secretClient.id, aud: issuer }) });
    refused(claimsSecret, 401, 'invalid_client');
  });

  test('PJ-01 a disabled client is told so only after a valid assertion', async () => {
    const id = await privateKeyJwtClient(s.keymint, { keys: [es] });
    await s.keymint.clients.setStatus(id, 'disabled', 'test');
    const valid = await call({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(es, { clientId: id, aud: issuer }) });
    assert.deepEqual(valid.body, { error: 'invalid_client', error_description: 'The client is disabled.' });
    const forged = await call({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(ed, { clientId: id, aud: issuer }) });
    assert.deepEqual(forged.body, { error: 'invalid_client', error_description: 'Client authentication failed.' });
  });

  test('DP-01 each rule of a proof, broken once, is 400 invalid_dpop_proof; the request is not served', async () => {
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ['htu of another endpoint', async () => ({ dpop: await dpopProof(proofKey, { htu: `${issuer}/oauth2/introspect` }) })],
      ['htm GET', async () => ({ dpop: await dpopProof(proofKey, { htu: tokenUrl, htm: 'GET' }) })],
      ['iat ten minutes old', async () => ({ dpop: await dpopProof(proofKey, { htu: tokenUrl, iatOffset: -600 }) })],
      ['iat a minute ahead', async () => ({ dpop: await dpopProof(proofKey, { htu: tokenUrl, iatOffset: 60 }) })],
      ['not a JWS', async () => ({ dpop: 'nonsense' })],
      ['a private key in the header', async () => {
        const pair = await keyPair('ES256');
        const jwk = await exportJWK(pair.privateKey);
        return { dpop: await new SignJWT({ jti: 'x1', htm: 'POST', htu: tokenUrl }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(pair.privateKey) };
      }],
      ['typ JWT', async () => ({ dpop: await new SignJWT({ jti: 'x2', htm: 'POST', htu: tokenUrl }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: proofKey.jwk }).setIssuedAt().sign(proofKey.privateKey) })],
    ];
    for (const [what, headers] of cases) {
      const a = await call(await withAssertion(), await headers());
      assert.equal(a.status, 400, what);
      assert.equal(a.body.error, 'invalid_dpop_proof', what);
    }
    const twice = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded'], ['dpop', await dpopProof(proofKey, { htu: tokenUrl })], ['dpop', await dpopProof(proofKey, { htu: tokenUrl })]],
      body: new URLSearchParams(await withAssertion()).toString(),
    });
    assert.equal(twice.status, 400, 'two DPoP headers');
    // The same proof again, even with a fresh assertion.
    const proof = await dpopProof(proofKey, { htu: tokenUrl });
    assert.equal((await call(await withAssertion(), { dpop: proof })).status, 200);
    refused(await call(await withAssertion(), { dpop: proof }), 400, 'invalid_dpop_proof');
  });

  test('BCP-13 DP-02 a proof binds the access token: cnf.jkt, token_type DPoP; a client registered as DPoP-bound is refused without a proof', async () => {
    const a = await call(await withAssertion(), { dpop: await dpopProof(proofKey, { htu: tokenUrl }) });
    assert.equal(a.status, 200);
    assert.equal(a.body.token_type, 'DPoP');
    assert.ok(typeof (decodeJwt(String(a.body.access_token)).cnf as { jkt?: string }).jkt === 'string');
    const bound = await privateKeyJwtClient(s.keymint, { keys: [es] }, { dpopBound: true });
    const form = async () => ({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(es, { clientId: bound, aud: issuer }) });
    refused(await call(await form()), 400, 'invalid_dpop_proof');
    assert.equal((await call(await form(), { dpop: await dpopProof(proofKey, { htu: tokenUrl }) })).status, 200);
    // A secret client may be DPoP-bound too.
    const secretClient = await s.client({ dpopBound: true });
    refused(await call({ grant_type: 'client_credentials' }, { authorization: basic(secretClient.id, secretClient.secret) }), 400, 'invalid_dpop_proof');
  });

  test('DP-05 userinfo does not take a DPoP-bound token as a bearer token', async () => {
    const a = await call(await withAssertion(), { dpop: await dpopProof(proofKey, { htu: tokenUrl }) });
    const res = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${String(a.body.access_token)}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});

describe('DP-03 server nonces', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ dpopNonce: true });
  });
  after(() => s.close());

  test('DP-03 a proof without the nonce, or with a made-up one, gets 400 use_dpop_nonce and the nonce in DPoP-Nonce; with it, 200', async () => {
    const { id, secret } = await s.client();
    const tokenUrl = `${s.keymint.config.issuer}/oauth2/token`;
    const ask = (proof: string) => s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret), dpop: proof });
    for (const nonce of [undefined, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await ask(await dpopProof(proofKey, { htu: tokenUrl, ...(nonce ? { nonce } : {}) }));
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof.' });
      assert.match(res.headers.get('dpop-nonce') ?? '', /^[A-Za-z0-9_-]{30}$/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
    const challenge = await ask(await dpopProof(proofKey, { htu: tokenUrl }));
    const nonce = challenge.headers.get('dpop-nonce')!;
    const ok = await ask(await dpopProof(proofKey, { htu: tokenUrl, nonce }));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { token_type: string }).token_type, 'DPoP');
    // Without any proof, no nonce is needed: nonces constrain proofs, not bearer requests.
    assert.equal((await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret) })).status, 200);
  });
});

describe('DP-04 refresh tokens of public clients are bound to the proof key', () => {
  let s: GrantServer;
  const tokenUrl = 'http://localhost:8080/oauth2/token';
  before(async () => {
    s = await startGrantServer();
  });
  after(() => s.close());

  const redeem = async (clientId: string, key: KeyPair | undefined, auth: Record<string, string> = {}) => {
    const { code, verifier, redirectUri } = await obtainCode(s, { id: clientId }, { scope: 'read' });
    const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId }, {
      ...(key ? { dpop: await dpopProof(key, { htu: tokenUrl }) } : {}),
      ...auth,
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const refresh = async (clientId: string, token: string, key: KeyPair | undefined, auth: Record<string, string> = {}) => {
    const res = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, ...(auth.authorization ? {} : { client_id: clientId }) }, {
      ...(key ? { dpop: await dpopProof(key, { htu: tokenUrl }) } : {}),
      ...auth,
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  test('DP-04 a public client refreshes only with the key its tokens were bound to', async () => {
    const pub = await s.client({ type: 'public', grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'] });
    const first = await redeem(pub.id, proofKey);
    assert.equal(first.token_type, 'DPoP');
    const introspector = await s.client();
    const view = await s.postForm('/oauth2/introspect', { token: first.refresh_token! }, { authorization: basic(introspector.id, introspector.secret) });
    assert.deepEqual(await view.json(), { active: false }, 'only the owner learns about a token');
    for (const key of [otherProofKey, undefined]) {
      const r = await refresh(pub.id, first.refresh_token!, key);
      assert.deepEqual([r.status, r.body.error], [400, 'invalid_grant'], key ? 'another key' : 'no proof');
    }
    const ok = await refresh(pub.id, first.refresh_token!, proofKey);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'DPoP');
    assert.equal((await refresh(pub.id, ok.body.refresh_token!, otherProofKey)).body.error, 'invalid_grant', 'the rotated token is bound too');
    assert.equal((await refresh(pub.id, ok.body.refresh_token!, proofKey)).status, 200);
  });

  test('DP-04 a confidential client\'s refresh token is bound by its authentication, not a key: a new key gets a token bound to it', async () => {
    const conf = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'] });
    const auth = { authorization: basic(conf.id, conf.secret) };
    const first = await redeem(conf.id, proofKey, auth);
    const r = await refresh(conf.id, first.refresh_token!, otherProofKey, auth);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'DPoP');
    const unbound = await refresh(conf.id, r.body.refresh_token!, undefined, auth);
    assert.equal(unbound.body.token_type, 'Bearer');
  });
});

describe('PJ-03 keys published at a jwks_uri', () => {
  test('PJ-03 fetched when first needed, refetched for an unknown kid (key rotation), refused from a private address unless the operator allows it', async (t) => {
    let published = [es.jwk];
    let fetches = 0;
    const host = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => host.close(() => resolve())));
    const jwksUri = `http://127.0.0.1:${(host.address() as AddressInfo).port}/jwks.json`;

    let clock = Date.now();
    const open = await startServer({ jwksUriAllowHttp: true, clientUrlsAllowPrivate: true }, { now: () => clock });
    t.after(() => open.close());
    const id = await privateKeyJwtClient(open.keymint, { jwksUri });
    const issuer = open.keymint.config.issuer;
    const ask = async (key: KeyPair) =>
      (await open.postForm('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: id, aud: issuer, expiresIn: 200 }) })).status;
    assert.equal(await ask(es), 200);
    assert.equal(await ask(es), 200);
    assert.equal(fetches, 1, 'cached');
    published = [es.jwk, ed.jwk];
    assert.equal(await ask(ed), 401, 'a new kid within a minute of the last fetch is not fetched for');
    assert.equal(fetches, 1);
    clock += 61_000;
    assert.equal(await ask(ed), 200, 'after the cooldown, a new kid causes a refetch');
    assert.equal(fetches, 2);
    assert.equal(await ask(await keyPair('ES256', 'k9')), 401, 'an unknown kid within the cooldown');
    assert.equal(fetches, 2, 'no refetch within the cooldown');

    const guarded = await startServer({ jwksUriAllowHttp: true });
    t.after(() => guarded.close());
    const guardedId = await privateKeyJwtClient(guarded.keymint, { jwksUri });
    const refused = await guarded.postForm('/oauth2/token', {
      grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(es, { clientId: guardedId, aud: guarded.keymint.config.issuer }),
    });
    assert.equal(refused.status, 401);
    assert.equal(fetches, 2, 'a loopback jwks_uri is never requested without the operator\'s permission');
  });
});

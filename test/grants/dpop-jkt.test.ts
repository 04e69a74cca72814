/**
 * Authorization codes bound to a DPoP key (RFC 9449 §10, §10.1) on the wire: `dpop_jkt` at the
 * authorization endpoint (through the consent page) and in a push, a DPoP proof sent with the push,
 * and the token request that must prove the key. SQLite (the grant server's default) in the suite;
 * the same flows on PostgreSQL in the last test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { dpopProof, keyPair, type KeyPair } from '../support/sender.ts';
import { answerConsent, authorizeGet, basic, obtainCode, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const ISSUER = 'http://localhost:8080';
const TOKEN_URL = `${ISSUER}/oauth2/token`;
const PAR_URL = `${ISSUER}/oauth2/par`;
const key = await keyPair('ES256');
const otherKey = await keyPair('EdDSA');
const jkt = await calculateJwkThumbprint(key.jwk, 'sha256');
const otherJkt = await calculateJwkThumbprint(otherKey.jwk, 'sha256');

type Client = { id: string; secret: string; type?: 'public' };
const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] };
const SPENT = { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used.' };
const NO_PROOF = { error: 'invalid_grant', error_description: 'The code is bound to a DPoP key: the token request needs a DPoP proof by that key.' };
const OTHER_KEY = { error: 'invalid_grant', error_description: 'The DPoP proof is not by the key the code is bound to (dpop_jkt).' };

/** The flows both backends run: a direct request with dpop_jkt through the consent page, a push with a proof. */
function flows(s: () => GrantServer) {
  const credentials = (c: Client): Record<string, string> => (c.type === 'public' ? {} : { authorization: basic(c.id, c.secret) });
  const redeem = async (c: Client, code: string, verifier: string, proofBy?: KeyPair) => {
    const res = await s().postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier, ...(c.type === 'public' ? { client_id: c.id } : {}) }, {
      ...credentials(c),
      ...(proofBy ? { dpop: await dpopProof(proofBy, { htu: TOKEN_URL }) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const stored = (code: string) => s().keymint.store.codes.find(candidateDigests(s().keymint.keyring.peppers(), code));
  /** A push (with a DPoP proof by `proofBy`, and `over` in the body), then the browser's visit; resolves the code. */
  const viaPar = async (c: Client, over: Record<string, string> = {}, proofBy?: KeyPair) => {
    const { verifier, challenge } = pkce();
    const res = await s().postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, scope: 'openid read', code_challenge: challenge, code_challenge_method: 'S256', ...(c.type === 'public' ? { client_id: c.id } : {}), ...over }, {
      ...credentials(c),
      ...(proofBy ? { dpop: await dpopProof(proofBy, { htu: PAR_URL }) } : {}),
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 201, JSON.stringify(body));
    const cookie = `keymint_session=${(await s().session()).session_token}`;
    let auth = await authorizeGet(s(), { client_id: c.id, request_uri: body.request_uri! }, cookie);
    if (auth.status === 200) auth = await answerConsent(s(), auth, cookie);
    const code = new URL(String(auth.headers.get('location'))).searchParams.get('code');
    assert.ok(code, String(auth.headers.get('location')));
    return { code, verifier };
  };
  return { redeem, stored, viaPar };
}

describe('codes bound to a DPoP key (DP-06, DP-07)', () => {
  let s: GrantServer;
  let app: Client;
  let spa: Client;
  let cookie: string;
  before(async () => {
    s = await startGrantServer();
    app = await s.client({ ...base, name: 'Acme Reports' });
    spa = { ...(await s.client({ ...base, name: 'SPA', type: 'public', trusted: true })), type: 'public' };
    cookie = `keymint_session=${(await s.session()).session_token}`;
  });
  after(() => s.close());
  const { redeem, stored, viaPar } = flows(() => s);

  test('DP-06 a code asked for with dpop_jkt (through the consent page) is redeemed with a proof by that key: 200, token_type DPoP, cnf.jkt', async () => {
    const { code, verifier } = await obtainCode(s, app, { scope: 'openid read', cookie, extra: { dpop_jkt: jkt } });
    assert.equal((await stored(code))?.dpopJkt, jkt, 'the consent form carried dpop_jkt and the code keeps it');
    const ok = await redeem(app, code, verifier, key);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(ok.body.access_token!).cnf, { jkt });
    // A code asked for without it is bound to nothing, as before.
    const plain = await obtainCode(s, app, { scope: 'openid read', cookie });
    assert.equal((await stored(plain.code))?.dpopJkt, null);
    assert.equal((await redeem(app, plain.code, plain.verifier)).body.token_type, 'Bearer');
  });

  test('DP-06 C-07 a proof by another key, or none, is 400 invalid_grant, and the code is spent: the right key then gets invalid_grant too', async () => {
    for (const [proofBy, refusal] of [[otherKey, OTHER_KEY], [undefined, NO_PROOF]] as const) {
      const { code, verifier } = await obtainCode(s, app, { scope: 'openid read', cookie, extra: { dpop_jkt: jkt } });
      assert.deepEqual(await redeem(app, code, verifier, proofBy), { status: 400, body: refusal });
      assert.notEqual((await stored(code))?.consumedAt, null);
      assert.deepEqual(await redeem(app, code, verifier, key), { status: 400, body: SPENT });
    }
  });

  test('DP-06 a dpop_jkt that is not a base64url SHA-256 thumbprint is invalid_request at the redirect URI, with the state; at the push a JSON 400', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 43 characters whose last one sets bits past the 256 (not the encoding of any SHA-256 digest).
    const nonCanonical = jkt.slice(0, 42) + alphabet[alphabet.indexOf(jkt[42]!) + 1];
    const description = 'dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (43 characters).';
    for (const bad of [jkt.slice(0, 42), `${jkt}A`, `${jkt}=`, `${jkt.slice(0, 42)}+`, `${jkt.slice(0, 21)}/${jkt.slice(22)}`, nonCanonical, 'x'.repeat(2000)]) {
      const res = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'read', state: 'st-9', code_challenge: pkce().challenge, code_challenge_method: 'S256', dpop_jkt: bad }, cookie);
      assert.equal(res.status, 302, bad);
      const back = new URL(String(res.headers.get('location')));
      assert.equal(`${back.origin}${back.pathname}`, CB);
      assert.deepEqual(Object.fromEntries(back.searchParams), { error: 'invalid_request', error_description: description, state: 'st-9', iss: ISSUER }, bad);
      const push = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256', dpop_jkt: bad }, { authorization: basic(app.id, app.secret) });
      assert.equal(push.status, 400);
      assert.deepEqual(await push.json(), { error: 'invalid_request', error_description: description });
    }
  });

  test('DP-04 DP-06 a public client\'s refresh token from a bound code stays bound to the key', async () => {
    const { code, verifier } = await obtainCode(s, spa, { scope: 'openid read', cookie, extra: { dpop_jkt: jkt } });
    const first = await redeem(spa, code, verifier, key);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const refresh = async (proofBy: KeyPair) => {
      const res = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, client_id: spa.id }, { dpop: await dpopProof(proofBy, { htu: TOKEN_URL }) });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const refused = await refresh(otherKey);
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_grant']);
    const ok = await refresh(key);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(ok.body.access_token!).cnf, { jkt });
  });

  test('DP-07 a push with a DPoP proof binds the code to the proof\'s key: without a proof, or with another key, invalid_grant; with it, a DPoP token', async () => {
    const unproven = await viaPar(spa, {}, key);
    assert.equal((await stored(unproven.code))?.dpopJkt, jkt);
    assert.deepEqual(await redeem(spa, unproven.code, unproven.verifier), { status: 400, body: NO_PROOF });
    const stranger = await viaPar(app, {}, key);
    assert.deepEqual(await redeem(app, stranger.code, stranger.verifier, otherKey), { status: 400, body: OTHER_KEY });
    const bound = await viaPar(app, {}, key);
    const ok = await redeem(app, bound.code, bound.verifier, key);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(ok.body.access_token!).cnf, { jkt });
  });

  test('DP-07 a pushed dpop_jkt binds the code alone or beside a proof by its key; beside a proof by another key the push is 400 invalid_request', async () => {
    const pushedOnly = await viaPar(app, { dpop_jkt: otherJkt });
    assert.equal((await stored(pushedOnly.code))?.dpopJkt, otherJkt);
    assert.deepEqual(await redeem(app, pushedOnly.code, pushedOnly.verifier, key), { status: 400, body: OTHER_KEY });
    const both = await viaPar(app, { dpop_jkt: jkt }, key);
    assert.equal((await redeem(app, both.code, both.verifier, key)).status, 200);
    const res = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256', dpop_jkt: otherJkt }, {
      authorization: basic(app.id, app.secret), dpop: await dpopProof(key, { htu: PAR_URL }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'dpop_jkt does not match the key of the DPoP proof.' });
  });

  test('DP-07 DP-01 an invalid proof at the push is 400 invalid_dpop_proof, before the client is authenticated: the token endpoint\'s htu, another method, a replay, a forged signature', async () => {
    const push = (dpop: string, authorization = basic(app.id, app.secret)) =>
      s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256' }, { authorization, dpop });
    const refused = async (res: Response, description: string) => {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await res.json(), { error: 'invalid_dpop_proof', error_description: description });
    };
    await refused(await push(await dpopProof(key, { htu: TOKEN_URL })), 'The DPoP proof htu does not match the request URL.');
    await refused(await push(await dpopProof(key, { htu: PAR_URL, htm: 'GET' })), 'The DPoP proof htm does not match the request method.');
    await refused(await push(await dpopProof(key, { htu: PAR_URL, iatOffset: -3600 })), 'The DPoP proof iat is outside the accepted window.');
    const forged = await dpopProof(key, { htu: PAR_URL });
    await refused(await push(`${forged.slice(0, forged.lastIndexOf('.') + 1)}${'A'.repeat(86)}`), 'The DPoP proof is invalid.');
    await refused(await push(await dpopProof(key, { htu: TOKEN_URL }), basic(app.id, 'ks_wrong')), 'The DPoP proof htu does not match the request URL.');
    const once = await dpopProof(key, { htu: PAR_URL });
    assert.equal((await push(once)).status, 201);
    await refused(await push(once), 'The DPoP proof was already used.');
  });
});

test('DP-06 DP-07 on PostgreSQL: the code keeps its key from a direct request and from a push with a proof; the token request must prove it', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmjkt');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  const { redeem, stored, viaPar } = flows(() => s);
  const app = await s.client({ ...base, name: 'Acme Reports' });
  const direct = await obtainCode(s, app, { scope: 'openid read', extra: { dpop_jkt: jkt } });
  assert.equal((await stored(direct.code))?.dpopJkt, jkt);
  assert.deepEqual(await redeem(app, direct.code, direct.verifier, otherKey), { status: 400, body: OTHER_KEY });
  assert.deepEqual(await redeem(app, direct.code, direct.verifier, key), { status: 400, body: SPENT });
  const pushed = await viaPar(app, {}, key);
  assert.equal((await stored(pushed.code))?.dpopJkt, jkt);
  const ok = await redeem(app, pushed.code, pushed.verifier, key);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual([ok.body.token_type, decodeJwt(ok.body.access_token!).cnf], ['DPoP', { jkt }]);
});

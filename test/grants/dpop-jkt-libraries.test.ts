/**
 * Codes bound to a DPoP key (RFC 9449 §10.1) as real relying-party libraries drive them, on a server
 * with DPoP nonces on: openid-client v6's `buildAuthorizationUrlWithPAR` with a DPoP handle (the
 * proof on the push binds the code; the library answers the push's nonce challenge itself) and
 * `authorizationCodeGrant` with the same handle, or another one; oauth4webapi's
 * `pushedAuthorizationRequest` with `dpop_jkt` from `calculateThumbprint()` and the proof beside it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { formFields, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const SCOPE = 'openid invoices:read';
const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB] };

let s: GrantServer;
let issuer: URL;
before(async () => {
  s = await startGrantServer({ issuer: undefined, dpopNonce: true });
  issuer = new URL(s.keymint.config.issuer);
});
after(() => s.close());

/** The browser: a session cookie, the consent page approved when shown; resolves the redirect. */
async function browse(url: URL): Promise<URL> {
  const cookie = `keymint_session=${(await s.session()).session_token}`;
  let res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  if (res.status === 200) {
    res = await fetch(new URL(url.pathname, url), {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(await res.text()), decision: 'approve' }).toString(),
    });
  }
  assert.equal(res.status, 302, await res.clone().text());
  return new URL(String(res.headers.get('location')));
}

/** Every request a library sends, with its answer's status. */
function recorder() {
  const sent: { url: string; status: number; dpop: boolean }[] = [];
  const fetchFn = async (url: string, init: RequestInit) => {
    const res = await fetch(url, init);
    sent.push({ url: new URL(url).pathname, status: res.status, dpop: new Headers(init.headers).has('dpop') });
    return res;
  };
  return { sent, fetchFn };
}

describe('real clients: openid-client and oauth4webapi (DP-07)', () => {
  test('DP-07 openid-client buildAuthorizationUrlWithPAR with a DPoP handle: the push\'s nonce challenge answered, the code bound to the key; the same handle redeems it, another handle cannot', async () => {
    const spa = await s.client({ ...base, name: 'SPA', type: 'public' });
    const config = await openid.discovery(issuer, spa.id, undefined, openid.None(), { execute: [openid.allowInsecureRequests] });
    const rec = recorder();
    config[openid.customFetch] = rec.fetchFn as typeof fetch;
    const keys = await openid.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256');
    const DPoP = openid.getDPoPHandle(config, keys);
    const start = async () => {
      const pkceCodeVerifier = openid.randomPKCECodeVerifier();
      const state = openid.randomState();
      const url = await openid.buildAuthorizationUrlWithPAR(config, { redirect_uri: CB, scope: SCOPE, state, code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256' }, { DPoP });
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      return { callback: await browse(url), checks: { pkceCodeVerifier, expectedState: state } };
    };
    const first = await start();
    assert.deepEqual(rec.sent.map((r) => [r.url, r.status, r.dpop]), [['/oauth2/par', 400, true], ['/oauth2/par', 201, true]], 'use_dpop_nonce at the push, then the retry');
    const tokens = await openid.authorizationCodeGrant(config, first.callback, first.checks, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });

    // A code pushed with this key, redeemed with another key's handle: invalid_grant.
    const second = await start();
    const stranger = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair('ES256'));
    await assert.rejects(openid.authorizationCodeGrant(config, second.callback, second.checks, undefined, { DPoP: stranger }), (e: unknown) => {
      assert.ok(e instanceof openid.ResponseBodyError, String(e));
      assert.deepEqual([e.status, e.error, e.error_description], [400, 'invalid_grant', 'The DPoP proof is not by the key the code is bound to (dpop_jkt).']);
      return true;
    });
  });

  test('DP-06 DP-07 oauth4webapi pushedAuthorizationRequest with dpop_jkt from calculateThumbprint() and the proof beside it → the code flow with a DPoP-bound token', async () => {
    const app = await s.client({ ...base, name: 'Low-level app' });
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true, algorithm: 'oidc' }));
    assert.ok(as.dpop_signing_alg_values_supported?.includes('ES256'));
    const client: oauth.Client = { client_id: app.id };
    const auth = oauth.ClientSecretPost(app.secret);
    const keys = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keys);
    const options = { DPoP, [oauth.allowInsecureRequests]: true };
    const jkt = await DPoP.calculateThumbprint();
    const verifier = oauth.generateRandomCodeVerifier();
    const params = new URLSearchParams({ redirect_uri: CB, scope: SCOPE, response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st', dpop_jkt: jkt });
    // The library leaves the nonce retry to its caller: the first push meets the challenge.
    const push = async () => oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, params, options));
    const pushed = await push().catch((err: unknown) => (oauth.isDPoPNonceError(err) ? push() : Promise.reject(err)));
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', app.id);
    url.searchParams.set('request_uri', pushed.request_uri);
    const callback = oauth.validateAuthResponse(as, client, await browse(url), 'st');
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, callback, CB, verifier, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
    assert.equal(result.token_type, 'dpop');
    assert.deepEqual(decodeJwt(result.access_token).cnf, { jkt });
  });
});

/**
 * Request objects (RFC 9101) as real relying-party libraries make them, against `keymint serve`'s
 * service: openid-client v6's `buildAuthorizationUrlWithJAR`, sent by value and then pushed with
 * `buildAuthorizationUrlWithPAR` (as its documentation chains them), for a `private_key_jwt` client
 * registered with require_signed_request_object; oauth4webapi's `issueRequestObject` pushed with
 * `pushedAuthorizationRequest`. Each runs the browser's visit (session cookie, consent page) and the
 * code exchange to tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';
import { browseApproving, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const SCOPE = 'openid invoices:read';
const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB], requireSignedRequestObject: true };

let s: GrantServer;
let issuer: URL;
let key: KeyPair;
let clientId: string;
before(async () => {
  s = await startGrantServer({ issuer: undefined });
  issuer = new URL(s.keymint.config.issuer);
  key = await keyPair('PS256', 'jar-rp-1');
  clientId = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Signed RP' });
});
after(() => s.close());

/** The browser: a new user's session cookie, the consent page approved; resolves the redirect. */
let users = 0;
async function browse(url: URL): Promise<URL> {
  const { location, fields } = await browseApproving(s, url, `jar-rp-${++users}`);
  if (fields) assert.ok(fields.request !== undefined || fields.request_uri !== undefined, 'the form carries the request object or its reference');
  return location;
}

const signingKey = () => ({ key: key.privateKey, kid: 'jar-rp-1' });

async function flow(pushed: boolean) {
  const config = await openid.discovery(issuer, clientId, undefined, openid.PrivateKeyJwt(signingKey()), { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks] });
  assert.equal(config.serverMetadata().request_parameter_supported, true);
  assert.ok((config.serverMetadata().request_object_signing_alg_values_supported as string[]).includes('PS256'));
  const pkceCodeVerifier = openid.randomPKCECodeVerifier();
  const expectedState = openid.randomState();
  const expectedNonce = openid.randomNonce();
  const jar = await openid.buildAuthorizationUrlWithJAR(config, {
    redirect_uri: CB, scope: SCOPE, state: expectedState, nonce: expectedNonce, max_age: '600',
    code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
  }, signingKey());
  // Only the client and the signed object travel (RFC 9101 §5.1).
  assert.deepEqual([...jar.searchParams.keys()].sort(), ['client_id', 'request']);
  const url = pushed ? await openid.buildAuthorizationUrlWithPAR(config, jar.searchParams) : jar;
  if (pushed) assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const callback = await browse(url);
  const tokens = await openid.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState, expectedNonce, maxAge: 600 });
  assert.equal(tokens.claims()?.sub, `jar-rp-${users}`, 'the user who approved');
  assert.equal(tokens.scope, SCOPE);
  return { config, tokens };
}

describe('real clients: openid-client and oauth4webapi request objects', () => {
  test('JAR-08 openid-client buildAuthorizationUrlWithJAR by value, to tokens, for a client that must sign (a plain URL of it is refused)', async () => {
    const { config, tokens } = await flow(false);
    assert.ok(tokens.refresh_token);
    const plain = openid.buildAuthorizationUrl(config, { redirect_uri: CB, scope: SCOPE, code_challenge: await openid.calculatePKCECodeChallenge(openid.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 'x' });
    assert.equal((await browse(plain)).searchParams.get('error'), 'invalid_request');
  });

  test('JAR-08 openid-client buildAuthorizationUrlWithJAR then buildAuthorizationUrlWithPAR, to tokens; a request object it cannot sign right is a ResponseBodyError', async () => {
    const { config } = await flow(true);
    const stranger = await keyPair('PS256', 'jar-rp-1');
    const forged = await openid.buildAuthorizationUrlWithJAR(config, { redirect_uri: CB, scope: SCOPE, code_challenge: await openid.calculatePKCECodeChallenge(openid.randomPKCECodeVerifier()), code_challenge_method: 'S256' }, { key: stranger.privateKey, kid: 'jar-rp-1' });
    await assert.rejects(openid.buildAuthorizationUrlWithPAR(config, forged.searchParams), (e: unknown) => e instanceof openid.ResponseBodyError && e.status === 400 && e.error === 'invalid_request_object');
  });

  test('JAR-08 oauth4webapi issueRequestObject → pushedAuthorizationRequest → the code flow', async () => {
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }));
    const client: oauth.Client = { client_id: clientId };
    const auth = oauth.PrivateKeyJwt(signingKey());
    const verifier = oauth.generateRandomCodeVerifier();
    const params = new URLSearchParams({ redirect_uri: CB, scope: SCOPE, response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' });
    const request = await oauth.issueRequestObject(as, client, params, signingKey());
    const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, new URLSearchParams({ request }), options));
    // The same object again: its jti is spent (JAR-06).
    const again = await oauth.pushedAuthorizationRequest(as, client, auth, new URLSearchParams({ request }), options);
    await assert.rejects(oauth.processPushedAuthorizationResponse(as, client, again), (e: unknown) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_request_object');
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('request_uri', pushed.request_uri);
    const callback = oauth.validateAuthResponse(as, client, await browse(url), 'st');
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, callback, CB, verifier, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
    assert.equal(oauth.getValidatedIdTokenClaims(result)?.sub, `jar-rp-${users}`);
  });
});

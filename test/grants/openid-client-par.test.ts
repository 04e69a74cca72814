/**
 * Pushed authorization requests as real relying-party libraries drive them against `keymint serve`'s
 * service: openid-client v6's `buildAuthorizationUrlWithPAR` (discovery finds the PAR endpoint; the
 * app's client registered with require_pushed_authorization_requests) with client_secret_basic,
 * private_key_jwt and a public client, then the browser's visit (session cookie, consent page) and
 * `authorizationCodeGrant`; oauth4webapi's `pushedAuthorizationRequest` and its error handling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { browseApproving, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const SCOPE = 'openid invoices:read';
const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB], requirePar: true };

let s: GrantServer;
let issuer: URL;
before(async () => {
  s = await startGrantServer({ issuer: undefined });
  issuer = new URL(s.keymint.config.issuer);
});
after(() => s.close());

/** The browser: a new user's session cookie, the consent page approved; resolves the redirect. */
let users = 0;
const browse = async (url: URL): Promise<URL> => (await browseApproving(s, url, `par-rp-${++users}`)).location;

async function flow(clientId: string, auth: openid.ClientAuth) {
  const config = await openid.discovery(issuer, clientId, undefined, auth, { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks] });
  assert.equal(config.serverMetadata().pushed_authorization_request_endpoint, `${config.serverMetadata().issuer}/oauth2/par`);
  const pkceCodeVerifier = openid.randomPKCECodeVerifier();
  const expectedState = openid.randomState();
  const expectedNonce = openid.randomNonce();
  const url = await openid.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CB, scope: SCOPE, state: expectedState, nonce: expectedNonce,
    code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
  });
  // Only the client and the reference travel through the browser (RFC 9126 §4).
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  assert.equal(`${url.origin}${url.pathname}`, config.serverMetadata().authorization_endpoint);
  const callback = await browse(url);
  const tokens = await openid.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState, expectedNonce });
  assert.equal(tokens.claims()?.sub, `par-rp-${users}`, 'the user who approved');
  assert.equal(tokens.scope, SCOPE);
  // The same authorization URL again: its request_uri is spent.
  const replay = await fetch(url, { redirect: 'manual', headers: { cookie: `keymint_session=${(await s.session()).session_token}` } });
  assert.equal(new URL(String(replay.headers.get('location'))).searchParams.get('error'), 'invalid_request_uri');
  return tokens;
}

describe('real clients: openid-client and oauth4webapi', () => {
  test('PAR-08 openid-client buildAuthorizationUrlWithPAR with client_secret_basic, for a client that must push', async () => {
    const app = await s.client({ ...base, name: 'Acme Reports' });
    const tokens = await flow(app.id, openid.ClientSecretBasic(app.secret));
    assert.ok(tokens.refresh_token);
  });

  test('PAR-08 openid-client buildAuthorizationUrlWithPAR with private_key_jwt and with a public client', async () => {
    const key = await keyPair('ES256', 'rp-1');
    const id = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Keyed app' });
    await flow(id, openid.PrivateKeyJwt({ key: key.privateKey, kid: 'rp-1' }));
    const spa = await s.client({ ...base, name: 'SPA', type: 'public' });
    await flow(spa.id, openid.None());
  });

  test('PAR-08 PAR-05 openid-client: a plain authorization URL of a client that must push ends in invalid_request; a bad push is a ResponseBodyError', async () => {
    const app = await s.client({ ...base, name: 'Strict app' });
    const config = await openid.discovery(issuer, app.id, undefined, openid.ClientSecretBasic(app.secret), { execute: [openid.allowInsecureRequests] });
    const plain = openid.buildAuthorizationUrl(config, { redirect_uri: CB, scope: SCOPE, code_challenge: await openid.calculatePKCECodeChallenge(openid.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 'x' });
    const back = await browse(plain);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    await assert.rejects(
      openid.buildAuthorizationUrlWithPAR(config, { redirect_uri: 'https://evil.example/cb', scope: SCOPE, code_challenge: await openid.calculatePKCECodeChallenge(openid.randomPKCECodeVerifier()), code_challenge_method: 'S256' }),
      (e: unknown) => e instanceof openid.ResponseBodyError && e.status === 400 && e.error === 'invalid_request',
    );
  });

  test('PAR-08 oauth4webapi pushedAuthorizationRequest → processPushedAuthorizationResponse → the code flow', async () => {
    const app = await s.client({ ...base, name: 'Low-level app' });
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }));
    const client: oauth.Client = { client_id: app.id };
    const auth = oauth.ClientSecretPost(app.secret);
    const verifier = oauth.generateRandomCodeVerifier();
    const params = new URLSearchParams({ redirect_uri: CB, scope: SCOPE, response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' });
    const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, params, options));
    assert.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/);
    assert.equal(pushed.expires_in, 60);
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', app.id);
    url.searchParams.set('request_uri', pushed.request_uri);
    const callback = oauth.validateAuthResponse(as, client, await browse(url), 'st');
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, callback, CB, verifier, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
    assert.equal(oauth.getValidatedIdTokenClaims(result)?.sub, `par-rp-${users}`);
  });
});

/**
 * The device flow as a CLI's library drives it: openid-client v6 (oauth4webapi beneath it) discovers
 * Keymint, calls the device authorization endpoint (`initiateDeviceAuthorization`) and polls the
 * token endpoint at the interval it is given (`pollDeviceAuthorizationGrant`), validating the token
 * response and the ID token strictly, while the test plays the user: a platform session, the
 * verification page opened at `verification_uri_complete`, the consent page answered. A DPoP-bound
 * run and a denial too. Everything on the client side is the library's own code.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as openid from 'openid-client';
import { formFields, startGrantServer, USER, type GrantServer } from './support.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let s: GrantServer;
let cli: { id: string; secret: string };
let config: openid.Configuration;
const sent: string[] = [];
before(async () => {
  // The default issuer (http://localhost:<bound port>), so what discovery finds is where the server answers.
  s = await startGrantServer({ issuer: undefined });
  cli = await s.client({ name: 'Acme CLI', type: 'public', grants: [GRANT, 'refresh_token'], scopes: ['openid', 'invoices:read'] });
  config = await openid.discovery(new URL(s.keymint.config.issuer), cli.id, undefined, openid.None(), { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks] });
  config[openid.customFetch] = async (url: string, init: RequestInit) => {
    const res = await fetch(url, init);
    sent.push(`${new URL(url).pathname} ${res.status}`);
    return res;
  };
});
after(() => s.close());

/** The user: signed in to the platform, opens the link the CLI printed, answers the consent page. */
async function user(link: string, decision: 'approve' | 'deny'): Promise<void> {
  const cookie = `keymint_session=${(await s.session()).session_token}`;
  // The issuer names localhost; the server listens on 127.0.0.1: the same port.
  const url = new URL(link);
  const page = await fetch(`${s.url}${url.pathname}${url.search}`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const res = await fetch(`${s.url}${url.pathname}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...formFields(await page.text()), decision }).toString(),
  });
  assert.equal(res.status, 200);
}

test('DEV-04 openid-client: initiateDeviceAuthorization, the user approves at verification_uri_complete, pollDeviceAuthorizationGrant gets tokens (DPoP-bound)', async () => {
  sent.length = 0;
  assert.equal(config.serverMetadata().device_authorization_endpoint, `${s.keymint.config.issuer}/oauth2/device_authorization`);
  const started = await openid.initiateDeviceAuthorization(config, { scope: 'openid invoices:read' });
  assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  assert.equal(started.interval, 5);
  const dpop = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair('ES256'));
  const polling = openid.pollDeviceAuthorizationGrant(config, started, undefined, { DPoP: dpop });
  await user(started.verification_uri_complete!, 'approve');
  const tokens = await polling;
  assert.equal(tokens.token_type, 'dpop');
  assert.equal(tokens.scope, 'openid invoices:read');
  assert.ok(tokens.refresh_token);
  const claims = tokens.claims()!;
  assert.equal(claims.sub, USER);
  assert.equal(claims.aud, cli.id);
  const at = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { cnf?: { jkt?: string }; sub: string };
  assert.equal(at.sub, USER);
  assert.equal(typeof at.cnf?.jkt, 'string');
  // One poll (the library waits the interval first), then the JWKS for the ID token's signature.
  assert.deepEqual(sent, ['/oauth2/device_authorization 200', '/oauth2/token 200', '/oauth2/jwks 200']);
  // The refresh token is bound to the same key (a public client): the library refreshes with it.
  const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
  assert.equal(refreshed.token_type, 'dpop');
});

test('DEV-05 openid-client: a denial ends the polling with access_denied', async () => {
  const started = await openid.initiateDeviceAuthorization(config, { scope: 'invoices:read' });
  const polling = openid.pollDeviceAuthorizationGrant(config, started);
  await user(started.verification_uri_complete!, 'deny');
  await assert.rejects(polling, (err: openid.ResponseBodyError) => {
    assert.equal(err.error, 'access_denied');
    assert.equal(err.status, 400);
    return true;
  });
});

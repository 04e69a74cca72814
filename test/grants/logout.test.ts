/**
 * OpenID Connect RP-Initiated Logout 1.0 at `/oauth2/logout`, driven as an app does with openid-client
 * (`buildEndSessionUrl` after a code flow run by the same library), against a started server, with a
 * browser's session cookie. The app's post_logout_redirect_uri is a small server on 127.0.0.1 that the
 * browser (fetch) really reaches. Checks exact statuses and headers, that the session is dead at the
 * authorization endpoint afterwards, and every refusal: a bad hint or an unregistered URI is a 400
 * page and never a redirect.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair } from 'jose/key/generate/keypair';
import { SignJWT } from 'jose/jwt/sign';
import * as openid from 'openid-client';
import { formFields, sessionAlive as aliveAt, startGrantServer, USER, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';

let s: GrantServer;
let issuer: URL;
let app: { id: string; secret: string };
let other: { id: string; secret: string };
/** The app's own page the browser lands on after logout; records the query it was reached with. */
let rp: Server;
let bye: string;
const landed: URLSearchParams[] = [];

before(async () => {
  rp = createServer((req, res) => {
    landed.push(new URL(req.url ?? '/', 'http://x').searchParams);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('signed out of the app');
  });
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
  bye = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/signed-out`;
  s = await startGrantServer({ issuer: undefined });
  issuer = new URL(s.keymint.config.issuer);
  app = await s.client({
    name: 'Acme Reports', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB], trusted: true,
    postLogoutRedirectUris: [bye, 'com.example.app:/logged-out'],
  });
  other = await s.client({ name: 'Other', grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], postLogoutRedirectUris: ['https://other.example/bye'] });
});
after(async () => {
  await s.close();
  await new Promise<void>((resolve) => rp.close(() => resolve()));
});

async function configure() {
  const config = await openid.discovery(issuer, app.id, undefined, openid.ClientSecretBasic(app.secret), { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks] });
  return config;
}

let users = 0;
/** A new user's session; its cookie. */
async function signIn(subject = `logout-user-${++users}`): Promise<{ cookie: string; id: string; subject: string }> {
  const session = await s.session({ subject });
  return { cookie: `keymint_session=${session.session_token}`, id: session.id, subject };
}

/** The app's code flow with openid-client, the browser holding `cookie` (a trusted client: no consent page). */
async function login(config: openid.Configuration, cookie: string) {
  const pkceCodeVerifier = openid.randomPKCECodeVerifier();
  const expectedState = openid.randomState();
  const expectedNonce = openid.randomNonce();
  const url = openid.buildAuthorizationUrl(config, {
    redirect_uri: CB, scope: 'openid invoices:read', state: expectedState, nonce: expectedNonce,
    code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  assert.equal(res.status, 302);
  return openid.authorizationCodeGrant(config, new URL(res.headers.get('location')!), { pkceCodeVerifier, expectedState, expectedNonce });
}

/** Whether the session behind `cookie` still works at the authorization endpoint (a code, or login_required). */
const sessionAlive = (cookie: string) => aliveAt(s, app.id, CB, cookie);

const logout = (query: Record<string, string>, cookie?: string) =>
  fetch(`${s.url}/oauth2/logout?${new URLSearchParams(query)}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** A 400 error page, never a redirect, with the headers of every page here. */
async function refused(res: Response, text: RegExp) {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await res.text(), text);
}

describe('RP-Initiated Logout', () => {
  test('LOGOUT-01 discovery names end_session_endpoint on the oauth2 mount; GET and POST only', async () => {
    const config = await configure();
    assert.equal(config.serverMetadata().end_session_endpoint, `${issuer.origin}/oauth2/logout`);
    const res = await fetch(`${s.url}/oauth2/logout`, { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
  });

  test('LOGOUT-02 openid-client buildEndSessionUrl with the ID token: the session ends at once, the browser reaches the app\'s registered URI with its state, and the cookie no longer works at /oauth2/authorize', async () => {
    const config = await configure();
    const user = await signIn();
    const tokens = await login(config, user.cookie);
    assert.equal(await sessionAlive(user.cookie), true);
    const url = openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: bye, state: 'st-1' });
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: user.cookie } });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${bye}?state=st-1`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    // The browser follows it to the app's page.
    const followed = await fetch(url, { headers: { cookie: user.cookie } });
    assert.equal(followed.status, 200);
    assert.equal(await followed.text(), 'signed out of the app');
    assert.equal(landed.at(-1)?.get('state'), 'st-1');
    assert.equal(await sessionAlive(user.cookie), false);
    // Audited as the user's, naming the client.
    const [event] = await s.keymint.store.audit.list(1);
    assert.equal(event?.action, 'session.end');
    assert.equal(event?.target, user.id);
    assert.equal(event?.actor, `session:${user.id}`);
    assert.deepEqual(event?.detail, { via: 'end_session', client_id: app.id, confirmed_by: 'id_token_hint', tokens_revoked: 0 });
  });

  test('LOGOUT-07 the app\'s refresh token from the code flow survives the logout (the login ends, not the app\'s grant)', async () => {
    const config = await configure();
    const user = await signIn();
    const tokens = await login(config, user.cookie);
    const res = await fetch(openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }), { redirect: 'manual', headers: { cookie: user.cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You have been signed out/);
    assert.equal(await sessionAlive(user.cookie), false);
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(refreshed.claims()?.sub, user.subject);
  });

  test('LOGOUT-03 an id_token_hint that is not this server\'s ID token is a 400 page, never a redirect, and ends nothing', async () => {
    const config = await configure();
    const user = await signIn();
    const tokens = await login(config, user.cookie);
    const [h, p, sig] = tokens.id_token!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${sig}`;
    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid }).sign(privateKey);
    const access = tokens.access_token; // signed by this server, but an access token (typ at+jwt)
    for (const hint of [altered, foreign, access, 'not-a-jwt', `${h}.${p}.`]) {
      await refused(await logout({ id_token_hint: hint, post_logout_redirect_uri: bye, state: 's', client_id: app.id }, user.cookie), /not an ID token issued by this server/);
    }
    // The client_id must be the hint's audience.
    await refused(await logout({ id_token_hint: tokens.id_token!, client_id: other.id, post_logout_redirect_uri: 'https://other.example/bye' }, user.cookie), /not the audience/);
    assert.equal(await sessionAlive(user.cookie), true);
  });

  test('LOGOUT-04 a post_logout_redirect_uri not registered for the client is a 400 page (no open redirect)', async () => {
    const user = await signIn();
    for (const [uri, clientId] of [
      [CB, app.id], // a redirect_uri of the code flow, not a post-logout one
      [`${bye}/x`, app.id], [`${bye}?next=https://evil.example`, app.id], [bye.toUpperCase(), app.id], // not byte for byte
      ['https://other.example/bye', app.id], // another client's
      ['https://evil.example/', app.id],
    ] as const) {
      await refused(await logout({ client_id: clientId, post_logout_redirect_uri: uri, state: 's' }, user.cookie), /not registered for this application/);
    }
    await refused(await logout({ post_logout_redirect_uri: bye }), /needs the client_id or an id_token_hint/);
    await refused(await logout({ client_id: 'sk_live_nosuchclient000000000000', post_logout_redirect_uri: bye }), /unknown or disabled/);
    await refused(await fetch(`${s.url}/oauth2/logout?client_id=${app.id}&state=a&state=b`, { redirect: 'manual' }), /state was sent more than once/);
    assert.equal(await sessionAlive(user.cookie), true);
  });

  test('LOGOUT-05 without an id_token_hint the user is asked: a CSRF-bound form; a forged or another session\'s form is 403 and ends nothing; Sign out ends it, Stay signed in does not', async () => {
    const user = await signIn();
    const query = { client_id: app.id, post_logout_redirect_uri: bye, state: 'st-5' };
    const page = await logout(query, user.cookie);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    const html = await page.text();
    assert.match(html, /<strong>Acme Reports<\/strong> is asking to sign you out/);
    const fields = formFields(html);
    assert.deepEqual(Object.keys(fields).sort(), ['client_id', 'csrf_token', 'post_logout_redirect_uri', 'state']);
    assert.equal(await sessionAlive(user.cookie), true, 'showing the page ends nothing');

    const post = (form: Record<string, string>, cookie: string) =>
      fetch(`${s.url}/oauth2/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    const someoneElse = await signIn();
    for (const [form, cookie] of [
      [{ ...fields, decision: 'logout', csrf_token: 'forged' }, user.cookie],
      [{ ...fields, decision: 'logout', csrf_token: '' }, user.cookie],
      [{ ...fields, decision: 'logout', state: 'changed' }, user.cookie], // the token binds every parameter
      [{ ...fields, decision: 'logout' }, someoneElse.cookie], // another session's form
    ] as const) {
      const res = await post(form, cookie);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /sign-out form has expired/);
    }
    assert.equal(await sessionAlive(user.cookie), true);

    const stay = await post({ ...fields, decision: 'stay' }, user.cookie);
    assert.equal(stay.status, 302);
    assert.equal(stay.headers.get('location'), `${bye}?state=st-5`);
    assert.equal(await sessionAlive(user.cookie), true, 'Stay signed in keeps the session');

    const out = await post({ ...fields, decision: 'logout' }, user.cookie);
    assert.equal(out.status, 302);
    assert.equal(out.headers.get('location'), `${bye}?state=st-5`);
    assert.equal(out.headers.get('cache-control'), 'no-store');
    assert.equal(await sessionAlive(user.cookie), false);
    const [event] = await s.keymint.store.audit.list(1);
    assert.deepEqual(event?.detail, { via: 'end_session', client_id: app.id, confirmed_by: 'user', tokens_revoked: 0 });
  });

  test('LOGOUT-05 an ID token of another user than the session\'s does not end it: the user is asked', async () => {
    const config = await configure();
    const first = await signIn();
    const tokens = await login(config, first.cookie);
    const second = await signIn();
    const res = await fetch(openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: bye }), { redirect: 'manual', headers: { cookie: second.cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Sign out\?/);
    assert.equal(await sessionAlive(second.cookie), true);
    assert.equal(await sessionAlive(first.cookie), true);
  });

  test('LOGOUT-06 without a session: straight to the registered URI with the state echoed, or a signed-out page', async () => {
    const res = await logout({ client_id: app.id, post_logout_redirect_uri: 'com.example.app:/logged-out', state: 'a b&c' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'com.example.app:/logged-out?state=a+b%26c');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const plain = await logout({});
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('cache-control'), 'no-store');
    assert.match(await plain.text(), /You are signed out/);
    // A dead session cookie counts as none.
    const user = await signIn();
    assert.equal(await s.keymint.sessions.end(user.id, 'test'), true);
    const dead = await logout({ client_id: app.id, post_logout_redirect_uri: bye, state: 'x' }, user.cookie);
    assert.equal(dead.status, 302);
    assert.equal(dead.headers.get('location'), `${bye}?state=x`);
  });

  test('LOGOUT-10 ID tokens carry the session\'s id as sid: the same for every login and refresh in one session, another for another session', async () => {
    const config = await configure();
    const user = await signIn();
    const first = await login(config, user.cookie);
    assert.equal(first.claims()?.sid, user.id);
    assert.equal((await login(config, user.cookie)).claims()?.sid, user.id, 'a second login in the same session');
    assert.equal((await openid.refreshTokenGrant(config, first.refresh_token!)).claims()?.sid, user.id, 'a refresh');
    const again = await signIn(user.subject);
    assert.equal((await login(config, again.cookie)).claims()?.sid, again.id);
    assert.notEqual(again.id, user.id);
  });

  test('LOGOUT-10 an ID token of an earlier session of the same user does not end the current one: the user is asked', async () => {
    const config = await configure();
    const earlier = await signIn();
    const tokens = await login(config, earlier.cookie);
    assert.equal(await s.keymint.sessions.end(earlier.id, 'test'), true);
    const current = await signIn(earlier.subject);
    const res = await fetch(openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: bye }), { redirect: 'manual', headers: { cookie: current.cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Sign out\?/);
    assert.equal(await sessionAlive(current.cookie), true);
    // The ID token of the current session ends it at once.
    const now = await login(config, current.cookie);
    const ended = await fetch(openid.buildEndSessionUrl(config, { id_token_hint: now.id_token!, post_logout_redirect_uri: bye }), { redirect: 'manual', headers: { cookie: current.cookie } });
    assert.equal(ended.status, 302);
    assert.equal(await sessionAlive(current.cookie), false);
  });

  test('LOGOUT-10 the web grant\'s ID token carries the sid of the session it swapped', async () => {
    const web = await s.client({ name: 'Dashboard', grants: ['web'], scopes: ['openid'] });
    const user = await signIn();
    const res = await s.postForm('/oauth2/token', { grant_type: 'web', session_token: user.cookie.slice('keymint_session='.length), scope: 'openid' }, { authorization: `Basic ${Buffer.from(`${web.id}:${web.secret}`).toString('base64')}` });
    const body = (await res.json()) as { id_token?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(JSON.parse(Buffer.from(body.id_token!.split('.')[1]!, 'base64url').toString()).sid, user.id);
  });

  test('LOGOUT-08 an app\'s logout sent as a form POST is checked, then sent to GET (303) so the browser brings its SameSite=Lax cookie', async () => {
    const form = (body: Record<string, string>) =>
      fetch(`${s.url}/oauth2/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    const res = await form({ client_id: app.id, post_logout_redirect_uri: bye, state: 'p' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `${issuer.origin}/oauth2/logout?client_id=${app.id}&post_logout_redirect_uri=${encodeURIComponent(bye)}&state=p`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    await refused(await form({ client_id: app.id, post_logout_redirect_uri: 'https://evil.example/' }), /not registered/);
    const json = await fetch(`${s.url}/oauth2/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 400);
  });
});

describe('RP-Initiated Logout with the platform\'s --logout-url', () => {
  let p: GrantServer;
  let client: { id: string; secret: string };
  before(async () => {
    p = await startGrantServer({ issuer: undefined, logoutUrl: 'https://platform.example/logout?from=keymint' });
    client = await p.client({ name: 'App', grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], postLogoutRedirectUris: ['https://app.example/bye'] });
  });
  after(() => p.close());

  test('LOGOUT-09 after ending a session the browser goes to the platform\'s logout page with return_to back to the endpoint, which then sends it to the app', async () => {
    const session = await p.session({ subject: 'platform-user' });
    const cookie = `keymint_session=${session.session_token}`;
    const page = await fetch(`${p.url}/oauth2/logout?${new URLSearchParams({ client_id: client.id, post_logout_redirect_uri: 'https://app.example/bye', state: 'z' })}`, { redirect: 'manual', headers: { cookie } });
    assert.equal(page.status, 200);
    const res = await fetch(`${p.url}/oauth2/logout`, {
      method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(await page.text()), decision: 'logout' }).toString(),
    });
    assert.equal(res.status, 302);
    const platform = new URL(res.headers.get('location')!);
    assert.equal(platform.origin + platform.pathname, 'https://platform.example/logout');
    assert.equal(platform.searchParams.get('from'), 'keymint');
    const back = platform.searchParams.get('return_to')!;
    const issuerOrigin = new URL(p.keymint.config.issuer).origin;
    assert.equal(back, `${issuerOrigin}/oauth2/logout?client_id=${client.id}&post_logout_redirect_uri=${encodeURIComponent('https://app.example/bye')}&state=z`);
    // The platform clears its cookies and sends the browser back: signed out now, on to the app.
    const returned = await fetch(back.replace(issuerOrigin, p.url), { redirect: 'manual', headers: { cookie } });
    assert.equal(returned.status, 302);
    assert.equal(returned.headers.get('location'), 'https://app.example/bye?state=z');
    // Without a session, nothing was ended: no detour through the platform.
    const none = await fetch(`${p.url}/oauth2/logout?${new URLSearchParams({ client_id: client.id, post_logout_redirect_uri: 'https://app.example/bye' })}`, { redirect: 'manual' });
    assert.equal(none.headers.get('location'), 'https://app.example/bye');
  });
});

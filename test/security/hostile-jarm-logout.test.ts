/**
 * Attacks through HTTP, against a real started server, on JWT authorization responses (JARM), OIDC
 * RP-Initiated Logout and the tokens they pass around: forged and confused id_token_hints, open
 * redirects through post_logout_redirect_uri, logout CSRF with an ID token of another session,
 * markup in the confirmation page, and a JARM response replayed where other JWTs go. Each attack
 * asserts the exact answer, that nothing was ended, stored or issued, and that no secret reaches the logs.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createLogger } from '../../src/util/log.ts';
import { assertion, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { answerDevice, authorizeGet, basic, formFields, obtainCode, pkce, sessionAlive, startGrantServer, type GrantServer } from '../grants/support.ts';

const ISSUER = 'http://localhost:8080';
const CB = 'https://app.example/cb';
const BYE = 'https://app.example/bye';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

type Body = Record<string, unknown>;
const logLines: string[] = [];
const secrets: string[] = [];

let s: GrantServer;
let clock = Date.now();
let app: { id: string; secret: string };
let other: { id: string; secret: string };
let cli: { id: string; secret: string };
before(async () => {
  s = await startGrantServer({ issuer: ISSUER }, { now: () => clock, log: createLogger('debug', (line) => void logLines.push(line)) });
  app = await s.client({ name: 'Acme Reports', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB], postLogoutRedirectUris: [BYE] });
  other = await s.client({ name: 'Other', trusted: true, grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], postLogoutRedirectUris: ['https://other.example/bye'] });
  cli = await s.client({ name: 'Acme CLI', trusted: true, grants: [DEVICE], scopes: ['openid', 'read'] });
  secrets.push(app.secret, other.secret, cli.secret);
});
after(() => s.close());

let users = 0;
async function signIn(subject = `hostile-logout-${++users}`): Promise<{ cookie: string; id: string; subject: string }> {
  const session = await s.session({ subject });
  secrets.push(session.session_token);
  return { cookie: `keymint_session=${session.session_token}`, id: session.id, subject };
}

/** A code flow of `client` in the browser session `cookie`, redeemed: the token response. */
async function codeFlow(client: { id: string; secret: string }, cookie: string, extra: Record<string, string> = {}): Promise<Body> {
  const { code, verifier } = await obtainCode(s, client, { cookie, scope: 'openid read', extra });
  const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CB }, { authorization: basic(client.id, client.secret) });
  const body = (await res.json()) as Body;
  assert.equal(res.status, 200, JSON.stringify(body));
  secrets.push(code, String(body.access_token), String(body.refresh_token));
  return body;
}

const alive = (cookie: string) => sessionAlive(s, app.id, CB, cookie);

const logout = (query: Record<string, string>, cookie?: string) =>
  fetch(`${s.url}/oauth2/logout?${new URLSearchParams(query)}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** The 400 error page saying `text`: never a redirect. */
async function refusedPage(res: Response, text: RegExp): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, 400, body);
  assert.equal(res.headers.get('location'), null);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(body, text);
}

const sessionEnds = async () => (await s.keymint.store.audit.list(1000)).filter((e) => e.action === 'session.end').length;

/** A JARM response for `client` (a trusted one: no consent page) from the browser session `cookie`: success or, with prompt=none and no session, an error. */
async function jarmResponse(cookie: string | undefined): Promise<string> {
  const res = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid read', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256', response_mode: 'jwt', ...(cookie ? {} : { prompt: 'none' }) }, cookie);
  assert.equal(res.status, 302);
  const jwt = new URL(res.headers.get('location')!).searchParams.get('response');
  assert.ok(jwt);
  return jwt;
}

describe('RP-Initiated Logout under attack', () => {
  test('LOGOUT-10 an ID token without sid (the device grant\'s, issued to a CLI) does not end a browser session at once: the user is asked, the session lives', async () => {
    const user = await signIn();
    const started = await s.postForm('/oauth2/device_authorization', { scope: 'openid read' }, { authorization: basic(cli.id, cli.secret) });
    assert.equal(started.status, 200);
    const d = (await started.json()) as { device_code: string; user_code: string };
    secrets.push(d.device_code, d.user_code);
    // The user approves the CLI in another browser session (another device), then goes on in this one.
    const elsewhere = await signIn(user.subject);
    assert.equal((await answerDevice(s, d.user_code, 'approve', elsewhere.cookie)).status, 200);
    clock += 6_000;
    const polled = await s.postForm('/oauth2/token', { grant_type: DEVICE, device_code: d.device_code }, { authorization: basic(cli.id, cli.secret) });
    const tokens = (await polled.json()) as Body;
    assert.equal(polled.status, 200, JSON.stringify(tokens));
    secrets.push(String(tokens.access_token));
    const idToken = String(tokens.id_token);
    assert.equal(decodeJwt(idToken).sub, user.subject);
    const before = await sessionEnds();
    // A page anywhere sends the browser here with that ID token (leaked from the CLI's disk, its logs).
    const res = await logout({ id_token_hint: idToken }, user.cookie);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Sign out\?/);
    assert.equal(await alive(user.cookie), true);
    assert.equal(await alive(elsewhere.cookie), true);
    assert.equal(await sessionEnds(), before);
  });

  test('LOGOUT-11 HEAD is safe: a HEAD of the end-session endpoint with the session\'s own hint, or of the authorization endpoint for a trusted app, is 405 (Allow without HEAD) and ends or issues nothing', async () => {
    const user = await signIn();
    const idToken = String((await codeFlow(app, user.cookie)).id_token);
    const before = await sessionEnds();
    const head = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ id_token_hint: idToken })}`, { method: 'HEAD', redirect: 'manual', headers: { cookie: user.cookie } });
    assert.deepEqual([head.status, head.headers.get('allow'), head.headers.get('location')], [405, 'GET, POST', null]);
    assert.equal(await alive(user.cookie), true);
    assert.equal(await sessionEnds(), before);
    const query = { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid read', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256' };
    const codes = async () => (await s.keymint.store.audit.list(1000)).length;
    const audited = await codes();
    const authorize = await fetch(`${s.url}/oauth2/authorize?${new URLSearchParams(query)}`, { method: 'HEAD', redirect: 'manual', headers: { cookie: user.cookie } });
    assert.deepEqual([authorize.status, authorize.headers.get('allow'), authorize.headers.get('location')], [405, 'GET, POST', null]);
    assert.equal(await codes(), audited);
    // The same GET issues the code, and the session's own hint by GET ends the session.
    assert.equal((await authorizeGet(s, query, user.cookie)).status, 302);
    assert.equal((await logout({ id_token_hint: idToken }, user.cookie)).status, 200);
    assert.equal(await alive(user.cookie), false);
    // Other GET routes still answer HEAD.
    assert.equal((await fetch(`${s.url}/.well-known/openid-configuration`, { method: 'HEAD' })).status, 200);
  });

  test('LOGOUT-03 forged and confused hints are the 400 page and end nothing: alg none, HS256 keyed with the public key, a JARM response (success and error)', async () => {
    const user = await signIn();
    const idToken = String((await codeFlow(app, user.cookie)).id_token);
    const [h, p] = idToken.split('.') as [string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Body;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
    const jwks = (await (await fetch(`${s.url}/oauth2/jwks`)).json()) as { keys: JsonWebKey[] };
    const published = jwks.keys.find((k) => (k as Body).kid === header.kid)!;
    const pem = createPublicKey({ key: published, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hsInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${p}`;
    const hs256 = `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`;
    const hsJwk = `${hsInput}.${createHmac('sha256', JSON.stringify(published)).update(hsInput).digest('base64url')}`;
    const jarmOk = await jarmResponse(user.cookie);
    const jarmError = await jarmResponse(undefined);
    const before = await sessionEnds();
    for (const hint of [none, hs256, hsJwk, jarmOk, jarmError]) {
      await refusedPage(await logout({ id_token_hint: hint, client_id: app.id, post_logout_redirect_uri: BYE, state: 's' }, user.cookie), /not an ID token issued by this server/);
      await refusedPage(await logout({ id_token_hint: hint }, user.cookie), /not an ID token issued by this server/);
    }
    assert.equal(await alive(user.cookie), true);
    assert.equal(await sessionEnds(), before);
  });

  test('LOGOUT-04 post_logout_redirect_uri tricks are the 400 page, never a redirect: encodings, case, slash, fragment, query, whitespace, another client\'s URI with this client\'s hint, a disabled client\'s own URI', async () => {
    const user = await signIn();
    const idToken = String((await codeFlow(app, user.cookie)).id_token);
    const variants = [
      `${BYE}/`, `${BYE}#x`, `${BYE}?`, `${BYE}?next=https://evil.example`, `${BYE}%2F..%2F..%2Fevil`, 'https://app.example/%62ye', 'https://APP.example/bye',
      'https://app.example:443/bye', 'https://app.example/bye ', ' https://app.example/bye', 'https://app.example\\bye', 'https://app.example/bye\u0000',
      '//app.example/bye', 'https:app.example/bye', 'https://app.example.evil.example/bye', 'https://evil.example@app.example/bye',
    ];
    for (const uri of variants) {
      await refusedPage(await logout({ client_id: app.id, post_logout_redirect_uri: uri, state: 's' }, user.cookie), /not registered for this application/);
      await refusedPage(await logout({ post_logout_redirect_uri: uri }), /needs the client_id or an id_token_hint/);
    }
    // Another client's URI, with this client's ID token (and no client_id, or the other's).
    await refusedPage(await logout({ id_token_hint: idToken, post_logout_redirect_uri: 'https://other.example/bye' }, user.cookie), /not registered for this application/);
    await refusedPage(await logout({ id_token_hint: idToken, client_id: other.id, post_logout_redirect_uri: 'https://other.example/bye' }, user.cookie), /not the audience/);
    // A client disabled: its own registered URI is no longer followed, with its client_id or its ID token.
    const paused = await s.client({ name: 'Paused', trusted: true, grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB], postLogoutRedirectUris: ['https://paused.example/bye'] });
    secrets.push(paused.secret);
    const pausedToken = String((await codeFlow(paused, user.cookie)).id_token);
    assert.equal((await s.admin('POST', `/clients/${paused.id}/disable`)).status, 200);
    await refusedPage(await logout({ client_id: paused.id, post_logout_redirect_uri: 'https://paused.example/bye' }), /unknown or disabled/);
    await refusedPage(await logout({ id_token_hint: pausedToken, post_logout_redirect_uri: 'https://paused.example/bye' }, user.cookie), /unknown or disabled/);
    assert.equal(await alive(user.cookie), true);
  });

  test('LOGOUT-05 markup in state, ui_locales and logout_hint stays text on the confirmation page and in its form', async () => {
    const user = await signIn();
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const res = await logout({ client_id: app.id, post_logout_redirect_uri: BYE, state: evil, ui_locales: evil, logout_hint: evil }, user.cookie);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.ok(!html.includes('<script>') && !html.includes('<img'), html);
    const fields = formFields(html);
    assert.deepEqual([fields.state, fields.ui_locales, fields.logout_hint], [evil, evil, evil]);
    // Confirmed, the state reaches the app encoded in its query.
    const out = await fetch(`${s.url}/oauth2/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'logout' }).toString() });
    assert.equal(out.status, 302);
    assert.equal(out.headers.get('location'), `${BYE}?${new URLSearchParams({ state: evil })}`);
  });

  test('LOGOUT-05 the confirmation page names only an active client: a disabled one (an app the operator stopped) is "An application", as an unknown one is', async () => {
    const user = await signIn();
    const stopped = await s.client({ name: 'Acme Security Team', grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB] });
    secrets.push(stopped.secret);
    assert.equal((await s.admin('POST', `/clients/${stopped.id}/disable`)).status, 200);
    for (const clientId of [stopped.id, 'sk_live_nosuchclient000000000000']) {
      const res = await logout({ client_id: clientId }, user.cookie);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.ok(!html.includes('Acme Security Team'), html);
      assert.match(html, /<p>An application is asking to sign you out\./);
    }
    assert.match(await (await logout({ client_id: app.id }, user.cookie)).text(), /<p><strong>Acme Reports<\/strong> is asking to sign you out\./);
    assert.equal(await alive(user.cookie), true);
  });

  test('LOGOUT-05 a confirmation form shown before a sign-in again is refused after it (403): the user\'s new session is another', async () => {
    const first = await signIn();
    const page = await logout({ client_id: app.id }, first.cookie);
    const fields = formFields(await page.text());
    assert.equal(await s.keymint.sessions.end(first.id, 'test'), true);
    const second = await signIn(first.subject);
    const replay = await fetch(`${s.url}/oauth2/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: second.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'logout' }).toString() });
    assert.equal(replay.status, 403);
    assert.match(await replay.text(), /sign-out form has expired/);
    assert.equal(await alive(second.cookie), true);
  });
});

describe('JARM under attack', () => {
  test('JARM-01 a response JWT is nothing else: not a bearer token at userinfo, inactive at introspection, not a client assertion', async () => {
    const user = await signIn();
    const jwt = await jarmResponse(user.cookie);
    const code = String(decodeJwt(jwt).code);
    secrets.push(code);
    const info = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(info.status, 401);
    const introspected = await s.postForm('/oauth2/introspect', { token: jwt }, { authorization: basic(app.id, app.secret) });
    assert.equal(introspected.status, 200);
    assert.deepEqual(await introspected.json(), { active: false });
    // As the client's assertion at the token endpoint (a client whose keys are its own, not the server's).
    const key = await keyPair('ES256', 'k1');
    const signer = await privateKeyJwtClient(s.keymint, { keys: [key] }, { grants: ['client_credentials'], scopes: ['read'] });
    const asserted = (clientAssertion: string) => s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_id: signer, client_assertion_type: JWT_BEARER, client_assertion: clientAssertion });
    const res = await asserted(jwt);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as Body).error, 'invalid_client');
    // The client's own assertion is taken (the refusal above is the JWT's).
    const own = await asserted(await assertion(key, { clientId: signer, aud: ISSUER }));
    assert.equal(own.status, 200);
    secrets.push(String(((await own.json()) as Body).access_token));
  });

  test('JARM-04 response_mode look-alikes (case, spaces, fragment.jwt) are invalid_request in the query with iss, never a JWT', async () => {
    const user = await signIn();
    for (const mode of ['JWT', 'Query.jwt', 'query.jwt ', ' jwt', 'jwt\u0000', 'fragment.jwt', 'form_post.jwt', 'query.JWT']) {
      const res = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256', response_mode: mode }, user.cookie);
      assert.equal(res.status, 302, mode);
      const location = new URL(res.headers.get('location')!);
      assert.deepEqual(Object.fromEntries(location.searchParams), { error: 'invalid_request', error_description: 'response_mode takes query, query.jwt, jwt.', state: 'st', iss: ISSUER }, mode);
    }
  });

  test('JARM-04 a push naming response_mode twice, or one not offered, is 400 JSON: no request_uri', async () => {
    for (const body of [
      'response_mode=jwt&response_mode=query',
      'response_mode=fragment.jwt',
    ]) {
      const form = `response_type=code&client_id=${app.id}&redirect_uri=${encodeURIComponent(CB)}&scope=openid&state=s&code_challenge=${pkce().challenge}&code_challenge_method=S256&${body}`;
      const res = await fetch(`${s.url}/oauth2/par`, { method: 'POST', headers: { authorization: basic(app.id, app.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      assert.equal(res.status, 400, body);
      assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
      assert.equal(((await res.json()) as Body).error, 'invalid_request', body);
    }
  });
});

describe('JWT introspection answers (RFC 9701) under attack', () => {
  const JWT_TYPE = 'application/token-introspection+jwt';
  const introspectJwt = (token: string, c = app) => s.postForm('/oauth2/introspect', { token }, { authorization: basic(c.id, c.secret), accept: JWT_TYPE });

  test('I-08 LOGOUT-03 an introspection answer (a JWT this server signed, about the user\'s token, for the app) is no token: not a bearer at userinfo, inactive when introspected, not an id_token_hint', async () => {
    const user = await signIn();
    const tokens = await codeFlow(app, user.cookie);
    const res = await introspectJwt(String(tokens.access_token));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), JWT_TYPE);
    const answer = await res.text();
    assert.equal((decodeJwt(answer).token_introspection as Body).sub, user.subject);
    assert.equal(decodeJwt(answer).aud, app.id);
    const info = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${answer}` } });
    assert.equal(info.status, 401);
    const again = await s.postForm('/oauth2/introspect', { token: answer }, { authorization: basic(app.id, app.secret) });
    assert.deepEqual([again.status, await again.json()], [200, { active: false }]);
    await refusedPage(await logout({ id_token_hint: answer }, user.cookie), /not an ID token issued by this server/);
    await refusedPage(await logout({ id_token_hint: answer, client_id: app.id, post_logout_redirect_uri: BYE }, user.cookie), /not an ID token issued by this server/);
    assert.equal(await alive(user.cookie), true);
  });

  test('I-08 an ID token, a JARM response or another client\'s token introspected as a JWT: token_introspection is exactly {"active":false}, nothing of the token', async () => {
    const user = await signIn();
    const tokens = await codeFlow(app, user.cookie);
    const jarm = await jarmResponse(user.cookie);
    for (const [token, caller] of [[String(tokens.id_token), app], [jarm, app], [String(tokens.access_token), other], [String(tokens.refresh_token), other]] as const) {
      const res = await introspectJwt(token, caller);
      assert.equal(res.status, 200);
      const claims = decodeJwt(await res.text());
      assert.deepEqual(Object.keys(claims).sort(), ['aud', 'iat', 'iss', 'token_introspection']);
      assert.deepEqual(claims.token_introspection, { active: false });
      assert.equal(claims.aud, caller.id);
    }
  });
});

describe('PS256 (--alg PS256) under attack', () => {
  let ps: GrantServer;
  before(async () => {
    ps = await startGrantServer({ issuer: ISSUER, alg: 'PS256' }, { log: createLogger('debug', (line) => void logLines.push(line)) });
  });
  after(() => ps.close());

  test('KEY-04 LOGOUT-03 a PS256 ID token ends its session as a hint; re-labelled RS256 (same signature), or an RS256 one re-labelled PS256, or a PS256 JARM response, it is the 400 page', async () => {
    const client = await ps.client({ name: 'Bank RP', trusted: true, grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB], idTokenAlg: 'PS256', authorizationResponseAlg: 'PS256' });
    const plain = await ps.client({ name: 'Plain RP', trusted: true, grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB] });
    secrets.push(client.secret, plain.secret);
    const session = await ps.session({ subject: 'ps-user' });
    secrets.push(session.session_token);
    const cookie = `keymint_session=${session.session_token}`;
    const idTokenOf = async (c: { id: string; secret: string }) => {
      const { code, verifier } = await obtainCode(ps, c, { cookie, scope: 'openid read' });
      const res = await ps.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CB }, { authorization: basic(c.id, c.secret) });
      const body = (await res.json()) as Body;
      secrets.push(code, String(body.access_token));
      return String(body.id_token);
    };
    const relabel = (jwt: string, alg: string) => {
      const [h, p, sig] = jwt.split('.') as [string, string, string];
      return `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg })).toString('base64url')}.${p}.${sig}`;
    };
    const psToken = await idTokenOf(client);
    const rsToken = await idTokenOf(plain);
    assert.deepEqual([decodeProtectedHeader(psToken).alg, decodeProtectedHeader(rsToken).alg], ['PS256', 'RS256']);
    const res = await authorizeGet(ps, { response_type: 'code', client_id: client.id, redirect_uri: CB, scope: 'openid', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256', response_mode: 'jwt' }, cookie);
    const jarm = new URL(res.headers.get('location')!).searchParams.get('response')!;
    assert.equal(decodeProtectedHeader(jarm).alg, 'PS256');
    const logoutAt = (query: Record<string, string>) => fetch(`${ps.url}/oauth2/logout?${new URLSearchParams(query)}`, { redirect: 'manual', headers: { cookie } });
    for (const hint of [relabel(psToken, 'RS256'), relabel(rsToken, 'PS256'), jarm]) {
      await refusedPage(await logoutAt({ id_token_hint: hint }), /not an ID token issued by this server/);
    }
    assert.equal(await sessionAlive(ps, client.id, CB, cookie), true);
    const ended = await logoutAt({ id_token_hint: psToken });
    assert.equal(ended.status, 200);
    assert.match(await ended.text(), /You have been signed out/);
    assert.equal(await sessionAlive(ps, client.id, CB, cookie), false);
  });
});

test('S-05 no secret in the logs (client secrets, session tokens, device codes, codes, tokens)', () => {
  assert.ok(logLines.length > 0, 'the server logged');
  const all = logLines.join('\n');
  for (const secret of secrets) assert.ok(!all.includes(secret), `a secret in the logs: ${secret.slice(0, 8)}…`);
});

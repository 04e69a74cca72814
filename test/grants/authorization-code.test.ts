import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { atHash } from '../../src/protocol/id-token.ts';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { authorizeGet, basic, formFields, obtainCode, pkce, startGrantServer, USER, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';

describe('authorization endpoint and authorization_code grant (C-*, P-*, BCP-*)', () => {
  let s: GrantServer;
  let now = Date.now(); // sessions go through the admin API, which checks its token against the real clock
  let app: { id: string; secret: string };
  let trusted: { id: string; secret: string };
  let other: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ loginUrl: 'https://platform.example/login?x=1' }, { now: () => now });
    const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read', 'write'], redirectUris: [CB] };
    app = await s.client({ ...base, name: 'Acme Reports' });
    trusted = await s.client({ ...base, name: 'Dashboard', trusted: true });
    other = await s.client({ ...base, name: 'Other' });
  });
  after(() => s.close());

  const redeem = (code: string, verifier: string | undefined, c = trusted, extra: Record<string, string> = {}, path = '/oauth2/token') =>
    s.postForm(path, { grant_type: 'authorization_code', code, redirect_uri: CB, ...(verifier ? { code_verifier: verifier } : {}), ...extra }, { authorization: basic(c.id, c.secret) });
  const expectError = async (res: Response, error: string, status = 400) => {
    const body = await s.json(res);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error, error);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return body;
  };
  const query = (over: Record<string, string | undefined> = {}) => {
    const { challenge } = pkce();
    const q: Record<string, string> = { response_type: 'code', client_id: app.id, redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz' };
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete q[k]; else q[k] = v;
    return q;
  };
  const location = (res: Response) => new URL(String(res.headers.get('location')));

  test('code flow end to end: trusted client skips consent; JWT, refresh token and OIDC id_token with nonce', async () => {
    const { code, verifier } = await obtainCode(s, trusted, { scope: 'openid read', nonce: 'n-0S6_WzA2Mj' });
    assert.match(code, /^km_ac_[0-9A-Za-z]{43}$/);
    const res = await redeem(code, verifier);
    const body = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    assert.equal(body.scope, 'openid read');
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
    const { payload } = await jwtVerify(String(body.id_token), jwks, { issuer: 'http://localhost:8080', audience: trusted.id, currentDate: new Date(now) });
    assert.equal(payload.sub, USER);
    assert.equal(payload.nonce, 'n-0S6_WzA2Mj');
    assert.equal(payload.at_hash, atHash(String(body.access_token)));
    assert.equal(typeof payload.auth_time, 'number');
  });

  test('consent page: names the client and scopes, CSP, no external assets; approve redirects with code and state', async () => {
    const { session_token } = await s.session();
    const cookie = `keymint_session=${session_token}`;
    const res = await authorizeGet(s, query({ scope: 'openid read' }), cookie);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html;charset=utf-8');
    assert.match(String(res.headers.get('content-security-policy')), /default-src 'none'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const page = await res.text();
    assert.match(page, /Acme Reports/);
    assert.match(page, /<code>read<\/code>/);
    assert.doesNotMatch(page, /(src|href)=/);
    const fields = formFields(page);
    assert.ok(fields.csrf_token);
    const post = (body: Record<string, string>, c = cookie) =>
      fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie: c, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    // CSRF: a missing or forged token, or another session, is refused.
    assert.equal((await post({ ...fields, csrf_token: 'forged', decision: 'approve' })).status, 403);
    const otherSession = await s.session();
    assert.equal((await post({ ...fields, decision: 'approve' }, `keymint_session=${otherSession.session_token}`)).status, 403);
    assert.equal((await post({ ...fields, scope: 'openid read write', decision: 'approve' })).status, 403);
    const denied = await post({ ...fields, decision: 'deny' });
    assert.equal(denied.status, 302);
    assert.equal(location(denied).searchParams.get('error'), 'access_denied');
    assert.equal(location(denied).searchParams.get('state'), 'xyz');
    const ok = await post({ ...fields, decision: 'approve' });
    assert.equal(ok.status, 302);
    const back = location(ok);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.equal(back.searchParams.get('state'), 'xyz');
    assert.equal(back.searchParams.get('iss'), 'http://localhost:8080');
    assert.match(String(back.searchParams.get('code')), /^km_ac_/);
  });

  test('consent page: says where the user is sent back, the origin of a web or loopback redirect URI and the scheme of a native app\'s, never "null"', async () => {
    const native = await s.client({ grants: ['authorization_code'], scopes: ['read'], redirectUris: [CB, 'com.example.app:/cb', 'http://127.0.0.1:7777/cb'], name: 'Native' });
    const { session_token } = await s.session();
    for (const [uri, shown] of [[CB, 'https://app.example'], ['com.example.app:/cb', 'com.example.app:'], ['http://127.0.0.1:7777/cb', 'http://127.0.0.1:7777']]) {
      const res = await authorizeGet(s, query({ client_id: native.id, redirect_uri: uri! }), `keymint_session=${session_token}`);
      assert.equal(res.status, 200, uri);
      assert.match(await res.text(), new RegExp(`You will be sent back to <code>${shown!.replace(/[.]/g, '\\.')}</code>\\.`), uri);
    }
  });

  test('no session: redirect to the login URL with a return address', async () => {
    const q = query();
    const res = await authorizeGet(s, q);
    assert.equal(res.status, 302);
    const login = location(res);
    assert.equal(`${login.origin}${login.pathname}`, 'https://platform.example/login');
    assert.equal(login.searchParams.get('x'), '1');
    assert.equal(login.searchParams.get('return_to'), `http://localhost:8080/oauth2/authorize?${new URLSearchParams(q)}`);
  });

  test('OIDC prompt=none: no page ever; login_required without a session (login URL or not), consent_required where consent would be asked, else the code', async () => {
    const none = await authorizeGet(s, query({ prompt: 'none' }));
    assert.equal(none.status, 302);
    const noSession = location(none);
    assert.equal(`${noSession.origin}${noSession.pathname}`, 'https://app.example/cb');
    assert.deepEqual(Object.fromEntries(noSession.searchParams), { error: 'login_required', error_description: 'The user is not logged in.', state: 'xyz', iss: 'http://localhost:8080' });
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    const untrusted = location(await authorizeGet(s, query({ prompt: 'none' }), cookie));
    assert.deepEqual(Object.fromEntries(untrusted.searchParams), { error: 'consent_required', error_description: 'The user has not approved this application.', state: 'xyz', iss: 'http://localhost:8080' });
    const silent = location(await authorizeGet(s, query({ prompt: 'none', client_id: trusted.id }), cookie));
    assert.match(String(silent.searchParams.get('code')), /^km_ac_/);
    assert.equal(silent.searchParams.get('state'), 'xyz');
  });

  test('OIDC prompt=login and max_age: a sign-in asked for again goes to the login URL with prompt=login, and comes back without the demand; prompt=none gets login_required', async () => {
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    const signIn = async (q: Record<string, string>) => {
      const res = await authorizeGet(s, q, cookie);
      assert.equal(res.status, 302);
      const login = location(res);
      assert.equal(`${login.origin}${login.pathname}`, 'https://platform.example/login');
      assert.equal(login.searchParams.get('prompt'), 'login');
      return new URL(String(login.searchParams.get('return_to')));
    };
    const forced = query({ client_id: trusted.id, prompt: 'login consent', max_age: '3600' });
    const back = await signIn(forced);
    const expected = { ...forced, prompt: 'consent' } as Record<string, string>;
    delete expected.max_age;
    assert.deepEqual(Object.fromEntries(back.searchParams), expected, 'prompt=login and max_age are dropped, prompt=consent kept');
    assert.equal(`${back.origin}${back.pathname}`, 'http://localhost:8080/oauth2/authorize');
    // max_age: within it the code comes at once; past it the user signs in again.
    const fresh = location(await authorizeGet(s, query({ client_id: trusted.id, max_age: '60' }), cookie));
    assert.match(String(fresh.searchParams.get('code')), /^km_ac_/);
    const start = now;
    now += 61_000;
    try {
      const stale = await signIn(query({ client_id: trusted.id, max_age: '60' }));
      assert.equal(stale.searchParams.get('max_age'), null);
      const silent = location(await authorizeGet(s, query({ client_id: trusted.id, max_age: '60', prompt: 'none' }), cookie));
      assert.deepEqual(Object.fromEntries(silent.searchParams), { error: 'login_required', error_description: 'The user must sign in again.', state: 'xyz', iss: 'http://localhost:8080' });
      const generous = location(await authorizeGet(s, query({ client_id: trusted.id, max_age: '3600' }), cookie));
      assert.match(String(generous.searchParams.get('code')), /^km_ac_/);
    } finally {
      now = start;
    }
  });

  test('OIDC prompt=consent: even a trusted client\'s user is asked', async () => {
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    const res = await authorizeGet(s, query({ client_id: trusted.id, prompt: 'consent', scope: 'openid read' }), cookie);
    assert.equal(res.status, 200);
    const fields = formFields(await res.text());
    assert.equal(fields.prompt, 'consent', 'the form carries the request as sent');
    const approved = await fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'approve' }).toString() });
    assert.equal(approved.status, 302);
    assert.match(String(location(approved).searchParams.get('code')), /^km_ac_/);
  });

  test('OIDC prompt and max_age that cannot be read: invalid_request back to the client', async () => {
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    const cases: Array<[Record<string, string>, string]> = [
      [{ prompt: 'none login' }, 'prompt=none cannot be combined with another value.'],
      [{ prompt: 'create' }, 'prompt takes none, login, consent, select_account.'],
      [{ prompt: 'login  consent' }, 'prompt takes none, login, consent, select_account.'],
      [{ max_age: '-1' }, 'max_age must be a whole number of seconds.'],
      [{ max_age: '1e3' }, 'max_age must be a whole number of seconds.'],
    ];
    for (const [over, description] of cases) {
      const url = location(await authorizeGet(s, query({ client_id: trusted.id, ...over }), cookie));
      assert.deepEqual(Object.fromEntries(url.searchParams), { error: 'invalid_request', error_description: description, state: 'xyz', iss: 'http://localhost:8080' }, JSON.stringify(over));
    }
  });

  test('RFC 6749 §4.1.2.1: an unknown client or unregistered redirect_uri gets an error page, never a redirect', async () => {
    for (const q of [query({ client_id: 'sk_live_unknown' }), query({ client_id: undefined }), query({ redirect_uri: `${CB}/` }), query({ redirect_uri: undefined })]) {
      const res = await authorizeGet(s, q);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /<h1>This request cannot be completed<\/h1>/);
    }
  });

  test('RFC 6749 §4.1.2.1: other errors redirect back with error, error_description and state', async () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'admin' }, 'invalid_scope'],
      [{ scope: 'read\nwrite' }, 'invalid_scope'],
    ];
    for (const [over, error] of cases) {
      const res = await authorizeGet(s, query(over));
      assert.equal(res.status, 302);
      assert.equal(location(res).searchParams.get('error'), error);
      assert.equal(location(res).searchParams.get('state'), 'xyz');
    }
    const dup = await fetch(`${s.url}/oauth2/authorize?${new URLSearchParams(query())}&scope=read&scope=write`, { redirect: 'manual' });
    assert.equal(location(dup).searchParams.get('error'), 'invalid_request');
  });

  test('SES-02 an authorization request sent as a form POST (OIDC Core §3.1.2.1) goes on to the same GET by 303; the GET, with the session cookie, gets the code; a bad one is answered as a GET is', async () => {
    const post = (body: string, cookie?: string) => fetch(`${s.url}/oauth2/authorize`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body,
    });
    const q = query({ client_id: trusted.id, scope: 'openid read', nonce: 'n-1', state: 'a b&c' });
    // A cross-site form post arrives without the SameSite=Lax session cookie.
    const res = await post(new URLSearchParams(q).toString());
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('location'), `http://localhost:8080/oauth2/authorize?${new URLSearchParams(q)}`);
    assert.equal(await res.text(), '');
    const { session_token } = await s.session();
    const got = await fetch(new URL(new URL(res.headers.get('location')!).search, `${s.url}/oauth2/authorize`), { redirect: 'manual', headers: { cookie: `keymint_session=${session_token}` } });
    assert.equal(got.status, 302);
    assert.match(String(location(got).searchParams.get('code')), /^km_ac_/);
    assert.equal(location(got).searchParams.get('state'), 'a b&c');
    // Raw bytes a header cannot carry are sent on encoded.
    const raw = await post(`${new URLSearchParams(q)}&login_hint=a%0D%0Ab`);
    assert.equal(raw.status, 303);
    assert.ok(raw.headers.get('location')!.endsWith('&login_hint=a%0D%0Ab'));
    const unknown = await post(new URLSearchParams(query({ client_id: 'sk_live_unknown' })).toString());
    assert.deepEqual([unknown.status, unknown.headers.get('location')], [400, null]);
    assert.match(await unknown.text(), /<h1>This request cannot be completed<\/h1>/);
    const badScope = await post(new URLSearchParams(query({ scope: 'admin' })).toString());
    assert.equal(badScope.status, 302);
    assert.deepEqual([location(badScope).searchParams.get('error'), location(badScope).searchParams.get('state')], ['invalid_scope', 'xyz']);
    // A consent form's post (it carries decision and csrf_token) is still one: without a valid token, 403.
    const forged = await post(new URLSearchParams({ ...query(), decision: 'approve' }).toString());
    assert.equal(forged.status, 403);
  });

  test('P-03 BCP-04 PKCE is required and must be S256: absent or plain → invalid_request', async () => {
    for (const over of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain' }, { code_challenge_method: undefined }]) {
      const res = await authorizeGet(s, query(over));
      assert.equal(res.status, 302);
      assert.equal(location(res).searchParams.get('error'), 'invalid_request');
    }
  });

  test('P-02 a code_challenge that is not 43 base64url characters → invalid_request', async () => {
    const res = await authorizeGet(s, query({ code_challenge: 'short' }));
    assert.equal(location(res).searchParams.get('error'), 'invalid_request');
  });

  test('C-01 the code lives 60 s', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    now += 60_001;
    try {
      await expectError(await redeem(code, verifier), 'invalid_grant');
    } finally {
      now -= 60_001;
    }
  });

  test('C-02 S-03 a second redemption fails and revokes every token issued from the code', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    const first = await s.json(await redeem(code, verifier));
    assert.ok(first.access_token);
    await expectError(await redeem(code, verifier), 'invalid_grant');
    const intro = await s.postForm('/oauth2/introspect', { token: String(first.access_token) }, { authorization: basic(trusted.id, trusted.secret) });
    assert.deepEqual(await s.json(intro), { active: false });
    const rt = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(first.refresh_token) }, { authorization: basic(trusted.id, trusted.secret) });
    await expectError(rt, 'invalid_grant');
  });

  test('C-03 a code redeemed with another client\'s credentials → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    await expectError(await redeem(code, verifier, other), 'invalid_grant');
    assert.equal((await redeem(code, verifier)).status, 200);
  });

  test('C-04 BCP-05 S-04 redirect_uri must be byte-identical', async () => {
    for (const redirect_uri of [`${CB}/`, 'https://APP.example/cb']) {
      const { code, verifier } = await obtainCode(s, trusted);
      await expectError(await redeem(code, verifier, trusted, { redirect_uri }), 'invalid_grant');
    }
    const { code, verifier } = await obtainCode(s, trusted);
    const missing = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier }, { authorization: basic(trusted.id, trusted.secret) });
    await expectError(missing, 'invalid_grant');
  });

  test('C-05 a public client must send client_id; with it (and PKCE) it redeems without a secret', async () => {
    const pub = await s.client({ type: 'public', grants: ['authorization_code'], scopes: ['read'], redirectUris: [CB], trusted: true });
    const { code, verifier } = await obtainCode(s, pub);
    await expectError(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }), 'invalid_client', 401);
    const again = await obtainCode(s, pub);
    const ok = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: again.code, redirect_uri: CB, code_verifier: again.verifier, client_id: pub.id });
    assert.equal(ok.status, 200);
    assert.equal((await s.json(ok)).refresh_token, undefined); // not allowed the refresh_token grant
  });

  test('C-06 50 parallel redemptions of one code on SQLite → exactly one 200', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    const responses = await Promise.all(Array.from({ length: 50 }, () => redeem(code, verifier)));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    assert.equal(statuses.filter((x) => x === 200).length, 1);
    assert.equal(statuses.filter((x) => x === 400).length, 49);
  });

  test('C-07 a failed attempt by the owner burns the code', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    await expectError(await redeem(code, pkce().verifier), 'invalid_grant');
    await expectError(await redeem(code, verifier), 'invalid_grant');
  });

  test('P-01 a verifier outside the grammar → invalid_request', async () => {
    const { code } = await obtainCode(s, trusted);
    const body = await expectError(await redeem(code, 'too-short'), 'invalid_request');
    assert.equal(body.error_description, 'The code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].');
  });

  test('P-04 P-07 a well-formed wrong verifier → invalid_grant', async () => {
    const { code } = await obtainCode(s, trusted);
    const body = await expectError(await redeem(code, pkce().verifier), 'invalid_grant');
    assert.equal(body.error_description, 'The code_verifier does not match the code_challenge.');
  });

  test('P-05 a missing verifier → invalid_grant', async () => {
    const { code } = await obtainCode(s, trusted);
    const body = await expectError(await redeem(code, undefined), 'invalid_grant');
    assert.equal(body.error_description, 'The code_verifier is required.');
  });

  test('P-08 a confidential client registered with pkce_required=false redeems without PKCE; a challenge it sends still binds', async () => {
    const polarApp = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB], trusted: true, pkceRequired: false });
    assert.equal((await s.keymint.clients.show(polarApp.id)).pkce_required, false);
    assert.equal((await s.keymint.clients.show(trusted.id)).pkce_required, true);
    // Without a challenge: the code is redeemed with the secret alone, and a verifier is a downgrade (BCP-03).
    const bare = await obtainCode(s, polarApp, { pkce: false });
    const rec = await s.keymint.store.codes.find(candidateDigests(s.keymint.keyring.peppers(), bare.code));
    assert.equal(rec?.codeChallenge, null);
    assert.equal(rec?.codeChallengeMethod, null);
    const ok = await redeem(bare.code, undefined, polarApp);
    assert.equal(ok.status, 200, JSON.stringify(await s.json(ok.clone())));
    const downgrade = await obtainCode(s, polarApp, { pkce: false });
    const refused = await expectError(await redeem(downgrade.code, pkce().verifier, polarApp), 'invalid_grant');
    assert.equal(refused.error_description, 'The code was issued without a code_challenge.');
    // With a challenge: held to it like any other client (P-05, P-04).
    const bound = await obtainCode(s, polarApp);
    assert.equal((await expectError(await redeem(bound.code, undefined, polarApp), 'invalid_grant')).error_description, 'The code_verifier is required.');
    const bound2 = await obtainCode(s, polarApp);
    assert.equal((await redeem(bound2.code, bound2.verifier, polarApp)).status, 200);
    // A challenge method without a challenge, or plain, is still refused at the authorization endpoint.
    for (const over of [{ code_challenge: undefined }, { code_challenge_method: 'plain' }, { code_challenge_method: undefined }]) {
      const res = await authorizeGet(s, query({ client_id: polarApp.id, ...over }));
      assert.equal(location(res).searchParams.get('error'), 'invalid_request', JSON.stringify(over));
    }
  });

  test('P-08 PKCE stays required by default and for every public client: pkce_required=false is refused for one', async () => {
    await assert.rejects(s.client({ type: 'public', grants: ['authorization_code'], redirectUris: [CB], pkceRequired: false }), {
      name: 'ClientInputError', field: 'pkce_required', message: 'a public client must use PKCE (RFC 9700 §2.1.1)',
    });
    const res = await s.admin('POST', '/clients', { name: 'spa', type: 'public', grants: ['authorization_code'], redirect_uris: [CB], pkce_required: false });
    const body = await s.json(res);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.error, 'invalid_request');
    assert.equal(body.field, 'pkce_required');
    const wrongType = await s.admin('POST', '/clients', { name: 'app', grants: ['authorization_code'], redirect_uris: [CB], pkce_required: 'no' });
    assert.equal(wrongType.status, 400);
    assert.equal((await s.json(wrongType)).field, 'pkce_required');
    const before = (await s.keymint.clients.list()).length;
    const created = await s.admin('POST', '/clients', { name: 'polar app', grants: ['authorization_code'], redirect_uris: [CB], pkce_required: false });
    const view = await s.json(created);
    assert.equal(created.status, 201, JSON.stringify(view));
    assert.equal(view.pkce_required, false);
    assert.equal((await s.keymint.clients.list()).length, before + 1);
  });

  test('P-06 the challenge cannot be extracted from the code; only a digest is stored', async () => {
    const { code, verifier } = await obtainCode(s, trusted);
    assert.match(code, /^km_ac_[0-9A-Za-z]{43}$/); // random: nothing of the request in it
    const rec = await s.keymint.store.codes.find(candidateDigests(s.keymint.keyring.peppers(), code));
    assert.ok(rec);
    assert.match(rec.digest, /^p[0-9A-Za-z]+:[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(rec).includes(code));
    assert.ok(!code.includes(String(rec.codeChallenge)) && !JSON.stringify(rec).includes(verifier));
  });

  test('BCP-01 BCP-10 M-03 M-07 metadata advertises the code flow, PKCE S256, introspection and revocation', async () => {
    const meta = await s.json(await fetch(`${s.url}/.well-known/openid-configuration`));
    assert.equal(meta.authorization_endpoint, 'http://localhost:8080/oauth2/authorize');
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(meta.scopes_supported, ['openid']);
    assert.deepEqual(meta.prompt_values_supported, ['none', 'login', 'consent', 'select_account']);
    assert.equal(meta.introspection_endpoint, 'http://localhost:8080/oauth2/introspect');
    assert.equal(meta.revocation_endpoint, 'http://localhost:8080/oauth2/revoke');
    assert.deepEqual(meta.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    assert.deepEqual(meta.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
    assert.equal(meta.userinfo_endpoint, 'http://localhost:8080/oauth2/userinfo');
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(meta.subject_types_supported, ['public']);
    assert.ok((meta.grant_types_supported as string[]).includes('authorization_code'));
  });

  test('polar: code flow at /v1/oauth2/authorize → polar_at_u_ and polar_rt_u_ with all six fields', async () => {
    const { code, verifier } = await obtainCode(s, trusted, { path: '/v1/oauth2/authorize', scope: 'openid' });
    const res = await redeem(code, verifier, trusted, {}, '/v1/oauth2/token');
    const body = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token']);
    assert.match(String(body.access_token), /^polar_at_u_/);
    assert.match(String(body.refresh_token), /^polar_rt_u_/);
  });

  test('polar: dpop_jkt is ignored at /v1/oauth2/authorize (its token endpoint reads no DPoP proof), so the code redeems as Bearer', async () => {
    // A well-formed thumbprint would otherwise bind a code the polar token endpoint could never
    // redeem; a malformed one would otherwise be invalid_request. Polar's own server ignores both.
    for (const dpopJkt of ['0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', 'not a thumbprint']) {
      const { code, verifier } = await obtainCode(s, trusted, { path: '/v1/oauth2/authorize', extra: { dpop_jkt: dpopJkt } });
      const res = await redeem(code, verifier, trusted, {}, '/v1/oauth2/token');
      const body = await s.json(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.token_type, 'Bearer');
    }
  });
});

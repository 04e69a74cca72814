/**
 * The device authorization grant (RFC 8628) on the wire: the device authorization endpoint's answers
 * and errors, the token endpoint's polling answers (authorization_pending, slow_down, access_denied,
 * expired_token, one issuance), the verification page with the platform session (approve, deny, a
 * wrong code, an expired code, the wrong-code limit, CSRF), and one issuance under concurrent polls
 * on memory, SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { answerDevice, basic, devicePage, devicePost, formFields, startGrantServer, USER, type GrantServer } from './support.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const ISSUER = 'http://localhost:8080';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const NO_STORE_JSON = { 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json;charset=UTF-8' };

let s: GrantServer;
let clock = Date.parse('2026-12-01T12:00:00Z');
let cli: { id: string; secret: string };
let pub: { id: string; secret: string };
before(async () => {
  s = await startGrantServer({ issuer: ISSUER }, { now: () => clock });
  cli = await s.client({ name: 'Acme CLI', grants: [GRANT, 'refresh_token'], scopes: ['openid', 'invoices:read', 'invoices:write'] });
  pub = await s.client({ name: 'Acme Public CLI', type: 'public', grants: [GRANT], scopes: ['invoices:read'] });
});
after(() => s.close());

const headersOf = (res: Response, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, res.headers.get(n)]));
const authorize = (form: Record<string, string>, client = cli) => s.postForm('/oauth2/device_authorization', form, { authorization: basic(client.id, client.secret) });
const poll = (deviceCode: string, client: { id: string; secret: string } = cli) =>
  s.postForm('/oauth2/token', { grant_type: GRANT, device_code: deviceCode }, client === pub ? {} : { authorization: basic(client.id, client.secret) }).then(async (res) => ({ res, body: (await res.json()) as Record<string, unknown> }));
const pollPublic = (deviceCode: string) =>
  s.postForm('/oauth2/token', { grant_type: GRANT, device_code: deviceCode, client_id: pub.id }).then(async (res) => ({ res, body: (await res.json()) as Record<string, unknown> }));

async function start(form: Record<string, string> = { scope: 'openid invoices:read' }, client = cli) {
  const res = await authorize(form, client);
  assert.equal(res.status, 200);
  return (await res.json()) as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; expires_in: number; interval: number };
}

/** A new session of the user: its cookie. */
const cookieOf = async () => `keymint_session=${(await s.session()).session_token}`;
const page = (query: string, cookie?: string) => devicePage(s, query, cookie);
const post = (form: Record<string, string>, cookie: string) => devicePost(s, form, cookie);
/** The user's part: the verification page with the code, then the consent form answered. */
const answer = async (userCode: string, decision: 'approve' | 'deny', cookie?: string) => answerDevice(s, userCode, decision, cookie ?? (await cookieOf()));

describe('device authorization endpoint', () => {
  test('DEV-01 200 with the two codes, the verification URIs, expires_in and interval; no-store; only digests stored', async () => {
    const res = await authorize({ scope: 'openid invoices:read' });
    assert.equal(res.status, 200);
    assert.deepEqual(headersOf(res, Object.keys(NO_STORE_JSON)), NO_STORE_JSON);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete']);
    assert.match(String(body.device_code), /^km_dc_[0-9A-Za-z]{43}$/);
    assert.match(String(body.user_code), USER_CODE);
    assert.equal(body.verification_uri, `${ISSUER}/oauth2/device`);
    assert.equal(body.verification_uri_complete, `${ISSUER}/oauth2/device?user_code=${body.user_code}`);
    assert.equal(body.expires_in, 600);
    assert.equal(body.interval, 5);
    const { store, keyring } = s.keymint;
    const rec = await store.deviceCodes.find(candidateDigests(keyring.peppers(), String(body.device_code)));
    assert.ok(rec);
    assert.equal(rec.status, 'pending');
    assert.equal(rec.scope, 'openid invoices:read');
    assert.ok(!rec.digest.includes(String(body.device_code)) && !rec.userCode.includes(String(body.user_code).replace('-', '')));
    assert.deepEqual(await store.deviceCodes.findByUserCode(candidateDigests(keyring.peppers(), String(body.user_code).replace('-', ''))), rec);
  });

  test('DEV-01 a public client with client_id alone; without a scope, the client user scopes', async () => {
    const res = await s.postForm('/oauth2/device_authorization', { client_id: pub.id });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { device_code: string };
    const rec = await s.keymint.store.deviceCodes.find(candidateDigests(s.keymint.keyring.peppers(), body.device_code));
    assert.equal(rec?.scope, 'invoices:read');
  });

  test('DEV-02 errors, exactly: unauthenticated, not allowed the grant, a scope not allowed, a method other than POST', async () => {
    const wrong = await s.postForm('/oauth2/device_authorization', {}, { authorization: basic(cli.id, 'ks_wrong') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="keymint"');
    assert.deepEqual(await wrong.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' });
    const none = await s.postForm('/oauth2/device_authorization', {});
    assert.equal(none.status, 401);
    assert.equal((await none.json() as { error: string }).error, 'invalid_client');
    const other = await s.client({ grants: ['client_credentials'], scopes: ['invoices:read'] });
    const refused = await authorize({}, other);
    assert.equal(refused.status, 400);
    assert.deepEqual(headersOf(refused, Object.keys(NO_STORE_JSON)), NO_STORE_JSON);
    assert.deepEqual(await refused.json(), { error: 'unauthorized_client', error_description: 'The client is not allowed to use the device authorization grant.' });
    const scope = await authorize({ scope: 'invoices:delete' });
    assert.equal(scope.status, 400);
    assert.deepEqual(await scope.json(), { error: 'invalid_scope', error_description: 'The requested scope is not allowed for this client.' });
    const get = await fetch(`${s.url}/oauth2/device_authorization`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });
});

describe('token endpoint, polling', () => {
  test('DEV-03 authorization_pending, then slow_down for a poll within the interval, which grows by 5 s', async () => {
    const d = await start();
    const first = await poll(d.device_code);
    assert.equal(first.res.status, 400);
    assert.deepEqual(headersOf(first.res, Object.keys(NO_STORE_JSON)), NO_STORE_JSON);
    assert.deepEqual(first.body, { error: 'authorization_pending', error_description: 'The user has not yet approved the request.' });
    clock += 4_000;
    const fast = await poll(d.device_code);
    assert.equal(fast.res.status, 400);
    assert.deepEqual(fast.body, { error: 'slow_down', error_description: 'Polling too fast: wait at least 10 seconds between requests.' });
    clock += 9_000; // within the new 10 s
    assert.deepEqual((await poll(d.device_code)).body.error, 'slow_down');
    clock += 15_000; // the interval is 15 s now
    assert.deepEqual((await poll(d.device_code)).body, { error: 'authorization_pending', error_description: 'The user has not yet approved the request.' });
  });

  test('DEV-03 invalid_request without device_code; invalid_grant for an unknown code, a malformed one, or another client', async () => {
    const d = await start();
    const missing = await s.postForm('/oauth2/token', { grant_type: GRANT }, { authorization: basic(cli.id, cli.secret) });
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'The device_code parameter is required.' });
    const invalid = { error: 'invalid_grant', error_description: 'The device code is invalid, expired or already used.' };
    assert.deepEqual((await poll('km_dc_nope')).body, invalid);
    assert.deepEqual((await poll(`${d.device_code.slice(0, -1)}${d.device_code.endsWith('A') ? 'B' : 'A'}`)).body, invalid);
    const other = await s.client({ grants: [GRANT], scopes: ['invoices:read'] });
    const stolen = await poll(d.device_code, other);
    assert.equal(stolen.res.status, 400);
    assert.deepEqual(stolen.body, invalid);
    const notAllowed = await s.client({ grants: ['client_credentials'] });
    assert.deepEqual((await poll(d.device_code, notAllowed)).body, { error: 'unauthorized_client', error_description: 'The client is not allowed to use this grant type.' });
  });

  test('DEV-04 approved: one issuance (access, refresh and ID token), then invalid_grant', async () => {
    const d = await start();
    const done = await answer(d.user_code, 'approve');
    assert.equal(done.status, 200);
    assert.match(await done.text(), /Device connected/);
    const [event] = await s.keymint.store.audit.list(1);
    assert.deepEqual({ ...event, actor: event?.actor.replace(/^session:.+$/, 'session:…') }, {
      at: clock, actor: 'session:…', action: 'device.approve', target: cli.id, detail: { subject: USER, subject_type: 'user', scope: 'openid invoices:read' },
    });
    clock += 6_000;
    const { res, body } = await poll(d.device_code);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(headersOf(res, Object.keys(NO_STORE_JSON)), NO_STORE_JSON);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'openid invoices:read');
    assert.match(String(body.refresh_token), /^km_rt_/);
    const claims = JSON.parse(Buffer.from(String(body.access_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.sub, USER);
    assert.equal(claims.client_id, cli.id);
    assert.equal(claims.sub_type, 'user');
    const id = JSON.parse(Buffer.from(String(body.id_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(id.sub, USER);
    assert.equal(id.aud, cli.id);
    clock += 6_000;
    assert.deepEqual((await poll(d.device_code)).body, { error: 'invalid_grant', error_description: 'The device code is invalid, expired or already used.' });
    // The refresh token works like the code flow's.
    const refreshed = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(body.refresh_token) }, { authorization: basic(cli.id, cli.secret) });
    assert.equal(refreshed.status, 200);
  });

  test('DEV-04 a public client polls with client_id; no refresh token without the refresh_token grant, no ID token without openid', async () => {
    const res = await s.postForm('/oauth2/device_authorization', { client_id: pub.id });
    const d = (await res.json()) as { device_code: string; user_code: string };
    assert.equal((await answer(d.user_code, 'approve')).status, 200);
    const { res: tok, body } = await pollPublic(d.device_code);
    assert.equal(tok.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
  });

  test('DEV-05 denied: access_denied (400) at every poll', async () => {
    const d = await start();
    const done = await answer(d.user_code, 'deny');
    assert.equal(done.status, 200);
    assert.match(await done.text(), /Request denied/);
    assert.equal((await s.keymint.store.audit.list(1))[0]?.action, 'device.deny');
    for (let i = 0; i < 2; i++) {
      clock += 6_000;
      const { res, body } = await poll(d.device_code);
      assert.equal(res.status, 400);
      assert.deepEqual(body, { error: 'access_denied', error_description: 'The user denied the request.' });
    }
  });

  test('DEV-05 expired: expired_token, and the page says the code expired', async () => {
    const d = await start();
    clock += 600_000;
    const { res, body } = await poll(d.device_code);
    assert.equal(res.status, 400);
    assert.deepEqual(body, { error: 'expired_token', error_description: 'The device code has expired; start again.' });
    const shown = await page(`?user_code=${d.user_code}`, await cookieOf());
    assert.equal(shown.status, 400);
    assert.match(await shown.text(), /This code has expired\. Start again on your device to get a new one\./);
  });
});

describe('verification page', () => {
  test('DEV-06 without a session: an error page, or the platform login with return_to when configured', async (t) => {
    const res = await page('?user_code=BCDF-GHJK');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(await res.text(), /Sign in first, then open this page again\./);
    const withLogin = await startGrantServer({ issuer: ISSUER, loginUrl: 'https://platform.example/login' });
    t.after(() => withLogin.close());
    const redirected = await fetch(`${withLogin.url}/oauth2/device?user_code=BCDF-GHJK`, { redirect: 'manual' });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get('location'), `https://platform.example/login?return_to=${encodeURIComponent(`${ISSUER}/oauth2/device?user_code=BCDF-GHJK`)}`);
  });

  test('DEV-06 with a session: the code form; a code typed in lower case without its dash finds the request; the consent page shows it', async () => {
    const cookie = await cookieOf();
    const form = await page('', cookie);
    assert.equal(form.status, 200);
    assert.match(await form.text(), /<input id="user_code" name="user_code"/);
    const d = await start();
    const shown = await page(`?user_code=${d.user_code.replace('-', '').toLowerCase()}`, cookie);
    assert.equal(shown.status, 200);
    const html = await shown.text();
    assert.match(html, new RegExp(`<strong id="user-code">${d.user_code}</strong>`));
    assert.match(html, /Authorize <strong>Acme CLI<\/strong>\?/);
    assert.match(html, /<code>invoices:read<\/code>/);
    assert.deepEqual(Object.keys(formFields(html)).sort(), ['csrf_token', 'user_code']);
  });

  test('DEV-06 a wrong code: 400 and the form again with a clear message, never a 5xx', async () => {
    for (const typed of ['BCDF-GHJK', 'AAAA-AAAA', 'x'.repeat(5000), '%00', '<script>']) {
      // A session each: this test is not about the limit.
      const res = await page(`?${new URLSearchParams({ user_code: typed })}`, await cookieOf());
      assert.equal(res.status, 400, typed.slice(0, 10));
      const html = await res.text();
      assert.match(html, /That code is not valid\. Check the code your device shows and type it again\./);
      assert.ok(!html.includes('<script>'));
    }
  });

  test('DEV-07 wrong codes are limited: the fifth of a session locks it (429, Retry-After), the right code included', async () => {
    const cookie = await cookieOf();
    const d = await start();
    for (let i = 1; i <= 4; i++) assert.equal((await page('?user_code=BCDF-GHJK', cookie)).status, 400, `attempt ${i}`);
    const fifth = await page('?user_code=BCDF-GHJK', cookie);
    assert.equal(fifth.status, 429);
    assert.equal(fifth.headers.get('retry-after'), '60');
    assert.match(await fifth.text(), /Too many wrong codes\. Wait 60 seconds, then try again\./);
    const right = await page(`?user_code=${d.user_code}`, cookie);
    assert.equal(right.status, 429);
    // Another session on the same address is not held up: the address is locked only past 20 wrong codes.
    assert.equal((await page(`?user_code=${d.user_code}`, await cookieOf())).status, 200);
    // A minute later the session may try again; its next wrong code locks it for two.
    clock += 60_000;
    assert.equal((await page(`?user_code=${d.user_code}`, cookie)).status, 200);
    const sixth = await page('?user_code=BCDF-GHJK', cookie);
    assert.equal(sixth.status, 429);
    assert.equal(sixth.headers.get('retry-after'), '120');
  });

  test('DEV-07 the forged or replayed form: 403, nothing decided', async () => {
    const d = await start();
    const cookie = await cookieOf();
    const shown = await page(`?user_code=${d.user_code}`, cookie);
    const fields = formFields(await shown.text());
    const forged = await post({ ...fields, csrf_token: 'x', decision: 'approve' }, cookie);
    assert.equal(forged.status, 403);
    const otherSession = await post({ ...fields, decision: 'approve' }, await cookieOf());
    assert.equal(otherSession.status, 403);
    const rec = await s.keymint.store.deviceCodes.find(candidateDigests(s.keymint.keyring.peppers(), d.device_code));
    assert.equal(rec?.status, 'pending');
    assert.equal((await post({ ...fields, decision: 'approve' }, cookie)).status, 200);
    const again = await post({ ...fields, decision: 'deny' }, cookie);
    assert.equal(again.status, 400);
    assert.match(await again.text(), /This code has already been used\./);
  });
});

describe('consent', () => {
  test('DEV-09 the approval is the user consent; withdrawn before the poll, access_denied and nothing issued', async () => {
    const app = await s.client({ name: 'Untrusted CLI', grants: [GRANT], scopes: ['invoices:read'] });
    const d = await start({ scope: 'invoices:read' }, app);
    assert.equal((await answer(d.user_code, 'approve')).status, 200);
    const consent = await s.keymint.store.consents.get(app.id, 'user', USER);
    assert.equal(consent?.scope, 'invoices:read');
    assert.equal(await s.keymint.store.consents.revoke(app.id, 'user', USER), true);
    clock += 6_000;
    const { res, body } = await poll(d.device_code, app);
    assert.equal(res.status, 400);
    assert.deepEqual(body, { error: 'access_denied', error_description: 'The user has withdrawn the approval of this application.' });
    const rec = await s.keymint.store.deviceCodes.find(candidateDigests(s.keymint.keyring.peppers(), d.device_code));
    assert.equal(rec?.status, 'approved', 'nothing was redeemed');
    // Approved again (a new request): it issues.
    const again = await start({ scope: 'invoices:read' }, app);
    assert.equal((await answer(again.user_code, 'approve')).status, 200);
    assert.equal((await poll(again.device_code, app)).res.status, 200);
  });
});

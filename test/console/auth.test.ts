/**
 * The console's sign-in and sessions over HTTP against a real server: cookie attributes, session
 * fixation, idle and absolute expiry, lockout, CSRF, roles, one-time links, headers, audit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerDigest } from '../../src/console/users.ts';
import { hashParameters, verifyPassword } from '../../src/console/password.ts';
import { ConsoleUsers } from '../../src/console/index.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { addUser, Browser, PASSWORD, signedIn } from './support.ts';

const SESSION = '__Host-keymint_console';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HOME = '/console/clients';

async function consoleServer(t: { after(fn: () => Promise<void>): void }, flags: Record<string, string> = {}, now?: () => number): Promise<TestServer> {
  const server = await startServer({ console: 'true', ...flags }, now ? { now } : {});
  t.after(() => server.close());
  return server;
}

const auditOf = async (server: TestServer) => (await server.keymint.store.audit.list(100)).map((e) => `${e.actor} ${e.action} ${e.target}`);

test('the console is off by default: nothing is served under /console', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  for (const path of ['/console', '/console/', '/console/sign-in', '/console/assets/console.css']) {
    const res = await fetch(server.url + path, { redirect: 'manual' });
    assert.equal(res.status, 404, path);
    assert.equal((await res.json() as { error: string }).error, 'not_found');
  }
});

test('CO-02 the session cookie is __Host-, HttpOnly, Secure, SameSite=Strict, Path=/, and holds no user data', async (t) => {
  const server = await consoleServer(t);
  await addUser(server, 'ann', 'admin');
  const b = new Browser(server.url);
  const res = await b.signIn('ann', PASSWORD);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/console/');
  const [cookie] = res.headers.getSetCookie();
  assert.match(cookie!, /^__Host-keymint_console=kmc_[A-Za-z0-9]{43}; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/);
  const value = b.jar.get(SESSION)!;
  // Stored by digest only.
  const stored = await server.keymint.store.consoleSessions.find(bearerDigest(value));
  assert.equal(stored?.user, 'ann');
  assert.equal(await server.keymint.store.consoleSessions.find(value), undefined);
  assert.equal((await b.get('/console/')).headers.get('location'), HOME);
  const home = await b.get(HOME);
  assert.equal(home.status, 200);
  assert.match(await home.text(), /ann <span class="badge badge-role">admin<\/span>/);
});

test('CO-02 session fixation: a cookie planted before sign-in is not adopted; signing in again replaces and ends the old session', async (t) => {
  const server = await consoleServer(t);
  await addUser(server, 'ann', 'admin');
  const b = new Browser(server.url);
  const planted = `kmc_${'A'.repeat(43)}`;
  b.jar.set(SESSION, planted);
  assert.equal((await b.get(HOME)).status, 303, 'a planted value is no session');
  assert.equal((await b.signIn('ann', PASSWORD)).status, 303);
  const first = b.jar.get(SESSION)!;
  assert.notEqual(first, planted);
  const attacker = new Browser(server.url);
  attacker.jar.set(SESSION, planted);
  assert.equal((await attacker.get(HOME)).status, 303, 'the planted value still signs nobody in');
  // A second sign-in from the same browser: a new id, and the old one ends.
  const old = new Browser(server.url);
  old.jar.set(SESSION, first);
  assert.equal((await old.get(HOME)).status, 200);
  assert.equal((await b.signIn('ann', PASSWORD)).status, 303);
  const second = b.jar.get(SESSION)!;
  assert.notEqual(second, first);
  assert.equal((await old.get(HOME)).status, 303, 'the replaced session is over');
  assert.equal((await b.get(HOME)).status, 200);
});

test('CO-02 a session ends after the idle lifetime and at its absolute end, whatever its use', async (t) => {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const server = await consoleServer(t, { consoleIdleTtl: '600', consoleSessionTtl: '3600' }, () => clock);
  const b = await signedIn(server, 'ann', 'admin');
  clock += 599_000;
  assert.equal((await b.get(HOME)).status, 200, 'within the idle lifetime');
  clock += 599_000;
  assert.equal((await b.get(HOME)).status, 200, 'the last request restarted the idle clock');
  clock += 601_000;
  const idle = await b.get(HOME);
  assert.equal(idle.status, 303);
  assert.equal(idle.headers.get('location'), '/console/sign-in');

  const c = new Browser(server.url);
  assert.equal((await c.signIn('ann', PASSWORD)).status, 303);
  for (let i = 0; i < 6; i++) {
    clock += 590_000;
    assert.equal((await c.get(HOME)).status, 200, `step ${i}`);
  }
  clock += 60_000; // 3600 s after sign-in, used all along
  assert.equal((await c.get(HOME)).status, 303);
});

test('CO-01 passwords are stored as scrypt with N ≥ 2^15 and their parameters; wrong passwords fail', async (t) => {
  const server = await consoleServer(t);
  await addUser(server, 'ann', 'admin');
  const stored = (await server.keymint.store.consoleUsers.get('ann'))!.passwordHash;
  assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(hashParameters(stored), { n: 32768, r: 8, p: 1 });
  assert.ok(!stored.includes(PASSWORD));
  assert.equal(await verifyPassword(PASSWORD, stored), true);
  assert.equal(await verifyPassword(`${PASSWORD}x`, stored), false);
  assert.equal(await verifyPassword(PASSWORD, undefined), false);
});

test('CO-01 lockout: after 5 failures the name is locked (a correct password too) and answers the same for an unknown name; it ends with time', async (t) => {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const server = await consoleServer(t, {}, () => clock);
  await addUser(server, 'ann', 'admin');
  const b = new Browser(server.url);
  for (const name of ['ann', 'nobody']) {
    for (let i = 0; i < 5; i++) {
      const res = await b.signIn(name, 'wrong password!!');
      assert.equal(res.status, 401, `${name} #${i}`);
      assert.match(await res.text(), /Wrong username or password\./);
    }
    const locked = await b.signIn(name, name === 'ann' ? PASSWORD : 'wrong password!!');
    assert.equal(locked.status, 429, name);
    assert.equal(locked.headers.get('retry-after'), '30');
    assert.match(await locked.text(), /Too many failed sign-ins\. Try again in 30 seconds\./);
    assert.equal(b.jar.get(SESSION), undefined);
  }
  clock += 31_000;
  assert.equal((await b.signIn('ann', PASSWORD)).status, 303, 'the lock ended');
  const audit = await auditOf(server);
  assert.equal(audit.filter((a) => a === 'console:ann console.sign_in_failed ann').length, 5);
  assert.ok(audit.includes('console:ann console.sign_in_locked ann'));
  assert.ok(audit.includes('console:nobody console.sign_in_failed nobody'));
});

test('CO-01 lockout per address: 20 failures over many names lock the address for every name', async (t) => {
  const server = await consoleServer(t);
  await addUser(server, 'ann', 'admin');
  const b = new Browser(server.url);
  for (let i = 0; i < 20; i++) assert.equal((await b.signIn(`guess${i}`, 'wrong password!!')).status, 401);
  assert.equal((await b.signIn('ann', PASSWORD)).status, 429);
});

test('CO-03 CSRF: a POST without the token, with a wrong one, or with another session’s token is refused and changes nothing', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const bob = await signedIn(server, 'bob', 'admin');
  const { id } = await server.client();
  const bobsToken = await bob.csrf();
  for (const form of [{}, { csrf: 'x' }, { csrf: bobsToken }] as Array<Record<string, string>>) {
    const res = await ann.post(`/console/clients/${id}/disable`, form);
    assert.equal(res.status, 403, JSON.stringify(form));
    assert.match(await res.text(), /The form has expired or did not come from this console/);
  }
  assert.equal((await server.keymint.clients.show(id)).status, 'active');
  // A JSON body cannot carry the form's token either.
  const json = await ann.post(`/console/clients/${id}/disable`, {}, { 'content-type': 'application/json' });
  assert.equal(json.status, 403);
  // Sign-out is a POST like any other.
  assert.equal((await ann.post('/console/sign-out', {})).status, 403);
  assert.equal((await ann.get(HOME)).status, 200);
  // The right token works.
  const ok = await ann.post(`/console/clients/${id}/disable`, { csrf: await ann.csrf() });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), `/console/clients/${id}?done=disabled`);
  assert.equal((await server.keymint.clients.show(id)).status, 'disabled');
  assert.ok((await auditOf(server)).includes(`console:ann client.disable ${id}`));
});

test('CO-03 a POST from another origin is refused even with a valid token; the sign-in form is bound to its pre-session cookie', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const { id } = await server.client();
  const csrf = await ann.csrf();
  assert.equal((await ann.post(`/console/clients/${id}/disable`, { csrf }, { origin: 'https://evil.example' })).status, 403);
  assert.equal((await ann.post(`/console/clients/${id}/disable`, { csrf }, { 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.equal((await ann.post(`/console/clients/${id}/disable`, { csrf }, { 'sec-fetch-site': 'same-site', origin: 'null' })).status, 403);
  assert.equal((await server.keymint.clients.show(id)).status, 'active');
  // What a browser sends from a console page under `Referrer-Policy: no-referrer`: accepted.
  assert.equal((await ann.post(`/console/clients/${id}/disable`, { csrf }, { 'sec-fetch-site': 'same-origin', origin: 'null' })).status, 303);
  // Login CSRF: a sign-in form's token does not work with another browser's pre-session cookie.
  await addUser(server, 'eve', 'viewer');
  const attacker = new Browser(server.url);
  const token = await attacker.csrf('/console/sign-in');
  const victim = new Browser(server.url);
  await victim.get('/console/sign-in');
  const res = await victim.post('/console/sign-in', { csrf: token, name: 'eve', password: PASSWORD });
  assert.equal(res.status, 403);
  assert.equal(victim.jar.get(SESSION), undefined);
});

test('CO-03 a viewer reads but every change is refused on the server (403, audited, nothing changed), whatever the page shows', async (t) => {
  const server = await consoleServer(t);
  const viewer = await signedIn(server, 'vic', 'viewer');
  const { id } = await server.client();
  const kids = server.keymint.keyring.describe().map((k) => k.kid).sort();
  assert.equal((await viewer.get(HOME)).status, 200);
  assert.equal((await viewer.get('/console/api/traffic')).status, 200);
  const csrf = await viewer.csrf();
  for (const path of [`/console/clients/${id}/disable`, `/console/clients/${id}/delete`, '/console/keys/rotate']) {
    const res = await viewer.post(path, { csrf });
    assert.equal(res.status, 403, path);
    assert.match(await res.text(), /This needs the admin role; you are signed in as a viewer\./);
  }
  assert.equal((await server.keymint.clients.show(id)).status, 'active');
  assert.deepEqual(server.keymint.keyring.describe().map((k) => k.kid).sort(), kids);
  const audit = await auditOf(server);
  assert.equal(audit.filter((a) => a === 'console:vic console.refused vic').length, 3);
});

test('one-time link: signs in once; a second use, an expired link and a made-up one are refused; the GET spends nothing', async (t) => {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const server = await consoleServer(t, {}, () => clock);
  const users = new ConsoleUsers({ store: server.keymint.store, now: () => clock });
  const link = await users.link(undefined, 900, 'cli');
  assert.equal(link.user, 'admin');
  assert.equal(link.created, true);
  assert.match(link.token, /^kml_[A-Za-z0-9]{43}$/);
  const b = new Browser(server.url);
  // Fetching the page (as a link preview would) twice does not use the link.
  for (let i = 0; i < 2; i++) {
    const page = await b.get(`/console/link?token=${link.token}`);
    assert.equal(page.status, 200);
  }
  // The password is checked before the link is spent.
  const csrf = await b.csrf(`/console/link?token=${link.token}`);
  const short = await b.post('/console/link', { csrf, token: link.token, password: 'short', confirm: 'short' });
  assert.equal(short.status, 400);
  assert.match(await short.text(), /a password must have at least 12 characters/);
  const differ = await b.post('/console/link', { csrf, token: link.token, password: PASSWORD, confirm: `${PASSWORD}!` });
  assert.equal(differ.status, 400);
  assert.match(await differ.text(), /The two passwords differ\./);
  const used = await b.redeem(link.token);
  assert.equal(used.status, 303);
  assert.equal((await b.get(HOME)).status, 200);
  // The password chosen there now signs in.
  assert.equal((await new Browser(server.url).signIn('admin', PASSWORD)).status, 303);
  const again = new Browser(server.url);
  const second = await again.redeem(link.token, 'another long password');
  assert.equal(second.status, 400);
  assert.match(await second.text(), /This link cannot be used/);
  assert.equal(again.jar.get(SESSION), undefined);
  assert.equal((await new Browser(server.url).signIn('admin', 'another long password')).status, 401, 'a spent link changes nothing');

  const late = await users.link('admin', 60, 'cli');
  clock += 60_000;
  assert.equal((await again.redeem(late.token)).status, 400);
  assert.equal((await again.redeem(`kml_${'z'.repeat(43)}`)).status, 400);
  // Stored by digest only.
  assert.equal(await server.keymint.store.consoleLinks.consume(link.token, clock), undefined);
  const audit = await auditOf(server);
  assert.ok(audit.includes('console:admin console.sign_in admin'));
  assert.ok(audit.includes('console:admin console.password_set admin'));
  assert.ok(audit.includes('cli console.link_create admin'));
});

test('one-time link: two browsers redeeming it at once, exactly one is signed in', async (t) => {
  const server = await consoleServer(t);
  const link = await new ConsoleUsers({ store: server.keymint.store }).link(undefined, 900, 'cli');
  const browsers = Array.from({ length: 5 }, () => new Browser(server.url));
  const tokens = await Promise.all(browsers.map((b) => b.csrf(`/console/link?token=${link.token}`)));
  const results = await Promise.all(browsers.map((b, i) => b.post('/console/link', { csrf: tokens[i]!, token: link.token, password: PASSWORD, confirm: PASSWORD })));
  assert.deepEqual(results.map((r) => r.status).sort(), [303, 400, 400, 400, 400]);
});

test('CO-04 every console answer carries the CSP and security headers: pages, redirects, errors, assets, JSON', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const anon = new Browser(server.url);
  const answers = [
    await ann.get(HOME),
    await ann.get('/console/keys'),
    await ann.get('/console/api/traffic'),
    await ann.get('/console/no-such-page'),
    await ann.get('/console/assets/console.css'),
    await anon.get('/console/'),
    await anon.get('/console'),
    await anon.get('/console/sign-in'),
    await anon.get('/console/api/traffic'),
  ];
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 404, 200, 303, 303, 200, 401]);
  for (const res of answers) {
    assert.equal(res.headers.get('content-security-policy'), CSP, res.url);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  }
  const page = await (await ann.get(HOME)).text();
  assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)/, 'no inline script');
  assert.doesNotMatch(page, /\sstyle=|<style/, 'no inline style');
  assert.doesNotMatch(page, /https?:\/\//, 'nothing from another origin');
});

test('sign-out ends the session on the server and is audited', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const value = ann.jar.get(SESSION)!;
  const res = await ann.post('/console/sign-out', { csrf: await ann.csrf() });
  assert.equal(res.status, 303);
  assert.equal(ann.jar.get(SESSION), undefined);
  const replay = new Browser(server.url);
  replay.jar.set(SESSION, value);
  assert.equal((await replay.get(HOME)).status, 303);
  const audit = await auditOf(server);
  assert.ok(audit.includes('console:ann console.sign_in ann'));
  assert.ok(audit.includes('console:ann console.sign_out ann'));
});

test('removing a user ends their sessions at once', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  await new ConsoleUsers({ store: server.keymint.store }).remove('ann', 'cli');
  assert.equal((await ann.get(HOME)).status, 303);
});

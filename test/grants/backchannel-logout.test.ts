/**
 * OpenID Connect Back-Channel Logout 1.0 against a started server: apps log in by the code flow (and
 * the device flow), the user's session ends (the end-session endpoint, the admin API), and a real HTTP
 * receiver on 127.0.0.1 gets the logout tokens, which are verified with jose against the server's JWKS,
 * every header and claim checked. Only apps that got an ID token in the ended session are told; a
 * failing or hanging receiver neither breaks nor delays the user's logout; an address the outbound
 * rules refuse is not reached. The session's apps are stored: told after a restart (SQLite) and by
 * another node sharing PostgreSQL.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createRemoteJWKSet } from 'jose/jwks/remote';
import { jwtVerify } from 'jose/jwt/verify';
import type { RawConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/util/log.ts';
import { tempDir } from '../support/harness.ts';
import { documentHost } from '../support/hostile.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { answerDevice, basic, obtainCode, startGrantServer, USER, type GrantServer } from './support.ts';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const CB = 'https://app.example/cb';

interface Received {
  readonly path: string;
  readonly method: string;
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
}

/** The apps' back-channel endpoints: `/ok/*` answers 200, `/fail/*` 500, `/hang/*` never, `/redirect/N` 307 to `/ok/N`. */
let receiver: Server;
let base: string;
const received: Received[] = [];

before(async () => {
  receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', method: req.method ?? '', contentType: req.headers['content-type'], form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      if (req.url?.startsWith('/hang/')) return; // never answers
      if (req.url?.startsWith('/redirect/')) return void res.writeHead(307, { location: req.url.replace('/redirect/', '/ok/') }).end();
      res.writeHead(req.url?.startsWith('/fail/') ? 500 : 200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
after(async () => {
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

/** The receiver reaches loopback only when the deployment allows private addresses (BCL-08 tests the default). */
const ALLOW_LOOPBACK: RawConfig = { clientUrlsAllowPrivate: 'true', alg: 'ES256' };

let paths = 0;
/** A fresh receiver path of a kind, so each test reads only its own deliveries. */
const endpoint = (kind: 'ok' | 'fail' | 'hang' | 'redirect') => `${base}/${kind}/${++paths}`;
const deliveriesTo = (uri: string) => received.filter((r) => `${base}${r.path}` === uri);

/** Waits until `cond` holds (deliveries run in the background), at most `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A new session of `subject` and its cookie. */
async function signIn(s: GrantServer, subject = USER) {
  const session = await s.session({ subject });
  return { id: session.id, cookie: `keymint_session=${session.session_token}` };
}

/** The code flow for `app` in the browser holding `cookie`; the token response. */
async function login(s: GrantServer, app: { id: string; secret: string }, cookie: string, scope = 'openid') {
  const { code, verifier, redirectUri } = await obtainCode(s, app, { cookie, scope });
  return s.token(app.id, app.secret, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
}

/** The user's logout at the end-session endpoint with an app's ID token: the session ends at once. */
async function logout(s: GrantServer, idToken: string, cookie: string): Promise<Response> {
  const res = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ id_token_hint: idToken })}`, { redirect: 'manual', headers: { cookie } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /You have been signed out/);
  return res;
}

const app = (s: GrantServer, backchannelLogoutUri: string | undefined, extra: Record<string, unknown> = {}) =>
  s.client({ name: 'App', grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB], trusted: true, ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}), ...extra });

/** Verifies one delivery as a receiving app must (§2.6), with jose against the server's JWKS; returns its claims. */
async function verifyDelivery(s: GrantServer, r: Received, clientId: string, alg: string) {
  assert.equal(r.method, 'POST');
  assert.equal(r.contentType, 'application/x-www-form-urlencoded');
  assert.deepEqual([...r.form.keys()], ['logout_token']);
  const token = r.form.get('logout_token')!;
  const jwks = createRemoteJWKSet(new URL(`${s.url}/oauth2/jwks`));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: s.keymint.config.issuer, audience: clientId, typ: 'logout+jwt', algorithms: [alg], requiredClaims: ['iat', 'exp', 'jti', 'events'] });
  assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'kid', 'typ']);
  assert.equal(protectedHeader.alg, alg);
  assert.deepEqual(Object.keys(payload).sort(), ['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
  assert.equal(payload.aud, clientId);
  assert.deepEqual(payload.events, { [EVENT]: {} });
  assert.equal(payload.exp! - payload.iat!, 120);
  assert.ok(Math.abs(payload.iat! - Date.now() / 1000) < 30);
  assert.match(String(payload.jti), /^[0-9A-Za-z]{22}$/);
  assert.equal('nonce' in payload, false);
  return payload;
}

const metric = async (s: GrantServer, labels: string): Promise<number> => {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`keymint_backchannel_logout_total{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
};

test('BCL-03 BCL-04 BCL-05 BCL-06 the ended session\'s apps with a back-channel URI get a logout token signed as their ID tokens; an app without an ID token in it, or of another session, gets nothing', async (t) => {
  const s = await startGrantServer(ALLOW_LOOPBACK);
  t.after(() => s.close());
  const [uriA, uriB, uriC, uriOther] = [endpoint('ok'), endpoint('ok'), endpoint('ok'), endpoint('ok')];
  const a = await app(s, uriA, { backchannelLogoutSessionRequired: true });
  const b = await app(s, uriB, { idTokenAlg: 'ES256' });
  const c = await app(s, uriC); // logs in without openid: no ID token
  const d = await app(s, undefined); // an ID token, no back-channel URI
  const other = await app(s, uriOther); // an ID token in another session only
  const user = await signIn(s);
  const elsewhere = await signIn(s, 'another-user');
  const tokensA = await login(s, a, user.cookie);
  const tokensB = await login(s, b, user.cookie);
  assert.equal((await login(s, c, user.cookie, 'read')).id_token, undefined);
  await login(s, d, user.cookie);
  await login(s, other, elsewhere.cookie);
  await login(s, a, elsewhere.cookie);
  assert.deepEqual(await s.keymint.store.sessions.clients(user.id), [a.id, b.id, d.id]);

  await logout(s, String(tokensA.id_token), user.cookie);
  await until(() => deliveriesTo(uriA).length === 1 && deliveriesTo(uriB).length === 1);
  const claimsA = await verifyDelivery(s, deliveriesTo(uriA)[0]!, a.id, 'RS256');
  const claimsB = await verifyDelivery(s, deliveriesTo(uriB)[0]!, b.id, 'ES256');
  // sub and sid are the ID tokens' own.
  for (const [claims, tokens] of [[claimsA, tokensA], [claimsB, tokensB]] as const) {
    const idToken = decodeJwt(String(tokens.id_token));
    assert.deepEqual([claims.sub, claims.sid], [idToken.sub, idToken.sid]);
    assert.equal(claims.sid, user.id);
  }
  assert.equal(decodeProtectedHeader(String(tokensB.id_token)).alg, 'ES256');
  assert.notEqual(claimsA.jti, claimsB.jti);
  // Audited per app, as the session's end is (by the user's session).
  await until(async () => (await s.keymint.store.audit.list(20)).filter((e) => e.action === 'session.backchannel_logout').length === 2);
  const audited = (await s.keymint.store.audit.list(20)).filter((e) => e.action === 'session.backchannel_logout');
  assert.deepEqual(audited.map((e) => e.target).sort(), [a.id, b.id].sort());
  for (const e of audited) {
    assert.equal(e.actor, `session:${user.id}`);
    assert.deepEqual(e.detail, { session: user.id, result: 'delivered', status: 200 });
  }
  assert.equal(await metric(s, 'result="delivered"'), 2);
  // Nothing for the app without an ID token, nor for the other session's apps (its session lives on).
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([deliveriesTo(uriC).length, deliveriesTo(uriOther).length, deliveriesTo(uriA).length], [0, 0, 1]);
  assert.equal(await s.keymint.sessions.resolve(elsewhere.cookie.split('=')[1]!) !== undefined, true);
});

test('BCL-05 BCL-07 a receiver answering 500 or never answering neither breaks nor delays the logout; each failure is counted, audited and logged without the token', async (t) => {
  const lines: string[] = [];
  const s = await startGrantServer({ ...ALLOW_LOOPBACK, backchannelLogoutTimeoutMs: '1500' }, { log: createLogger('warn', (l) => lines.push(l)) });
  t.after(() => s.close());
  const [failing, hanging, fine] = [endpoint('fail'), endpoint('hang'), endpoint('ok')];
  const f = await app(s, failing);
  const h = await app(s, hanging);
  const ok = await app(s, fine);
  const user = await signIn(s);
  const tokens = await login(s, f, user.cookie);
  await login(s, h, user.cookie);
  await login(s, ok, user.cookie);
  const started = Date.now();
  await logout(s, String(tokens.id_token), user.cookie);
  assert.ok(Date.now() - started < 1000, `the logout waited ${Date.now() - started} ms`);
  await until(() => deliveriesTo(fine).length === 1 && deliveriesTo(failing).length === 1 && deliveriesTo(hanging).length === 1);
  await until(async () => (await metric(s, 'result="failed",reason="timeout"')) === 1);
  assert.equal(await metric(s, 'result="failed",reason="status"'), 1);
  assert.equal(await metric(s, 'result="delivered"'), 1);
  // Never retried.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([deliveriesTo(failing).length, deliveriesTo(hanging).length], [1, 1]);
  const audited = (await s.keymint.store.audit.list(20)).filter((e) => e.action === 'session.backchannel_logout');
  assert.deepEqual(audited.find((e) => e.target === f.id)?.detail, { session: user.id, result: 'failed', reason: 'status', status: 500 });
  assert.deepEqual(audited.find((e) => e.target === h.id)?.detail, { session: user.id, result: 'failed', reason: 'timeout' });
  const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'back-channel logout not delivered');
  assert.deepEqual(warned.map((l) => [l.client_id, l.reason, l.status]).sort(), [[f.id, 'status', 500], [h.id, 'timeout', undefined]].sort());
  for (const l of lines) assert.doesNotMatch(l, /eyJ/, 'no token in the log');
});

test('BCL-05 ending the session through the admin API (DELETE /admin/v1/sessions/<id>) tells its apps too', async (t) => {
  const s = await startGrantServer(ALLOW_LOOPBACK);
  t.after(() => s.close());
  const uri = endpoint('ok');
  const a = await app(s, uri);
  const user = await signIn(s);
  await login(s, a, user.cookie);
  const res = await s.admin('DELETE', `/sessions/${user.id}`);
  assert.equal(res.status, 204);
  await until(() => deliveriesTo(uri).length === 1);
  const claims = await verifyDelivery(s, deliveriesTo(uri)[0]!, a.id, 'RS256');
  assert.equal(claims.sid, user.id);
  assert.equal(claims.sub, USER);
});

test('BCL-08 without --client-urls-allow-private a back-channel URI on a loopback address is registered (as a redirect URI may be) but never reached: counted and audited as unreachable', async (t) => {
  const s = await startGrantServer({});
  t.after(() => s.close());
  const uri = endpoint('ok');
  const a = await app(s, uri);
  const user = await signIn(s);
  const tokens = await login(s, a, user.cookie);
  await logout(s, String(tokens.id_token), user.cookie);
  await until(async () => (await metric(s, 'result="failed",reason="unreachable"')) === 1);
  const audited = (await s.keymint.store.audit.list(20)).find((e) => e.action === 'session.backchannel_logout');
  assert.deepEqual(audited?.detail, { session: user.id, result: 'failed', reason: 'unreachable' });
  assert.equal(deliveriesTo(uri).length, 0);
});

test('BCL-08 a redirect from the back-channel URI is not followed: the delivery fails with its status, and the target gets nothing', async (t) => {
  const s = await startGrantServer(ALLOW_LOOPBACK);
  t.after(() => s.close());
  const uri = endpoint('redirect');
  const target = uri.replace('/redirect/', '/ok/');
  const a = await app(s, uri);
  const user = await signIn(s);
  const tokens = await login(s, a, user.cookie);
  await logout(s, String(tokens.id_token), user.cookie);
  await until(async () => (await metric(s, 'result="failed",reason="status"')) === 1);
  const audited = (await s.keymint.store.audit.list(20)).find((e) => e.action === 'session.backchannel_logout');
  assert.deepEqual(audited?.detail, { session: user.id, result: 'failed', reason: 'status', status: 307 });
  assert.equal(deliveriesTo(uri).length, 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(deliveriesTo(target).length, 0);
});

test('BCL-09 LOGOUT-10 a device-grant ID token carries the sid of the session that approved it: its hint ends that session at once, and the app is told', async (t) => {
  const s = await startGrantServer(ALLOW_LOOPBACK);
  t.after(() => s.close());
  const uri = endpoint('ok');
  const device = await s.client({ name: 'TV', grants: ['urn:ietf:params:oauth:grant-type:device_code'], scopes: ['openid', 'read'], trusted: true, backchannelLogoutUri: uri });
  const user = await signIn(s);
  const started = (await (await s.postForm('/oauth2/device_authorization', { scope: 'openid read' }, { authorization: basic(device.id, device.secret) })).json()) as Record<string, string>;
  assert.equal((await answerDevice(s, started.user_code!, 'approve', user.cookie)).status, 200);
  const res = await s.postForm('/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code! }, { authorization: basic(device.id, device.secret) });
  const tokens = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(tokens));
  assert.equal(decodeJwt(String(tokens.id_token)).sid, user.id);
  await logout(s, String(tokens.id_token), user.cookie);
  assert.equal(await s.keymint.sessions.resolve(user.cookie.split('=')[1]!), undefined, 'ended at once, no confirmation page');
  await until(() => deliveriesTo(uri).length === 1);
  assert.equal((await verifyDelivery(s, deliveriesTo(uri)[0]!, device.id, 'RS256')).sid, user.id);
});

test('BCL-03 SQLite: the session\'s apps are stored, so a logout after a restart still tells them', async (t) => {
  const dataDir = tempDir('keymint-bcl-restart-');
  const uri = endpoint('ok');
  const first = await startGrantServer(ALLOW_LOOPBACK, { dataDir });
  const a = await app(first, uri);
  const user = await signIn(first);
  const tokens = await login(first, a, user.cookie);
  await first.close();
  const s = await startGrantServer(ALLOW_LOOPBACK, { dataDir });
  t.after(async () => {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await logout(s, String(tokens.id_token), user.cookie);
  await until(() => deliveriesTo(uri).length === 1);
  assert.equal((await verifyDelivery(s, deliveriesTo(uri)[0]!, a.id, 'RS256')).sid, user.id);
});

test('BCL-03 PostgreSQL: apps logged in through one node are told when the session ends through another node sharing the database', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmbcl');
  const flags = { ...ALLOW_LOOPBACK, databaseUrl: DATABASE_URL, databaseSchema: schema };
  // One data directory: the nodes share its KEK file, as nodes of one deployment share KEYMINT_KEK.
  const dataDir = tempDir('keymint-bcl-pg-');
  const nodes: GrantServer[] = [];
  t.after(async () => {
    for (const n of nodes) await n.close();
    await dropSchema(schema);
    rmSync(dataDir, { recursive: true, force: true });
  });
  nodes.push(await startGrantServer(flags, { dataDir }));
  nodes.push(await startGrantServer(flags, { dataDir }));
  const [one, two] = nodes as [GrantServer, GrantServer];
  const [uriA, uriB] = [endpoint('ok'), endpoint('ok')];
  const a = await app(one, uriA);
  const b = await app(one, uriB);
  const user = await signIn(one);
  const tokens = await login(one, a, user.cookie);
  await login(one, b, user.cookie, 'read'); // no ID token: not told
  await logout(two, String(tokens.id_token), user.cookie);
  await until(() => deliveriesTo(uriA).length === 1);
  assert.equal((await verifyDelivery(two, deliveriesTo(uriA)[0]!, a.id, 'RS256')).sid, user.id);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(deliveriesTo(uriB).length, 0);
});

test('BCL-10 BCL-01 a client ID metadata document\'s client: its post_logout_redirect_uris are followed by the end-session endpoint, and its backchannel_logout_uri gets the logout token', async (t) => {
  const host = await documentHost();
  const s = await startGrantServer({ ...ALLOW_LOOPBACK, clientIdMetadataDocuments: 'true', registrationScopes: ['openid', 'read'] });
  t.after(async () => {
    await s.close();
    await host.close();
  });
  const clientId = host.url('/client.json');
  const posts: URLSearchParams[] = [];
  host.serve('/client.json', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
    client_id: clientId, client_name: 'Doc app', redirect_uris: [CB], token_endpoint_auth_method: 'none',
    post_logout_redirect_uris: ['https://app.example/bye'], backchannel_logout_uri: host.url('/backchannel'),
  })));
  host.serve('/backchannel', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end();
    });
  });
  const user = await signIn(s);
  const { code, verifier, redirectUri } = await obtainCode(s, { id: clientId }, { cookie: user.cookie, scope: 'openid read' });
  const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier });
  const tokens = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const out = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ id_token_hint: String(tokens.id_token), post_logout_redirect_uri: 'https://app.example/bye', state: 'st-9' })}`, { redirect: 'manual', headers: { cookie: user.cookie } });
  assert.equal(out.status, 302);
  assert.equal(out.headers.get('location'), 'https://app.example/bye?state=st-9');
  await until(() => posts.length === 1);
  const claims = await verifyDelivery(s, { path: '/backchannel', method: 'POST', contentType: 'application/x-www-form-urlencoded', form: posts[0]! }, clientId, 'RS256');
  assert.equal(claims.sid, user.id);
  // An unregistered URI of the same document is refused, as a registered client's would be.
  const other = await signIn(s);
  const refused = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: 'https://app.example/elsewhere' })}`, { redirect: 'manual', headers: { cookie: other.cookie } });
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get('location'), null);
});

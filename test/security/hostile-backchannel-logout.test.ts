/**
 * Red team of OpenID Connect Back-Channel Logout delivery (BCL-03..08) as an app registering a
 * hostile `backchannel_logout_uri` would meet it, and of the logout token it is sent: loopback,
 * private and link-local addresses in every spelling reach nothing without
 * `--client-urls-allow-private`; a receiver's redirect is not followed, a slow one does not hold the
 * delivery past its deadline, a huge answer is not read; and a logout token is no key to anything
 * else: not a bearer token at userinfo, inactive at introspection, not an `id_token_hint`, not a
 * client assertion.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { basic, obtainCode, startGrantServer, type GrantServer } from '../grants/support.ts';
import { capturingLog } from '../support/hostile.ts';

const CB = 'https://app.example/cb';

/** Waits until `cond` holds (deliveries run in the background), at most `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every app logs in, by the code flow with openid, in one session of the user; resolves the session's cookie and the ID tokens. */
async function loginAll(s: GrantServer, apps: ReadonlyArray<{ id: string; secret: string }>) {
  const session = await s.session();
  const cookie = `keymint_session=${session.session_token}`;
  const idTokens: string[] = [];
  for (const app of apps) {
    const { code, verifier, redirectUri } = await obtainCode(s, app, { cookie, scope: 'openid' });
    const tokens = await s.token(app.id, app.secret, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    idTokens.push(String(tokens.id_token));
  }
  return { session, cookie, idTokens };
}

/** The end-session endpoint with an ID token of the session: it ends at once. */
async function logout(s: GrantServer, idToken: string, cookie: string): Promise<void> {
  const res = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ id_token_hint: idToken })}`, { redirect: 'manual', headers: { cookie } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

const deliveries = async (s: GrantServer, clientIds: readonly string[]) =>
  (await s.keymint.store.audit.list(10_000)).filter((e) => e.action === 'session.backchannel_logout' && clientIds.includes(e.target));

/** A TCP listener on every loopback address of the port (dual stack): counts each connection made to it. */
let trap: TcpServer;
let trapPort: number;
const connections: Socket[] = [];

before(async () => {
  trap = createTcpServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  // Dual stack where the host has IPv6 (::1 and 127.0.0.1 both land here), else IPv4 loopback alone.
  await new Promise<void>((resolve, reject) => {
    trap.once('error', reject);
    trap.listen({ port: 0, host: '::', ipv6Only: false }, resolve);
  }).catch(() => new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve)));
  trapPort = (trap.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => trap.close(() => resolve())));

test('BCL-08 without --client-urls-allow-private no spelling of a loopback, unspecified, private or link-local address is reached: each app is told nothing, counted and audited unreachable, and the user is signed out', async () => {
  const s = await startGrantServer({ alg: 'ES256' });
  try {
    const P = trapPort;
    const spellings = [
      `https://127.0.0.1:${P}/bc`, `http://127.0.0.1:${P}/bc`, `https://127.1:${P}/bc`, `https://0x7f000001:${P}/bc`, `https://2130706433:${P}/bc`, `https://0177.0.0.1:${P}/bc`,
      `https://[::1]:${P}/bc`, `http://[::1]:${P}/bc`, `https://[::ffff:127.0.0.1]:${P}/bc`, `https://[::ffff:7f00:1]:${P}/bc`, `https://[0:0:0:0:0:ffff:7f00:1]:${P}/bc`,
      `https://0.0.0.0:${P}/bc`, `https://0:${P}/bc`, `https://[::]:${P}/bc`, `https://localhost:${P}/bc`, `https://localhost.:${P}/bc`, `https://LOCALHOST:${P}/bc`,
      `https://[64:ff9b::7f00:1]:${P}/bc`, `https://[2002:7f00:1::]:${P}/bc`, `https://169.254.169.254:${P}/latest`, `https://10.0.0.1:${P}/bc`, `https://[fe80::1]:${P}/bc`,
    ];
    const apps: Array<{ id: string; secret: string }> = [];
    for (const uri of spellings) {
      try {
        apps.push(await s.client({ name: 'App', grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], trusted: true, backchannelLogoutUri: uri }));
      } catch {
        // Refused as a setting (BCL-01): not registered, so never reached either.
      }
    }
    assert.ok(apps.length >= 15, `most spellings are registrable settings (${apps.length})`);
    const { cookie, idTokens } = await loginAll(s, apps);
    await logout(s, idTokens[0]!, cookie);
    const ids = apps.map((a) => a.id);
    await until(async () => (await deliveries(s, ids)).length === apps.length);
    for (const d of await deliveries(s, ids)) assert.deepEqual([d.detail.result, d.detail.reason], ['failed', 'unreachable'], JSON.stringify(d));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections.length, 0, 'nothing connected to the loopback listener');
  } finally {
    await s.close();
  }
});

/** A receiver on loopback (reached only with --client-urls-allow-private): `/redirect` answers 307 to `/ok`, `/slow` sends nothing, `/huge` streams without end. */
let receiver: Server;
let base: string;
const hits: string[] = [];
let hugeClosed = false;
/** What `/capture` was sent. */
const captured: string[] = [];

before(async () => {
  receiver = createHttpServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/capture') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
      return;
    }
    req.resume();
    if (req.url === '/redirect') return void res.writeHead(307, { location: `${base}/ok` }).end();
    if (req.url === '/slow') return; // never answers
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (res.write(chunk)) if (res.writableLength > 1 << 20) break;
      };
      res.on('drain', pump);
      res.on('close', () => (hugeClosed = true));
      pump();
      return;
    }
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
after(() => {
  receiver.closeAllConnections();
  return new Promise<void>((resolve) => receiver.close(() => resolve()));
});

test('BCL-05 BCL-07 a receiver\'s redirect is not followed (one request, failed with its status), one that never answers is given up at --backchannel-logout-timeout-ms, and a huge answer is not read (delivered on its status, the connection closed)', async () => {
  const logged = capturingLog();
  const s = await startGrantServer({ alg: 'ES256', clientUrlsAllowPrivate: 'true', backchannelLogoutTimeoutMs: '400' }, { log: logged.log });
  try {
    const make = (path: string) => s.client({ name: path, grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], trusted: true, backchannelLogoutUri: `${base}${path}` });
    const redirect = await make('/redirect');
    const slow = await make('/slow');
    const huge = await make('/huge');
    const { cookie, idTokens } = await loginAll(s, [redirect, slow, huge]);
    const started = Date.now();
    await logout(s, idTokens[0]!, cookie);
    const ids = [redirect.id, slow.id, huge.id];
    await until(async () => (await deliveries(s, ids)).length === 3, 5_000);
    assert.ok(Date.now() - started < 3_000, `all three settled in ${Date.now() - started} ms`);
    const by = new Map((await deliveries(s, ids)).map((d) => [d.target, d.detail]));
    assert.deepEqual([by.get(redirect.id)?.result, by.get(redirect.id)?.reason, by.get(redirect.id)?.status], ['failed', 'status', 307]);
    assert.deepEqual([by.get(slow.id)?.result, by.get(slow.id)?.reason], ['failed', 'timeout']);
    assert.deepEqual([by.get(huge.id)?.result, by.get(huge.id)?.status], ['delivered', 200]);
    await until(() => hugeClosed, 3_000);
    assert.deepEqual(hits.filter((h) => h === '/ok'), [], 'the redirect was not followed');
    assert.deepEqual(hits.sort(), ['/huge', '/redirect', '/slow']);
  } finally {
    await s.close();
  }
});

test('BCL-04 a logout token is no key to anything else: refused as a bearer token at userinfo, inactive at introspection, not an id_token_hint (the live session stays), not a client assertion', async () => {
  const s = await startGrantServer({ alg: 'ES256', clientUrlsAllowPrivate: 'true' });
  try {
    const app = await s.client({ name: 'Capture', grants: ['authorization_code', 'client_credentials'], scopes: ['openid'], redirectUris: [CB], trusted: true, backchannelLogoutUri: `${base}/capture` });
    const first = await loginAll(s, [app]);
    await logout(s, first.idTokens[0]!, first.cookie);
    await until(() => captured.length === 1);
    const token = captured[0]!;
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    const userinfo = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(userinfo.status, 401);
    assert.match(userinfo.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    await userinfo.arrayBuffer();

    const introspection = await s.postForm('/oauth2/introspect', { token }, { authorization: basic(app.id, app.secret) });
    assert.equal(introspection.status, 200);
    assert.deepEqual(await introspection.json(), { active: false });

    // A new session of the same user: the logout token (its sub, its sid, its aud) does not end it.
    const second = await loginAll(s, [app]);
    const hinted = await fetch(`${s.url}/oauth2/logout?${new URLSearchParams({ id_token_hint: token })}`, { redirect: 'manual', headers: { cookie: second.cookie } });
    assert.equal(hinted.status, 400);
    assert.match(await hinted.text(), /The id_token_hint is not an ID token issued by this server\./);
    const still = await obtainCode(s, app, { cookie: second.cookie, scope: 'openid' });
    assert.ok(still.code, 'the session is alive');

    const assertion = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_id: app.id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: token });
    assert.equal(assertion.status, 401);
    assert.equal(((await assertion.json()) as Record<string, unknown>).error, 'invalid_client');
  } finally {
    await s.close();
  }
});

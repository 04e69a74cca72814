/**
 * Keymint behind Apache httpd's mod_auth_openidc (Debian's libapache2-mod-auth-openidc 2.4.12 with
 * apache2), the relying party that fronts countless apps. A real apache2 runs in the foreground with
 * its own configuration (apache/httpd.conf: its ServerRoot, pid file and logs in a temporary
 * directory, every socket on 127.0.0.1, no system configuration read) against a real Keymint over
 * TLS: the module insists on https for introspection and JWKS URLs, and production runs that way.
 *
 * Three relying parties, one port each, redeem the code with client_secret_basic, client_secret_post
 * and private_key_jwt (RS256, the module's own assertion); the last sends its authorization request
 * as a form the browser posts (OIDC Core §3.1.2.1), which Keymint sends on to GET (SES-02). A fourth
 * port has that client sign its request as a request object, which 2.4.12 does without `exp`, and
 * Keymint refuses (JAR-02); a refusal comes back with `iss` and no code, which 2.4.12 takes for a
 * third-party-initiated login (as for a user's "no" on the consent page): both asserted as they are. The user's browser is fetch with a cookie
 * jar and manual redirects: /app → Keymint's authorization endpoint (PKCE S256, state, nonce) → the
 * consent page when shown → the module's redirect URI, where it redeems the code, checks the ID token
 * (JWKS signature, iss, aud, nonce, exp), calls userinfo (by POST, the token in the body) → /app, which `Require claim sub:<user>`
 * opens to one user only and which echoes the claims it got as response headers. The module as an
 * OAuth 2.0 resource server (`AuthType oauth20`): by introspection (RFC 7662) and by its own check of
 * JWT access tokens against the JWKS. Refresh through the module's `?refresh=` hook (rotation kept),
 * RP-initiated logout through its `?logout=` (the access token revoked on the way), and back-channel
 * logout: Keymint POSTs a logout token to its `?logout=backchannel` when the session ends.
 *
 * Skipped with a message where apache2 or the module is absent; CI (`.ci/run`) installs them and
 * KEYMINT_REQUIRE_SERVICES=1 turns a missing one into a failure.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Agent, getGlobalDispatcher, request, setGlobalDispatcher, type Dispatcher } from 'undici';
import { makeCerts, type CertKit } from '../support/certs.ts';
import { freePort, onFreePort } from '../support/harness.ts';
import { basic, formFields, startGrantServer, USER, type GrantServer } from '../grants/support.ts';

const APACHE = '/usr/sbin/apache2';
const MODULE = '/usr/lib/apache2/modules/mod_auth_openidc.so';
const CONF_DIR = fileURLToPath(new URL('./apache/', import.meta.url));
const OTHER_USER = 'apache-other-user';

function apacheMissing(): string | false {
  const missing = [APACHE, MODULE].filter((f) => !existsSync(f));
  if (missing.length === 0) return false;
  const message = `skipped: ${missing.join(', ')} not found (apt-get install -y apache2 libapache2-mod-auth-openidc)`;
  if (process.env.KEYMINT_REQUIRE_SERVICES === '1') throw new Error(`${message.slice(9)} (KEYMINT_REQUIRE_SERVICES=1)`);
  return message;
}

/** Resolves once 127.0.0.1:`port` accepts a connection; false when it does not. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });

/**
 * A browser: a cookie jar per host name (as browsers keep them, whatever the port), redirects
 * followed by hand so each hop can be checked, and Keymint's consent page approved when it shows.
 */
class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  setCookie(host: string, name: string, value: string) {
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }
  cookies(host: string): Map<string, string> {
    return this.jar.get(host) ?? new Map();
  }
  /**
   * One request as a browser's top-level navigation sends it (undici's `request`: fetch would say
   * `Sec-Fetch-Mode: cors`, which mod_auth_openidc answers with 401 instead of a redirect); stores
   * the cookies the answer sets (an expired or empty one removes it).
   */
  async request(url: string | URL, init: { method?: string; headers?: Record<string, string>; body?: string; crossSite?: boolean } = {}): Promise<Response> {
    const target = new URL(url);
    // A cross-site POST carries no cookie: Keymint's session cookie is SameSite=Lax (SES-01).
    const cookies = init.crossSite ? '' : [...this.cookies(target.hostname)].map(([n, v]) => `${n}=${v}`).join('; ');
    const answer = await request(target, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod, body: init.body,
      headers: {
        accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document',
        ...(cookies ? { cookie: cookies } : {}), ...init.headers,
      },
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
    const body = await answer.body.arrayBuffer();
    const res = new Response(body.byteLength === 0 ? null : body, { status: answer.statusCode, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim()];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.cookies(target.hostname).delete(name);
      else this.setCookie(target.hostname, name, value);
    }
    return res;
  }
  /**
   * Follows redirects from `url` (consent answered with `decision` on the way, a page that submits its form on load
   * submitted) until an answer that is neither; resolves every hop's URL, method and status, and the last answer.
   */
  async navigate(url: string | URL, decision: 'approve' | 'deny' = 'approve'): Promise<{ hops: { url: URL; status: number; method: string }[]; res: Response; consent: boolean }> {
    const hops: { url: URL; status: number; method: string }[] = [];
    let consent = false;
    let current = new URL(url);
    for (let i = 0; i < 10; i++) {
      let res = await this.request(current);
      hops.push({ url: current, status: res.status, method: 'GET' });
      const page = res.status === 200 ? await res.clone().text() : '';
      const autoPost = /<body onload="document\.forms\[0\]\.submit\(\)">[\s\S]*<form method="post" action="([^"]+)">/.exec(page);
      if (autoPost) {
        const action = new URL(autoPost[1]!, current);
        res = await this.request(action, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(formFields(page)).toString(), crossSite: action.hostname !== current.hostname,
        });
        current = action;
        hops.push({ url: current, status: res.status, method: 'POST' });
      }
      if (res.status === 200 && current.pathname === '/oauth2/authorize') {
        consent = true;
        const fields = formFields(await res.text());
        res = await this.request(new URL('/oauth2/authorize', current), {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ ...fields, decision }).toString(),
        });
        hops.push({ url: new URL('/oauth2/authorize', current), status: res.status, method: 'POST' });
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null) return { hops, res, consent };
      current = new URL(location, current);
    }
    throw new Error(`more than 10 redirects: ${hops.map((h) => h.url.href).join(' → ')}`);
  }
}

describe('mod_auth_openidc (Apache httpd) against Keymint', { skip: apacheMissing() }, () => {
  let certs: CertKit;
  let previousDispatcher: Dispatcher;
  let s: GrantServer;
  let issuer: string;
  let dir: string;
  let apache: ChildProcess | undefined;
  /** Stops apache when this process dies without running `after` (a signal, a crash): its stdin closes then. */
  let watchdog: ChildProcess | undefined;
  const killApache = () => { if (apache?.exitCode === null && apache.signalCode === null) apache.kill('SIGTERM'); };
  /** The relying parties' base URLs and Keymint clients. */
  const rp = {} as Record<'basic' | 'post' | 'jwt' | 'jar', { base: string; id: string; secret: string }>;
  /** What arrived at Keymint's token endpoint: the Authorization scheme (or none) of each request. */
  const tokenRequests: { path: string; auth: string }[] = [];
  const apacheLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');

  /** Starts apache2 on four free ports with clients registered for them; resolves when all accept connections. */
  async function startApache(): Promise<void> {
    const ports = { basic: await freePort(), post: await freePort(), jwt: await freePort(), jar: await freePort() };
    const base = (p: number) => `http://127.0.0.1:${p}`;
    const client = (name: string, port: number, extra: Record<string, unknown> = {}) =>
      s.client({
        name, grants: ['authorization_code'], scopes: ['openid'],
        redirectUris: [`${base(port)}/redirect_uri`], postLogoutRedirectUris: [`${base(port)}/signed-out.html`], ...extra,
      });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'rp-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'rp-public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const kid = 'apache-rp-1';
    const jwt = await client('Apache private_key_jwt', ports.jwt, {
      trusted: true, authMethod: 'private_key_jwt', jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
      redirectUris: [`${base(ports.jwt)}/redirect_uri`, `${base(ports.jar)}/redirect_uri`],
    });
    Object.assign(rp, {
      basic: { base: base(ports.basic), ...(await client('Apache basic', ports.basic)) },
      post: {
        base: base(ports.post),
        ...(await client('Apache post', ports.post, {
          trusted: true, grants: ['authorization_code', 'refresh_token'], backchannelLogoutUri: `${base(ports.post)}/redirect_uri?logout=backchannel`,
        })),
      },
      jwt: { base: base(ports.jwt), ...jwt },
      jar: { base: base(ports.jar), ...jwt },
    });
    const root = process.getuid?.() === 0;
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      KM_DIR: dir, KM_CONF_DIR: CONF_DIR, KM_ISSUER: issuer, KM_CA: join(dir, 'ca.pem'), KM_USER: USER,
      KM_OIDC_LOG_LEVEL: process.env.KEYMINT_APACHE_LOG_LEVEL ?? 'warn',
      KM_RUN_USER: root ? '#65534' : `#${process.getuid?.()}`, KM_RUN_GROUP: root ? '#65534' : `#${process.getgid?.()}`,
      KM_PASSPHRASE: 'a-passphrase-for-this-test-run-only',
      KM_PORT_BASIC: String(ports.basic), KM_BASIC_ID: rp.basic.id, KM_BASIC_SECRET: rp.basic.secret,
      KM_PORT_POST: String(ports.post), KM_POST_ID: rp.post.id, KM_POST_SECRET: rp.post.secret,
      KM_PORT_JWT: String(ports.jwt), KM_JWT_ID: rp.jwt.id, KM_JWT_KID: kid, KM_PORT_JAR: String(ports.jar),
    };
    rmSync(join(dir, 'error.log'), { force: true });
    apache = spawn(APACHE, ['-f', join(CONF_DIR, 'httpd.conf'), '-DFOREGROUND'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    watchdog?.kill('SIGKILL');
    watchdog = spawn('/bin/sh', ['-c', `read _; kill -TERM ${apache.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    let stderr = '';
    apache.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<void>((resolve) => apache!.once('exit', () => resolve()));
    for (const deadline = Date.now() + 10_000; ;) {
      if (apache.exitCode !== null || apache.signalCode !== null) {
        await exited;
        const why = `${stderr}${apacheLog()}`;
        const error = new Error(`apache2 exited (${apache.exitCode}): ${why}`);
        if (/Address already in use/.test(why)) (error as NodeJS.ErrnoException).code = 'EADDRINUSE';
        throw error;
      }
      const up = await Promise.all(Object.values(ports).map(accepts));
      if (up.every(Boolean)) return;
      if (Date.now() > deadline) {
        killApache();
        throw new Error(`apache2 did not listen within 10 s: ${stderr}${apacheLog()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    certs = makeCerts();
    // Keymint serves TLS with the test CA's certificate: this process's fetch trusts that CA.
    previousDispatcher = getGlobalDispatcher();
    setGlobalDispatcher(new Agent({ connect: { ca: certs.ca.cert } }));
    s = await onFreePort((port) =>
      startGrantServer({
        port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile,
        // Back-channel logout tokens go to apache on 127.0.0.1, which the outbound rules refuse by default (BCL-08).
        clientUrlsAllowPrivate: 'true',
      }));
    issuer = s.keymint.config.issuer;
    s.keymint.server.on('request', (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => {
      if (req.url?.startsWith('/oauth2/token')) tokenRequests.push({ path: req.url, auth: String(req.headers.authorization ?? 'none').split(' ')[0]! });
    });
    dir = mkdtempSync(join(tmpdir(), 'keymint-apache-'));
    mkdirSync(join(dir, 'htdocs'));
    writeFileSync(join(dir, 'htdocs', 'app'), 'the protected app\n');
    writeFileSync(join(dir, 'htdocs', 'api'), 'the protected API\n');
    writeFileSync(join(dir, 'htdocs', 'api-cached'), 'the protected API\n');
    writeFileSync(join(dir, 'htdocs', 'signed-out.html'), 'signed out of the app\n');
    // The CA apache's workers check Keymint's certificate against (read at each outgoing call).
    writeFileSync(join(dir, 'ca.pem'), certs.ca.cert);
    // A root run hands apache's workers to nobody: they must read the pages.
    chmodSync(dir, 0o755);
    process.once('exit', killApache);
    for (let attempt = 1; ; attempt++) {
      try {
        await startApache();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw err;
      }
    }
  });
  after(async () => {
    watchdog?.kill('SIGKILL');
    if (apache && apache.exitCode === null && apache.signalCode === null) {
      const exited = new Promise<void>((resolve) => apache!.once('exit', () => resolve()));
      killApache();
      await exited;
    }
    process.removeListener('exit', killApache);
    await s?.close();
    setGlobalDispatcher(previousDispatcher);
    await certs?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A browser whose user is signed in at Keymint (the platform set the session cookie). */
  async function signedIn(subject = USER): Promise<{ browser: Browser; session: { id: string; session_token: string } }> {
    const browser = new Browser();
    const session = await s.session({ subject });
    browser.setCookie('localhost', 'keymint_session', session.session_token);
    return { browser, session };
  }

  /** The module's view of the session: `<redirect_uri>?info=json`. */
  async function info(browser: Browser, base: string): Promise<Record<string, any>> {
    const res = await browser.request(`${base}/redirect_uri?info=json`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Record<string, any>;
  }

  test('client_secret_basic: /app → Keymint (PKCE S256, state, nonce) → consent → the module redeems the code, checks the ID token, calls userinfo by POST (B-06) and serves /app with sub and sid', async () => {
    const { browser, session } = await signedIn();
    const seen = tokenRequests.length;
    const { hops, res, consent } = await browser.navigate(`${rp.basic.base}/app`);
    const authorize = hops[1]!.url;
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${issuer}/oauth2/authorize`);
    const q = authorize.searchParams;
    assert.deepEqual(
      [q.get('response_type'), q.get('scope'), q.get('client_id'), q.get('redirect_uri'), q.get('code_challenge_method')],
      ['code', 'openid', rp.basic.id, `${rp.basic.base}/redirect_uri`, 'S256'],
    );
    assert.ok(q.get('state') && q.get('nonce') && q.get('code_challenge'), authorize.href);
    assert.equal(consent, true, 'the client is not trusted: the user approved on the consent page');
    const back = hops.find((h) => h.url.pathname === '/redirect_uri')!;
    assert.equal(back.url.searchParams.get('iss'), issuer);
    assert.equal(back.url.searchParams.get('state'), q.get('state'));
    assert.equal(back.status, 302);
    assert.equal(hops.at(-1)!.url.href, `${rp.basic.base}/app`);
    assert.equal(res.status, 200, apacheLog());
    assert.equal(await res.text(), 'the protected app\n');
    assert.deepEqual([res.headers.get('x-sub'), res.headers.get('x-sid'), res.headers.get('x-iss')], [USER, session.id, issuer]);
    assert.deepEqual(tokenRequests.slice(seen), [{ path: '/oauth2/token', auth: 'Basic' }]);
    const held = await info(browser, rp.basic.base);
    assert.deepEqual([held.id_token.sub, held.id_token.aud, held.id_token.nonce, held.id_token.sid], [USER, rp.basic.id, q.get('nonce'), session.id]);
    assert.deepEqual(held.userinfo, { sub: USER, sub_type: 'user' }, 'the module posted the access token to userinfo (OIDCUserInfoTokenMethod post_param)');
  });

  test('client_secret_post: the secret in the body, no Authorization header; /app is served', async () => {
    const { browser } = await signedIn();
    const seen = tokenRequests.length;
    const { res, consent } = await browser.navigate(`${rp.post.base}/app`);
    assert.equal(consent, false, 'a trusted client: no consent page');
    assert.equal(res.status, 200, apacheLog());
    assert.equal(res.headers.get('x-sub'), USER);
    assert.deepEqual(tokenRequests.slice(seen), [{ path: '/oauth2/token', auth: 'none' }]);
  });

  test('private_key_jwt, and the authorization request as a form the browser posts (OIDCProviderAuthRequestMethod POST): 303 to the GET, which brings the session cookie (SES-02); the module signs its RS256 client assertion, Keymint checks it against the registered JWKS', async () => {
    const { browser } = await signedIn();
    const seen = tokenRequests.length;
    const { hops, res } = await browser.navigate(`${rp.jwt.base}/app`);
    assert.deepEqual(hops.map((h) => [h.method, `${h.url.origin}${h.url.pathname}`, h.status]), [
      ['GET', `${rp.jwt.base}/app`, 200], ['POST', `${issuer}/oauth2/authorize`, 303], ['GET', `${issuer}/oauth2/authorize`, 302],
      ['GET', `${rp.jwt.base}/redirect_uri`, 302], ['GET', `${rp.jwt.base}/app`, 200],
    ]);
    assert.equal(hops[2]!.url.searchParams.get('client_id'), rp.jwt.id);
    assert.equal(res.status, 200, apacheLog());
    assert.equal(res.headers.get('x-sub'), USER);
    assert.deepEqual(tokenRequests.slice(seen), [{ path: '/oauth2/token', auth: 'none' }]);
    assert.equal(rp.jwt.secret, '', 'the client has no secret: only the assertion authenticated it');
  });

  test('a request object the module signs (OIDCRequestObject, RFC 9101) has no exp: Keymint refuses it (JAR-02) with invalid_request_object at the redirect URI, and the module shows its error page', async () => {
    const { browser } = await signedIn();
    const { hops, res } = await browser.navigate(`${rp.jar.base}/app`);
    const asked = hops[1]!.url;
    assert.equal(`${asked.origin}${asked.pathname}`, `${issuer}/oauth2/authorize`);
    const object = JSON.parse(Buffer.from(asked.searchParams.get('request')!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual([object.iss, object.aud, object.client_id, object.exp], [rp.jar.id, issuer, rp.jar.id, undefined]);
    const back = hops[2]!.url;
    assert.equal(`${back.origin}${back.pathname}`, `${rp.jar.base}/redirect_uri`);
    assert.deepEqual([back.searchParams.get('error'), back.searchParams.get('error_description')], ['invalid_request_object', 'The request object has expired, is not yet valid, or has no exp.']);
    // The error comes back with iss (RFC 9207) and no code, which 2.4.12 takes for a third-party-initiated login.
    assert.equal(res.status, 200);
    assert.match(await res.text(), /SSO to this module without specifying a &quot;target_link_uri&quot; parameter is not possible/);
    assert.equal(hops.length, 3);
  });

  test('the user says no on Keymint\'s consent page: access_denied with state and iss back at the module, which 2.4.12 shows as a third-party login without target_link_uri (operations.md)', async () => {
    // A user who never approved this app (consent is remembered per user: CON-01).
    const { browser } = await signedIn('apache-deny-user');
    const { hops, res, consent } = await browser.navigate(`${rp.basic.base}/app`, 'deny');
    assert.equal(consent, true);
    const back = hops.find((h) => h.url.pathname === '/redirect_uri')!.url;
    assert.deepEqual([back.searchParams.get('error'), back.searchParams.get('iss'), back.searchParams.has('code')], ['access_denied', issuer, false]);
    assert.equal(back.searchParams.get('state'), hops[1]!.url.searchParams.get('state'));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /SSO to this module without specifying a &quot;target_link_uri&quot; parameter is not possible/);
  });

  test('Require claim sub:<user>: another user signs in just as well, and the module refuses them /app with 401', async () => {
    const { browser } = await signedIn(OTHER_USER);
    const { hops, res } = await browser.navigate(`${rp.post.base}/app`);
    assert.equal(hops.find((h) => h.url.pathname === '/redirect_uri')?.status, 302, 'the code was redeemed and the session made');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-sub'), null);
    assert.equal((await info(browser, rp.post.base)).id_token.sub, OTHER_USER, 'the module knows who they are');
  });

  /** The session's access token, as the module holds it (the app would pass it on to its API). */
  const sessionToken = async (browser: Browser, base: string) => String((await info(browser, base)).access_token);
  const callApi = (base: string, path: string, token: string) =>
    request(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.statusCode, headers: r.headers, body: await r.body.text() }));
  const altered = (token: string) => {
    const [h, p, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    return `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: OTHER_USER })).toString('base64url')}.${sig}`;
  };

  test('a resource server by introspection: the app\'s own access token passes (client_id, scope); revoked, altered or another client\'s is 401 invalid_token', async () => {
    const { browser } = await signedIn();
    assert.equal((await browser.navigate(`${rp.basic.base}/app`)).res.status, 200);
    const token = await sessionToken(browser, rp.basic.base);
    const ok = await callApi(rp.basic.base, '/api', token);
    assert.equal(ok.status, 200, apacheLog());
    assert.equal(ok.body, 'the protected API\n');
    assert.deepEqual([ok.headers['x-client-id'], ok.headers['x-scope']], [rp.basic.id, 'openid']);
    const other = await s.client({ scopes: ['read'] });
    const othersToken = String((await s.token(other.id, other.secret, { scope: 'read' })).access_token);
    for (const bad of [altered(token), othersToken]) {
      const refused = await callApi(rp.basic.base, '/api', bad);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="Reference token could not be introspected"');
    }
    const revoked = await s.postForm('/oauth2/revoke', { token }, { authorization: basic(rp.basic.id, rp.basic.secret) });
    assert.equal(revoked.status, 200);
    assert.equal((await callApi(rp.basic.base, '/api', token)).status, 401, 'introspected again: inactive');
  });

  test('the module\'s default introspection cache keeps an answer until the token\'s exp: a token revoked since passes there, not where the interval is -1', async () => {
    const { browser } = await signedIn();
    assert.equal((await browser.navigate(`${rp.basic.base}/app`)).res.status, 200);
    const token = await sessionToken(browser, rp.basic.base);
    assert.equal((await callApi(rp.basic.base, '/api-cached', token)).status, 200);
    const revoked = await s.postForm('/oauth2/revoke', { token }, { authorization: basic(rp.basic.id, rp.basic.secret) });
    assert.equal(revoked.status, 200);
    const cached = await callApi(rp.basic.base, '/api-cached', token);
    assert.equal(cached.status, 200, 'the module\'s cache, not Keymint: docs/operations.md says to set the interval');
    assert.equal(cached.headers['x-client-id'], rp.basic.id);
    assert.equal((await callApi(rp.basic.base, '/api', token)).status, 401);
  });

  test('a resource server checking JWTs itself (OIDCOAuthVerifyJwksUri): a Keymint access token passes, an altered or expired one is 401; a revoked one passes until exp', async () => {
    const c = await s.client({ scopes: ['read'] });
    const token = String((await s.token(c.id, c.secret, { scope: 'read' })).access_token);
    const ok = await callApi(rp.jwt.base, '/api', token);
    assert.equal(ok.status, 200, apacheLog());
    assert.equal(ok.headers['x-client-id'], c.id);
    const refused = await callApi(rp.jwt.base, '/api', altered(token));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="JWT token could not be validated"');
    assert.equal((await s.postForm('/oauth2/revoke', { token }, { authorization: basic(c.id, c.secret) })).status, 200);
    assert.equal((await callApi(rp.jwt.base, '/api', token)).status, 200, 'a local check cannot know of the revocation');
    // exp is checked: a token of a one-second lifetime, once that second is over.
    const brief = await s.client({ scopes: ['read'], ttl: 1 });
    const short = String((await s.token(brief.id, brief.secret, { scope: 'read' })).access_token);
    assert.equal((await callApi(rp.jwt.base, '/api', short)).status, 200);
    const { exp } = JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()) as { exp: number };
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 1_050));
    const expired = await callApi(rp.jwt.base, '/api', short);
    assert.equal(expired.status, 401);
    assert.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="JWT token could not be validated"');
  });

  test('refresh through the module\'s ?refresh= hook: a new access token each time, from the rotated refresh token (a reused one would end the family)', async () => {
    const { browser } = await signedIn();
    assert.equal((await browser.navigate(`${rp.post.base}/app`)).res.status, 200);
    const held = async () => { const i = await info(browser, rp.post.base); return { access: String(i.access_token), refresh: String(i.refresh_token) }; };
    const seen = [await held()];
    assert.match(seen[0]!.refresh, /^km_rt_/);
    for (let i = 0; i < 2; i++) {
      const res = await browser.request(`${rp.post.base}/redirect_uri?${new URLSearchParams({ refresh: `${rp.post.base}/app`, access_token: seen.at(-1)!.access })}`);
      assert.equal(res.status, 302, apacheLog());
      assert.equal(res.headers.get('location'), `${rp.post.base}/app`);
      seen.push(await held());
    }
    assert.equal(new Set(seen.map((t) => t.access)).size, 3, 'three distinct access tokens');
    assert.equal(new Set(seen.map((t) => t.refresh)).size, 3, 'the module keeps each rotated refresh token');
    const active = async (token: string) => ((await (await s.postForm('/oauth2/introspect', { token }, { authorization: basic(rp.post.id, rp.post.secret) })).json()) as { active: boolean }).active;
    assert.deepEqual([await active(seen[2]!.refresh), await active(seen[2]!.access)], [true, true], 'the family lives: no refresh token was used twice');
    const app = await browser.request(`${rp.post.base}/app`);
    assert.deepEqual([app.status, app.headers.get('x-sub')], [200, USER]);
  });

  test('RP-initiated logout through the module\'s ?logout=: the access token revoked, Keymint\'s end_session_endpoint with id_token_hint ends the session at once and sends the browser back to the registered page; /app asks Keymint again', async () => {
    const { browser, session } = await signedIn();
    assert.equal((await browser.navigate(`${rp.post.base}/app`)).res.status, 200);
    const token = await sessionToken(browser, rp.post.base);
    const introspected = async () => (await s.postForm('/oauth2/introspect', { token }, { authorization: basic(rp.post.id, rp.post.secret) })).json();
    assert.equal(((await introspected()) as { active: boolean }).active, true);
    const bye = `${rp.post.base}/signed-out.html`;
    const { hops, res } = await browser.navigate(`${rp.post.base}/redirect_uri?logout=${encodeURIComponent(bye)}`);
    assert.deepEqual(hops.map((h) => [`${h.url.origin}${h.url.pathname}`, h.status]), [
      [`${rp.post.base}/redirect_uri`, 302], [`${issuer}/oauth2/logout`, 302], [bye, 200],
    ]);
    const end = hops[1]!.url.searchParams;
    assert.equal(end.get('post_logout_redirect_uri'), bye);
    const hint = JSON.parse(Buffer.from(end.get('id_token_hint')!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual([hint.iss, hint.aud, hint.sub, hint.sid], [issuer, rp.post.id, USER, session.id]);
    assert.equal(await res.text(), 'signed out of the app\n');
    assert.equal((await s.admin('DELETE', `/sessions/${session.id}`)).status, 404, 'the Keymint session is over');
    assert.deepEqual(await introspected(), { active: false }, 'the module revoked the session\'s access token at Keymint\'s revocation endpoint');
    const again = await browser.request(`${rp.post.base}/app`);
    assert.equal(again.status, 302);
    assert.ok(String(again.headers.get('location')).startsWith(`${issuer}/oauth2/authorize?`), 'the module\'s session is gone too');
  });

  test('a key rotation at Keymint while the module holds its JWKS: the next login\'s ID token, signed by the promoted key (published as next before), passes the module\'s check', async () => {
    type Key = { kid: string; use: string; alg: string; state: string };
    const keys = ((await (await s.admin('GET', '/keys')).json()) as { keys: Key[] }).keys;
    const next = keys.find((k) => k.use === 'sig' && k.alg === 'RS256' && k.state === 'next')!;
    assert.equal((await s.admin('POST', '/keys/rotate')).status, 200);
    const { browser } = await signedIn();
    const { res } = await browser.navigate(`${rp.post.base}/app`);
    assert.equal(res.status, 200, apacheLog());
    assert.equal(res.headers.get('x-sub'), USER);
    // The ID token the module holds comes back as the logout's id_token_hint: its header names the key.
    const { hops } = await browser.navigate(`${rp.post.base}/redirect_uri?logout=${encodeURIComponent(`${rp.post.base}/signed-out.html`)}`);
    const hint = hops[1]!.url.searchParams.get('id_token_hint')!;
    assert.equal((JSON.parse(Buffer.from(hint.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid, next.kid);
  });

  test('back-channel logout: the session ended at Keymint → a logout token POSTed to the module\'s ?logout=backchannel (200) → the module\'s session of that sid is gone, another session of the user stays', async () => {
    const { browser, session } = await signedIn();
    const { browser: other } = await signedIn();
    for (const b of [browser, other]) assert.equal((await b.navigate(`${rp.post.base}/app`)).res.status, 200);
    assert.equal((await s.admin('DELETE', `/sessions/${session.id}`)).status, 204);
    type Event = { action: string; target: string; detail: Record<string, unknown> };
    let delivery: Event | undefined;
    for (const deadline = Date.now() + 5_000; delivery === undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const { events } = (await (await s.admin('GET', '/audit?limit=50')).json()) as { events: Event[] };
      delivery = events.find((e) => e.action === 'session.backchannel_logout' && e.detail.session === session.id);
    }
    assert.deepEqual([delivery?.target, delivery?.detail.result, delivery?.detail.status], [rp.post.id, 'delivered', 200], `${JSON.stringify(delivery)} ${apacheLog()}`);
    const again = await browser.request(`${rp.post.base}/app`);
    assert.equal(again.status, 302, 'the module ended its session of that sid');
    assert.ok(String(again.headers.get('location')).startsWith(`${issuer}/oauth2/authorize?`));
    const kept = await other.request(`${rp.post.base}/app`);
    assert.deepEqual([kept.status, kept.headers.get('x-sub')], [200, USER], 'another Keymint session of the same user is another sid');
  });
});

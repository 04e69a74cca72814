/**
 * Keymint as a Go service meets it: golang.org/x/oauth2 (0.3.0, Debian's golang-golang-x-oauth2-dev)
 * and github.com/coreos/go-oidc (2.1.0, the v2 API, Debian's golang-github-coreos-go-oidc-dev), run as
 * their own process against a real server. The program is go/main.go, built once per run in GOPATH
 * mode against Debian's sources (no module downloads), then run once per scenario with a JSON input.
 * It gets client_credentials tokens with each AuthStyle, scopes and RFC 8707 `resource` through
 * EndpointParams; runs the code flow with oauth2.Config (PKCE S256 added by hand: 0.3.0 has no
 * helpers), go-oidc's discovery and ID token verifier (JWKS signature, iss, aud, exp; nonce and
 * at_hash), userinfo and a refresh through the TokenSource; and checks JWT access tokens as a Go
 * resource server would, with go-oidc's remote key set.
 *
 * One disagreement in kind, decided as the library's: x/oauth2's default AuthStyle (auto-detect) sends
 * a refused token request again with the secret in the body, and reports only the second answer
 * (golang/oauth2#786). A wrong secret is then two failed authentications, and Keymint's lockout
 * (RFC 6749 §2.3.1 brute-force protection, per client id and address, A-08) counts both, so such a
 * client is locked after half as many attempts; a failed code redemption spends the code (C-07), so the
 * retry meets a spent code. Both are right on Keymint's side: each request with a wrong secret is a
 * guess whatever the client meant, and a code is redeemable once. The maintainers' advice is to set the
 * AuthStyle the provider needs (golang/oauth2#718); Keymint takes both, and docs/operations.md tells Go
 * services to set AuthStyleInHeader. The tests assert the probing as it is.
 *
 * Skipped with a message where Go or those sources are absent; CI (`.ci/run`) installs them and
 * KEYMINT_REQUIRE_SERVICES=1 turns a missing one into a failure.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startGrantServer, USER, type GrantServer } from '../grants/support.ts';

const GOPATH = '/usr/share/gocode';
const SOURCES = fileURLToPath(new URL('./go/', import.meta.url));
const CB = 'https://app.example/cb';
const ORDERS = 'https://orders.example/api';
const PACKAGES = ['golang.org/x/oauth2', 'github.com/coreos/go-oidc', 'gopkg.in/square/go-jose.v2'];

function goMissing(): string | false {
  let missing = PACKAGES.filter((p) => !existsSync(join(GOPATH, 'src', p)));
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    missing = ['go', ...missing];
  }
  if (missing.length === 0) return false;
  const message = `skipped: ${missing.join(', ')} not found (apt-get install -y golang-go golang-golang-x-oauth2-dev golang-github-coreos-go-oidc-dev golang-gopkg-square-go-jose.v2-dev)`;
  if (process.env.KEYMINT_REQUIRE_SERVICES === '1') throw new Error(`${message.slice(9)} (KEYMINT_REQUIRE_SERVICES=1)`);
  return message;
}

describe('golang.org/x/oauth2 and go-oidc (Go) against Keymint', { skip: goMissing() }, () => {
  let s: GrantServer;
  let issuer: string;
  let dir: string;
  let program: string;

  /** Runs one scenario of the built program; resolves what it printed. */
  const go = (scenario: string, input: Record<string, unknown>): Promise<Record<string, any>> =>
    new Promise((resolve, reject) => {
      execFile(program, [scenario, JSON.stringify(input)], { timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`go ${scenario} failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout) as Record<string, any>);
      });
    });

  /** The value of one series of /metrics (0 when absent). */
  const metric = async (series: string): Promise<number> => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };
  const tokensIssued = () => metric('keymint_token_requests_total{dialect="oauth2",grant="client_credentials",result="ok"}');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keymint-go-'));
    program = join(dir, 'keymint-go-interop');
    // GOPATH mode against Debian's sources: no go.mod, no module proxy, a cache of this run's own.
    execFileSync('go', ['build', '-o', program, '.'], {
      cwd: SOURCES, stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    });
    // The default issuer (http://localhost:<bound port>): go-oidc demands discovery's issuer be the one asked for.
    s = await startGrantServer({ issuer: undefined, resources: [`${ORDERS}=orders:read,read`] });
    issuer = s.keymint.config.issuer;
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const style of ['header', 'params', 'auto'] as const) {
    test(`clientcredentials with AuthStyle ${style}: one token for two TokenSource calls, Bearer, scope, expires_in`, async () => {
      const c = await s.client({ scopes: ['read', 'write'] });
      const before = await tokensIssued();
      const out = await go('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_style: style, scopes: ['read'], calls: 2 });
      const [first, second] = out.calls;
      assert.deepEqual([first.token_type, first.scope, first.expires_in, first.refresh_token], ['Bearer', 'read', 3600, ''], JSON.stringify(first));
      assert.equal(second.access_token, first.access_token, 'the TokenSource reuses a token until it expires');
      assert.equal(await tokensIssued(), before + 1, 'two Token calls, one token request');
    });
  }

  test('clientcredentials with EndpointParams resource (RFC 8707): aud is the API; another resource is invalid_target', async () => {
    const c = await s.client({ scopes: ['read', 'write'], audiences: [ORDERS] });
    const ok = await go('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_style: 'header', scopes: ['read', 'write'], resources: [ORDERS], calls: 1 });
    // The resource allows read only: asking for write as well is refused, not narrowed (RI-02).
    assert.deepEqual(ok.calls, [{ error: 'invalid_scope', status: 400 }]);
    const narrowed = await go('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_style: 'header', scopes: ['read'], resources: [ORDERS], calls: 1 });
    assert.equal(narrowed.calls[0].scope, 'read', JSON.stringify(narrowed));
    const checked = await go('resource_server', { issuer, audience: ORDERS, tokens: [narrowed.calls[0].access_token] });
    assert.equal(checked.results[0].claims?.aud, ORDERS, JSON.stringify(checked));
    const other = await go('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_style: 'header', resources: ['https://billing.example'], calls: 1 });
    assert.deepEqual(other.calls, [{ error: 'invalid_target', status: 400 }]);
  });

  test('a wrong secret: invalid_client for header and params; auto-detect sends it twice, and the lockout counts both', async () => {
    const c = await s.client({ scopes: ['read'] });
    const wrong = `${c.secret.slice(0, -1)}${c.secret.endsWith('x') ? 'y' : 'x'}`;
    for (const style of ['header', 'params']) {
      const fresh = await s.client({ scopes: ['read'] });
      const out = await go('client_credentials', { issuer, client_id: fresh.id, client_secret: wrong, auth_style: style, calls: 1 });
      assert.deepEqual(out.calls, [{ error: 'invalid_client', status: 401 }], style);
    }
    const failures = () => metric('keymint_auth_failures_total{reason="credentials"}');
    const before = await failures();
    // Default lockout: 5 failures from one address lock that (client, address). Auto-detect's three
    // calls are six requests: the fifth fails as 401, the sixth meets the lockout.
    const out = await go('client_credentials', { issuer, client_id: c.id, client_secret: wrong, auth_style: 'auto', calls: 3 });
    assert.deepEqual(out.calls, [
      { error: 'invalid_client', status: 401 },
      { error: 'invalid_client', status: 401 },
      { error: 'temporarily_unavailable', status: 429 },
    ]);
    assert.equal(await failures(), before + 5);
    const locked = await go('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_style: 'header', calls: 1 });
    assert.deepEqual(locked.calls, [{ error: 'temporarily_unavailable', status: 429 }], 'locked even with the right secret');
  });

  test('a Go resource server: go-oidc\'s remote key set accepts Keymint\'s JWT access token, refuses a forged or foreign one', async () => {
    const c = await s.client({ scopes: ['read'] });
    const token = String((await s.token(c.id, c.secret, { scope: 'read' })).access_token);
    const [header, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read write' })).toString('base64url')}.${token.split('.')[2]}`;
    const out = await go('resource_server', { issuer, tokens: [token, forged] });
    assert.equal(out.jwks_uri, `${issuer}/oauth2/jwks`);
    assert.deepEqual([out.results[0].claims?.iss, out.results[0].claims?.client_id, out.results[0].claims?.scope], [issuer, c.id, 'read'], JSON.stringify(out));
    assert.match(out.results[1].rejected, /failed to verify signature/);
    // An API that names itself checks aud: a token for the deployment's audience is not one for ORDERS.
    const foreign = await go('resource_server', { issuer, audience: ORDERS, tokens: [token] });
    assert.match(foreign.results[0].rejected, /expected audience "https:\/\/orders\.example\/api"/);
  });

  for (const alg of ['PS256', 'ES256', 'EdDSA'] as const) {
    test(`a deployment signing with ${alg}: go-jose parses its JWKS and go-oidc verifies its access tokens when told the alg`, async () => {
      const other = await startGrantServer({ issuer: undefined, alg });
      try {
        const c = await other.client({ scopes: ['read'] });
        const token = String((await other.token(c.id, c.secret, { scope: 'read' })).access_token);
        const out = await go('resource_server', { issuer: other.keymint.config.issuer, algs: [alg], tokens: [token] });
        assert.equal(out.results[0].claims?.client_id, c.id, JSON.stringify(out));
        // go-oidc v2's verifier takes RS256 alone unless told otherwise (SupportedSigningAlgs).
        const strict = await go('resource_server', { issuer: other.keymint.config.issuer, tokens: [token] });
        assert.match(strict.results[0].rejected, new RegExp(`unsupported algorithm, expected \\["RS256"\\] got "${alg}"`));
      } finally {
        await other.close();
      }
    });
  }

  test('the code flow: PKCE S256, state, nonce; go-oidc verifies the ID token (at_hash too); userinfo; refresh through the TokenSource', async () => {
    const app = await s.client({ name: 'Go App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const session = await s.session();
    const out = await go('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, session_token: session.session_token });
    const asked = new URL(out.authorize_url).searchParams;
    assert.deepEqual([asked.get('code_challenge_method'), asked.get('response_type'), asked.get('scope')], ['S256', 'code', 'openid read']);
    assert.equal(out.redirect_status, 302, JSON.stringify(out));
    const location = new URL(out.location);
    assert.equal(`${location.origin}${location.pathname}`, CB);
    assert.equal(location.searchParams.get('iss'), issuer);
    assert.deepEqual([out.token.token_type, out.token.scope, out.token.expires_in], ['Bearer', 'openid read', 3600], JSON.stringify(out.token));
    assert.deepEqual([out.id_token.iss, out.id_token.aud, out.id_token.nonce, out.id_token.sub], [issuer, app.id, 'n-go-0S6_WzA2Mj', USER]);
    assert.equal(out.at_hash, 'ok');
    assert.equal(out.userinfo_subject, USER);
    assert.equal(typeof out.refreshed.access_token, 'string', JSON.stringify(out.refreshed));
    assert.notEqual(out.refreshed.access_token, out.token.access_token);
    assert.notEqual(out.refreshed.refresh_token, out.token.refresh_token, 'the refresh token rotates');
    assert.equal(out.reused, true, 'the refreshed token is reused until it expires');
    assert.equal(out.refreshed_id_token_subject, USER, 'the refresh\'s ID token passes go-oidc\'s verifier too');
  });

  test('a wrong code_verifier: invalid_grant, and the code is spent (C-07); auto-detect sends each exchange twice', async () => {
    const app = await s.client({ name: 'Go App', trusted: true, grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const session = await s.session();
    const refused = () => metric('keymint_token_requests_total{dialect="oauth2",grant="authorization_code",result="invalid_grant"}');
    const before = await refused();
    const out = await go('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, session_token: session.session_token, bad_verifier: true });
    assert.deepEqual(out, { bad_verifier: { error: 'invalid_grant', status: 400 }, then_right_verifier: { error: 'invalid_grant', status: 400 } });
    // Header then params for each Exchange: no AuthStyle is remembered while every attempt fails.
    assert.equal(await refused(), before + 4);
  });
});

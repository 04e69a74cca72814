/**
 * Keymint as Ruby services meet it: the oauth2 gem (Debian's ruby-oauth2 1.4), the OAuth 2.0 client
 * most Ruby applications use, directly or under OmniAuth's OAuth 2.0 strategies, run as its own
 * process (ruby_oauth2_client.rb) against a real server: client_credentials with both of its
 * authentication schemes, its error parsing, the code flow with PKCE S256 passed as parameters (the
 * gem has none of its own), a request with its AccessToken, refresh rotation and the reuse of a rotated
 * refresh token. Skipped with a message where Ruby or the gem is absent; CI (`.ci/run`) installs
 * it and KEYMINT_REQUIRE_SERVICES=1 turns a missing one into a failure.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startGrantServer, USER, type GrantServer } from '../grants/support.ts';

const RUBY = '/usr/bin/ruby';
const CB = 'https://app.example/cb';

/** False when the gem loads under /usr/bin/ruby, else the skip message (a failure in CI). */
function missing(): string | false {
  try {
    execFileSync(RUBY, ['-e', 'require "oauth2"'], { stdio: 'ignore' });
    return false;
  } catch {
    const message = `skipped: the oauth2 gem for ${RUBY} not found (apt-get install -y ruby-oauth2)`;
    if (process.env.KEYMINT_REQUIRE_SERVICES === '1') throw new Error(`${message.slice(9)} (KEYMINT_REQUIRE_SERVICES=1)`);
    return message;
  }
}

/** Runs one scenario of the script (asynchronously: the server answers in this process); resolves what it printed. */
function ruby(scenario: string, input: Record<string, unknown>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(RUBY, [fileURLToPath(new URL('./ruby_oauth2_client.rb', import.meta.url)), scenario, JSON.stringify(input)], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ruby_oauth2_client.rb ${scenario} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Record<string, any>);
    });
  });
}

describe('the oauth2 gem (Ruby) against Keymint', { skip: missing() }, () => {
  let s: GrantServer;
  let issuer: string;
  let verifyJwt: (jwt: string) => Promise<Record<string, unknown>>;
  before(async () => {
    s = await startGrantServer({ issuer: undefined });
    issuer = s.keymint.config.issuer;
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
    verifyJwt = async (jwt) => (await jwtVerify(jwt, jwks, { issuer })).payload;
  });
  after(() => s.close());

  for (const scheme of ['basic_auth', 'request_body'] as const) {
    test(`client_credentials with the gem's ${scheme}: a Bearer JWT of the requested scope, its lifetime read as expires_at`, async () => {
      const c = await s.client({ scopes: ['read', 'write'] });
      const out = await ruby('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, auth_scheme: scheme, scope: 'read' });
      assert.deepEqual(out.token.params, { token_type: 'Bearer', scope: 'read' }, JSON.stringify(out));
      assert.equal(out.token.expires_in, 3600);
      assert.ok(Math.abs(out.token.expires_at - (Date.now() / 1000 + 3600)) < 60);
      assert.equal(out.token.refresh_token, null);
      const claims = await verifyJwt(out.token.token);
      assert.deepEqual([claims.client_id, claims.scope, claims.sub], [c.id, 'read', c.id]);
    });
  }

  test('a wrong secret: the gem raises OAuth2::Error with invalid_client and the status from Keymint\'s error body', async () => {
    const c = await s.client({ scopes: ['read'] });
    const out = await ruby('client_credentials', { issuer, client_id: c.id, client_secret: `${c.secret.slice(0, -1)}x`, auth_scheme: 'basic_auth', scope: 'read' });
    assert.deepEqual([out.raised, out.code, out.status], ['OAuth2::Error', 'invalid_client', 401]);
    assert.equal(typeof out.description, 'string');
  });

  test('the code flow with PKCE S256 as parameters, userinfo through the gem\'s AccessToken, refresh rotation, a rotated refresh token refused and its family ended', async () => {
    const app = await s.client({ name: 'Rails App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const verifier = 'ruby-oauth2-gem-verifier-0123456789-abcdefghijklm';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const session = await s.session();
    const out = await ruby('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, code_verifier: verifier, code_challenge: challenge, session_token: session.session_token, reuse: true });
    assert.deepEqual([out.redirect_status, out.state, out.iss], [302, 'ruby-state-1', issuer], JSON.stringify(out));
    assert.deepEqual([out.token.params.token_type, out.token.params.scope], ['Bearer', 'openid read']);
    const idToken = await verifyJwt(out.token.params.id_token);
    assert.deepEqual([idToken.aud, idToken.sub], [app.id, USER]);
    assert.equal(out.userinfo.sub, USER);
    assert.notEqual(out.refreshed.refresh_token, out.token.refresh_token, 'the refresh token rotates');
    assert.equal((await verifyJwt(out.refreshed.token)).client_id, app.id);
    assert.deepEqual([out.reused.code, out.reused.status], ['invalid_grant', 400]);
    // The reuse ended the family: the access token the rotation gave is refused too.
    const afterReuse = await ruby('bearer', { issuer, client_id: app.id, client_secret: app.secret, access_token: out.refreshed.token, path: '/oauth2/userinfo' });
    assert.equal(afterReuse.status, 401);
  });

  test('an access token sent by the gem\'s AccessToken: userinfo answers it, and once it is revoked a 401 with the Bearer challenge the gem surfaces', async () => {
    const app = await s.client({ name: 'Sinatra App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const verifier = 'ruby-oauth2-gem-verifier-for-bearer-0123456789-ab';
    const flow = await ruby('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, code_verifier: verifier, code_challenge: createHash('sha256').update(verifier).digest('base64url'), session_token: (await s.session()).session_token });
    const token = flow.refreshed.token as string;
    const bearer = { issuer, client_id: app.id, client_secret: app.secret, access_token: token, path: '/oauth2/userinfo' };
    assert.deepEqual(await ruby('bearer', bearer), { status: 200 });
    const revoke = await fetch(`${s.url}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoke.status, 200);
    const refused = await ruby('bearer', bearer);
    assert.equal(refused.status, 401, JSON.stringify(refused));
    assert.match(refused.www_authenticate, /^Bearer .*error="invalid_token"/);
  });
});

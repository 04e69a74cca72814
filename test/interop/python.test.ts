/**
 * Keymint as Python services meet it, each library run as its own process against a real server.
 *
 * Authlib (Debian's python3-authlib), the most used Python OAuth 2.0 / OpenID Connect library. Authlib validates both
 * discovery documents with its RFC 8414 and OIDC Discovery validators, authenticates with
 * client_secret_basic, client_secret_post and private_key_jwt (RS256 and ES256 assertions it signs),
 * runs the code flow with PKCE S256, state and nonce, validates the ID token (signature through the
 * JWKS, iss, aud, nonce, at_hash) and access tokens, refreshes, introspects and revokes, and parses
 * Keymint's errors. The script is authlib_client.py; the user's browser is a session cookie. One
 * check of Authlib 1.2's OIDC Discovery validator is replaced by Authlib 1.6's (see the script):
 * 1.2 demands that a provider offer unsigned request objects, which Keymint refuses on purpose.
 *
 *
 * requests-oauthlib (python3-requests-oauthlib): the backend (client_credentials) flow with the Basic
 * credentials Requests makes, the web flow with PKCE passed as extra parameters, refresh rotation and
 * the reuse of a rotated refresh token. Script: requests_oauthlib_client.py.
 *
 * Skipped with a message where a library is absent; CI (`.ci/run`) installs both and
 * KEYMINT_REQUIRE_SERVICES=1 turns a missing one into a failure.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { exportPKCS8 } from 'jose';
import { keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { startGrantServer, USER, type GrantServer } from '../grants/support.ts';

const PYTHON = '/usr/bin/python3';
const CB = 'https://app.example/cb';

/** False when `module` imports under /usr/bin/python3, else the skip message (a failure in CI). */
function missing(module: string, library: string, deb: string): string | false {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return false;
  } catch {
    const message = `skipped: ${library} for ${PYTHON} not found (apt-get install -y ${deb})`;
    if (process.env.KEYMINT_REQUIRE_SERVICES === '1') throw new Error(`${message.slice(9)} (KEYMINT_REQUIRE_SERVICES=1)`);
    return message;
  }
}

/** Runs one scenario of a script beside this file (asynchronously: the server answers in this process); resolves what it printed. */
function python(script: string, scenario: string, input: Record<string, unknown>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [fileURLToPath(new URL(script, import.meta.url)), scenario, JSON.stringify(input)], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} ${scenario} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Record<string, any>);
    });
  });
}
const authlib = (scenario: string, input: Record<string, unknown>) => python('./authlib_client.py', scenario, input);
const requestsOauthlib = (scenario: string, input: Record<string, unknown>) => python('./requests_oauthlib_client.py', scenario, input);

describe('Authlib (Python) against Keymint', { skip: missing('authlib, requests', 'Authlib', 'python3-authlib') }, () => {
  let s: GrantServer;
  let issuer: string;
  before(async () => {
    // The default issuer (http://localhost:<bound port>): what discovery names is where the server answers.
    s = await startGrantServer({ issuer: undefined });
    issuer = s.keymint.config.issuer;
  });
  after(() => s.close());

  test('Authlib\'s RFC 8414 and OIDC Discovery validators accept both metadata documents', async () => {
    assert.deepEqual(await authlib('metadata', { issuer }), { issuer, oidc_issuer: issuer, token_endpoint: `${issuer}/oauth2/token` });
  });

  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    test(`client_credentials with ${method}: a Bearer JWT Authlib verifies through the JWKS`, async () => {
      const c = await s.client({ scopes: ['read', 'write'] });
      const out = await authlib('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, method, scope: 'read' });
      assert.deepEqual(Object.keys(out.token).sort(), ['access_token', 'expires_at', 'expires_in', 'scope', 'token_type']);
      assert.deepEqual([out.token.token_type, out.token.scope, out.token.expires_in], ['Bearer', 'read', 3600]);
      assert.deepEqual([out.claims.iss, out.claims.client_id, out.claims.scope], [issuer, c.id, 'read']);
    });
  }

  test('a wrong secret: Authlib raises invalid_client from Keymint\'s error body', async () => {
    const c = await s.client({ scopes: ['read'] });
    const out = await authlib('client_credentials', { issuer, client_id: c.id, client_secret: `${c.secret.slice(0, -1)}x`, method: 'client_secret_basic' });
    assert.deepEqual([out.raised, out.error], ['OAuthError', 'invalid_client']);
    assert.equal(typeof out.description, 'string');
  });

  for (const alg of ['RS256', 'ES256'] as const) {
    test(`private_key_jwt: Authlib's ${alg} client assertion (aud the token endpoint, its own jti) is accepted once`, async () => {
      const key = await keyPair(alg, `authlib-${alg}`);
      const id = await privateKeyJwtClient(s.keymint, { keys: [key] }, { scopes: ['read'] });
      const out = await authlib('private_key_jwt', { issuer, client_id: id, private_key_pem: await exportPKCS8(key.privateKey), alg, scope: 'read' });
      assert.equal(out.token?.token_type, 'Bearer', JSON.stringify(out));
      assert.deepEqual([out.claims.client_id, out.claims.scope], [id, 'read']);
    });
  }

  test('the code flow: PKCE S256, state, nonce; the ID token passes Authlib\'s checks (at_hash included); refresh, introspection, revocation', async () => {
    const app = await s.client({ name: 'Python App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const session = await s.session();
    const out = await authlib('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, session_token: session.session_token });
    assert.equal(out.redirect_status, 302);
    const location = new URL(out.location);
    assert.equal(`${location.origin}${location.pathname}`, CB);
    assert.equal(location.searchParams.get('iss'), issuer);
    assert.deepEqual(Object.keys(out.token).sort(), ['access_token', 'expires_at', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    assert.deepEqual([out.id_token.iss, out.id_token.aud, out.id_token.nonce, out.id_token.sub], [issuer, app.id, 'n-0S6_WzA2Mj', USER]);
    assert.equal(typeof out.id_token.at_hash, 'string');
    assert.notEqual(out.refreshed.refresh_token, out.token.refresh_token, 'the refresh token rotates');
    assert.deepEqual([out.introspected.active, out.introspected.client_id, out.introspected.scope], [true, app.id, 'openid read']);
    assert.equal(out.revoke_status, 200);
    assert.deepEqual(out.after_revocation, { active: false });
    assert.equal(out.refresh_after_revocation, 'invalid_grant');
  });
});

describe('requests-oauthlib (Python) against Keymint', { skip: missing('requests_oauthlib', 'requests-oauthlib', 'python3-requests-oauthlib') }, () => {
  let s: GrantServer;
  let issuer: string;
  before(async () => {
    s = await startGrantServer({ issuer: undefined });
    issuer = s.keymint.config.issuer;
  });
  after(() => s.close());

  test('the backend flow (client_credentials) with the Basic credentials Requests makes', async () => {
    const c = await s.client({ scopes: ['read', 'write'] });
    const out = await requestsOauthlib('client_credentials', { issuer, client_id: c.id, client_secret: c.secret, scope: ['read'] });
    assert.deepEqual([out.token?.token_type, out.token?.scope, out.token?.expires_in], ['Bearer', ['read'], 3600], JSON.stringify(out));
  });

  test('a wrong secret: the library raises invalid_client from Keymint\'s error body', async () => {
    const c = await s.client({ scopes: ['read'] });
    const out = await requestsOauthlib('client_credentials', { issuer, client_id: c.id, client_secret: 'ks_wrong' });
    assert.deepEqual([out.raised, out.error], ['InvalidClientError', 'invalid_client']);
  });

  test('the web flow with PKCE as extra parameters, a rotating refresh, and the rotated token refused when reused', async () => {
    const app = await s.client({ name: 'Flask App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
    const verifier = 'requests-oauthlib-verifier-0123456789-abcdefghij';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const session = await s.session();
    const out = await requestsOauthlib('code_flow', { issuer, client_id: app.id, client_secret: app.secret, redirect_uri: CB, code_verifier: verifier, code_challenge: challenge, session_token: session.session_token });
    assert.equal(out.state_matched, true, JSON.stringify(out));
    assert.deepEqual([out.token.token_type, out.token.scope], ['Bearer', ['openid', 'read']]);
    assert.equal(typeof out.token.id_token, 'string');
    assert.notEqual(out.refreshed.refresh_token, out.token.refresh_token);
    assert.equal(out.reused_error, 'invalid_grant');
  });
});

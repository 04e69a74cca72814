/**
 * Polar's own SDK, `@polar-sh/sdk`, against a running `keymint serve` (a child process, clients made
 * with the CLI) mounting the `polar` dialect: every OAuth 2.0 call the SDK offers, as Polar documents
 * it — the authorization code redeemed by a confidential client with its secret and no
 * code_verifier, refresh, the `web` grant, introspection, revocation and userinfo — each answer
 * passing the SDK's own response validation.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Polar } from '@polar-sh/sdk';
import { ResponseValidationError } from '@polar-sh/sdk/models/errors/responsevalidationerror.js';
import { SDKError } from '@polar-sh/sdk/models/errors/sdkerror.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { basic, tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';
import { formFields } from './support.ts';

const ISSUER = 'http://localhost:8080';
const CB = 'https://app.example/cb';
const USER = '8b4f1c1e-3a55-4d2b-9a57-0d7f0c5e1a11';
const ORG = '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09';

interface Created { client_id: string; client_secret: string; pkce_required: boolean }

describe('@polar-sh/sdk against the polar dialect', () => {
  const data = tempDir('keymint-polar-sdk-');
  let server: ServeProcess;
  let app: Created;
  let dashboard: Created;
  let strict: Created;
  let adminToken: string;
  let polar: Polar;

  const create = async (...args: string[]): Promise<Created> => {
    const r = await cli(['clients', 'create', '--data', data, '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Created;
  };
  const session = async (): Promise<string> => {
    const res = await fetch(`${server.url}/admin/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: USER, subject_type: 'user', organizations: [ORG] }),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { session_token: string }).session_token;
  };
  /** The browser's part, as Polar documents the authorization request: no code_challenge. */
  const authorize = async (clientId: string): Promise<URL> => {
    const cookie = `keymint_session=${await session()}`;
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: CB, scope: 'openid profile', state: 's1' });
    let res = await fetch(`${server.url}/v1/oauth2/authorize?${query}`, { redirect: 'manual', headers: { cookie } });
    if (res.status === 200) {
      const fields = formFields(await res.text());
      res = await fetch(`${server.url}/v1/oauth2/authorize`, {
        method: 'POST', redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...fields, decision: 'approve' }).toString(),
      });
    }
    assert.equal(res.status, 302);
    return new URL(String(res.headers.get('location')));
  };

  before(async () => {
    const admin = await create('--name', 'platform', '--admin');
    app = await create('--name', 'Acme Reports', '--grant', 'authorization_code', '--grant', 'refresh_token',
      '--scope', 'openid', '--scope', 'profile', '--redirect-uri', CB, '--pkce-optional');
    strict = await create('--name', 'Strict', '--grant', 'authorization_code', '--scope', 'openid', '--scope', 'profile', '--redirect-uri', CB);
    dashboard = await create('--name', 'Dashboard', '--grant', 'web', '--scope', 'openid', '--scope', 'organizations:read');
    server = await serve(['--data', data, '--dialect', 'oauth2', '--dialect', 'polar', '--issuer', ISSUER]);
    const res = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic(admin.client_id, admin.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=keymint:admin',
    });
    adminToken = ((await res.json()) as { access_token: string }).access_token;
    polar = new Polar({ serverURL: server.url });
  });
  after(async () => {
    await stop(server);
    rmSync(data, { recursive: true, force: true });
  });

  test('P-08 the CLI registers the Polar app without PKCE; every other client keeps it required', async () => {
    assert.equal(app.pkce_required, false);
    assert.equal(strict.pkce_required, true);
    const refused = await authorize(strict.client_id);
    assert.equal(`${refused.origin}${refused.pathname}`, CB);
    assert.equal(refused.searchParams.get('error'), 'invalid_request');
    assert.equal(refused.searchParams.get('error_description'), 'PKCE with code_challenge_method=S256 is required.');
    const pub = await cli(['clients', 'create', '--data', data, '--name', 'spa', '--type', 'public', '--grant', 'authorization_code', '--redirect-uri', CB, '--pkce-optional']);
    assert.equal(pub.code, 2);
    assert.equal(pub.stderr, 'keymint: pkce_required: a public client must use PKCE (RFC 9700 §2.1.1)\n');
  });

  test('authorization code (client_secret, no code_verifier) → refresh → userinfo, introspect and revoke, all through the SDK', async () => {
    const back = await authorize(app.client_id);
    assert.equal(back.searchParams.get('state'), 's1');
    assert.equal(back.searchParams.get('iss'), ISSUER);
    const code = String(back.searchParams.get('code'));

    const tokens = await polar.oauth2.token({ grantType: 'authorization_code', clientId: app.client_id, clientSecret: app.client_secret, code, redirectUri: CB });
    assert.deepEqual(Object.keys(tokens).sort(), ['accessToken', 'expiresIn', 'idToken', 'refreshToken', 'scope', 'tokenType']);
    assert.match(tokens.accessToken, /^polar_at_u_[0-9A-Za-z]{43}$/);
    assert.match(String(tokens.refreshToken), /^polar_rt_u_[0-9A-Za-z]{43}$/);
    assert.equal(tokens.tokenType, 'Bearer');
    assert.equal(tokens.scope, 'openid profile');
    assert.equal(tokens.expiresIn, 3600);
    const { payload } = await jwtVerify(String(tokens.idToken), createRemoteJWKSet(new URL(`${server.url}/oauth2/jwks`)), { issuer: ISSUER, audience: app.client_id });
    assert.equal(payload.sub, USER);
    assert.equal(payload.sub_type, 'user');

    const user = new Polar({ serverURL: server.url, accessToken: tokens.accessToken });
    assert.deepEqual(await user.oauth2.userinfo(), { sub: USER });

    const intro = await polar.oauth2.introspect({ token: tokens.accessToken, clientId: app.client_id, clientSecret: app.client_secret });
    assert.equal(intro.exp - intro.iat, 3600);
    assert.deepEqual(intro, {
      active: true, clientId: app.client_id, tokenType: 'access_token', scope: 'openid profile', subType: 'user', sub: USER,
      organizations: [], aud: ISSUER, iss: ISSUER, exp: intro.exp, iat: intro.iat,
    });
    const introRefresh = await polar.oauth2.introspect({ token: String(tokens.refreshToken), tokenTypeHint: 'refresh_token', clientId: app.client_id, clientSecret: app.client_secret });
    assert.equal(introRefresh.tokenType, 'refresh_token');
    assert.equal(introRefresh.active, true);

    // Refresh rotates; the rotated token presented again is refused with Polar's error body.
    const refreshed = await polar.oauth2.token({ grantType: 'refresh_token', clientId: app.client_id, clientSecret: app.client_secret, refreshToken: String(tokens.refreshToken) });
    assert.match(refreshed.accessToken, /^polar_at_u_/);
    assert.match(String(refreshed.refreshToken), /^polar_rt_u_/);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    assert.equal(refreshed.scope, 'openid profile');
    assert.equal(typeof refreshed.idToken, 'string');
    const fresh = await polar.oauth2.token({ grantType: 'refresh_token', clientId: app.client_id, clientSecret: app.client_secret, refreshToken: String(refreshed.refreshToken) });

    // Revocation answers Polar's RevokeTokenResponse: 200, application/json, `{}`.
    assert.deepEqual(await polar.oauth2.revoke({ token: fresh.accessToken, clientId: app.client_id, clientSecret: app.client_secret }), {});
    // An inactive token is exactly {"active":false}, as Polar answers it, which the SDK's schema
    // (every field required) rejects: callers catch ResponseValidationError and read rawValue.
    const inactive = await polar.oauth2.introspect({ token: fresh.accessToken, clientId: app.client_id, clientSecret: app.client_secret }).then(() => undefined, (e: unknown) => e);
    assert.ok(inactive instanceof ResponseValidationError, String(inactive));
    assert.equal(inactive.statusCode, 200);
    assert.deepEqual(inactive.rawValue, { active: false });
    const gone = await new Polar({ serverURL: server.url, accessToken: fresh.accessToken }).oauth2.userinfo().then(() => undefined, (e: unknown) => e);
    assert.ok(gone instanceof SDKError, String(gone));
    assert.equal(gone.statusCode, 401);
    assert.deepEqual(JSON.parse(gone.body), { error: 'invalid_token', error_description: 'The access token is invalid.' });
    // The refresh token of that family still works until revoked itself.
    assert.deepEqual(await polar.oauth2.revoke({ token: String(fresh.refreshToken), tokenTypeHint: 'refresh_token', clientId: app.client_id, clientSecret: app.client_secret }), {});
    const reuse = await polar.oauth2.token({ grantType: 'refresh_token', clientId: app.client_id, clientSecret: app.client_secret, refreshToken: String(fresh.refreshToken) }).then(() => undefined, (e: unknown) => e);
    assert.ok(reuse instanceof SDKError, String(reuse));
    assert.equal(reuse.statusCode, 400);
    assert.equal((JSON.parse(reuse.body) as { error: string }).error, 'invalid_grant');
  });

  test('the web grant, as user and as organization, with introspection through the SDK', async () => {
    const sessionToken = await session();
    const org = await polar.oauth2.token({ grantType: 'web', clientId: dashboard.client_id, clientSecret: dashboard.client_secret, sessionToken, subType: 'organization', sub: ORG });
    assert.match(org.accessToken, /^polar_at_o_[0-9A-Za-z]{43}$/);
    assert.equal(org.refreshToken, null);
    assert.equal(org.tokenType, 'Bearer');
    assert.equal(org.scope, 'openid organizations:read');
    const intro = await polar.oauth2.introspect({ token: org.accessToken, clientId: dashboard.client_id, clientSecret: dashboard.client_secret });
    assert.deepEqual(intro, {
      active: true, clientId: dashboard.client_id, tokenType: 'access_token', scope: 'openid organizations:read', subType: 'organization', sub: ORG,
      organizations: [ORG], aud: ISSUER, iss: ISSUER, exp: intro.exp, iat: intro.iat,
    });
    assert.deepEqual(await new Polar({ serverURL: server.url, accessToken: org.accessToken }).oauth2.userinfo(), { sub: ORG });

    const asUser = await polar.oauth2.token({ grantType: 'web', clientId: dashboard.client_id, clientSecret: dashboard.client_secret, sessionToken, scope: 'openid' });
    assert.match(asUser.accessToken, /^polar_at_u_/);
    assert.equal(asUser.scope, 'openid');
    // Another client learns nothing about it.
    const foreign = await polar.oauth2.introspect({ token: asUser.accessToken, clientId: app.client_id, clientSecret: app.client_secret }).then(() => undefined, (e: unknown) => e);
    assert.ok(foreign instanceof ResponseValidationError);
    assert.deepEqual(foreign.rawValue, { active: false });
  });

  test('the wire under the SDK: revoke is 200 application/json `{}`, introspect is Polar\'s IntrospectTokenResponse', async () => {
    const sessionToken = await session();
    const t = await polar.oauth2.token({ grantType: 'web', clientId: dashboard.client_id, clientSecret: dashboard.client_secret, sessionToken });
    const form = (token: string) => new URLSearchParams({ token, client_id: dashboard.client_id, client_secret: dashboard.client_secret }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const intro = await fetch(`${server.url}/v1/oauth2/introspect`, { method: 'POST', headers, body: form(t.accessToken) });
    assert.equal(intro.status, 200);
    assert.equal(intro.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(intro.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys((await intro.json()) as object), ['active', 'client_id', 'token_type', 'scope', 'sub_type', 'sub', 'organizations', 'aud', 'iss', 'exp', 'iat']);
    const revoke = await fetch(`${server.url}/v1/oauth2/revoke`, { method: 'POST', headers, body: form(t.accessToken) });
    assert.equal(revoke.status, 200);
    assert.equal(revoke.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(revoke.headers.get('cache-control'), 'no-store');
    assert.equal(await revoke.text(), '{}');
    // The standard dialect keeps RFC 7009's empty body and RFC 7662's names.
    const std = await fetch(`${server.url}/oauth2/revoke`, { method: 'POST', headers, body: form(t.accessToken) });
    assert.equal(std.status, 200);
    assert.equal(await std.text(), '');
  });
});

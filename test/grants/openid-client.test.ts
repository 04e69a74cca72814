/**
 * The code flow as a Node app's relying-party library drives it: openid-client v6 (and oauth4webapi,
 * the protocol layer beneath it) discovers Keymint, builds the authorization URL with PKCE S256, state
 * and nonce, validates the authorization response and the ID token strictly (iss, aud, nonce, exp and
 * iat; its signature through the JWKS, which openid-client checks once an app turns on
 * enableNonRepudiationChecks, as these tests do; at_hash by the test), reads userinfo, rotates refresh tokens, introspects and
 * revokes with the client's secret. The user's session and the consent form are handled as the other
 * grant suites do; everything else is the library's own code.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { startSandbox, type Sandbox } from '../../src/start-sandbox.ts';
import { formFields, startGrantServer, USER, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const SCOPE = 'openid invoices:read';

let s: GrantServer;
let app: { id: string; secret: string };
let issuer: URL;
before(async () => {
  // The default issuer (http://localhost:<bound port>), so what discovery finds is where the server answers.
  s = await startGrantServer({ issuer: undefined });
  issuer = new URL(s.keymint.config.issuer);
  app = await s.client({ name: 'Acme Reports', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB] });
});
after(() => s.close());

/** Records what the library sent: URL, method, headers and body of each request. */
function recorder() {
  const sent: { url: string; headers: Headers; body: string; status: number }[] = [];
  const fetchFn = async (url: string, init: RequestInit) => {
    const res = await fetch(url, init);
    sent.push({ url, headers: new Headers(init.headers), body: init.body === undefined ? '' : String(init.body), status: res.status });
    return res;
  };
  return { sent, fetchFn: fetchFn as typeof fetch };
}

/**
 * openid-client's configuration for the app, discovered from the issuer, with one client authentication
 * method. The library checks an ID token's signature from the token endpoint only with
 * enableNonRepudiationChecks (OIDC Core §3.1.3.7 lets it rely on TLS); a strict app turns it on.
 */
async function configure(auth: openid.ClientAuth = openid.ClientSecretBasic(app.secret), algorithm?: 'oidc' | 'oauth2') {
  const execute = [openid.allowInsecureRequests, openid.enableNonRepudiationChecks];
  const config = await openid.discovery(issuer, app.id, undefined, auth, { execute, ...(algorithm ? { algorithm } : {}) });
  const rec = recorder();
  config[openid.customFetch] = rec.fetchFn;
  return { config, rec };
}

/**
 * The browser's part: the user's session cookie at the authorization endpoint (none when `cookie` is
 * null), the consent form answered with `decision`; resolves the redirect.
 */
async function browse(url: URL, decision = 'approve', cookie: string | null = null): Promise<URL> {
  cookie ??= `keymint_session=${(await s.session()).session_token}`;
  let res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  if (res.status === 200) {
    res = await fetch(new URL(url.pathname, url), {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(await res.text()), decision }).toString(),
    });
  }
  assert.equal(res.status, 302, await res.clone().text());
  return new URL(String(res.headers.get('location')));
}

/** The cookie of a session of a user who has approved nothing yet (no consent is remembered for them). */
let users = 0;
const newUser = async () => `keymint_session=${(await s.session({ subject: `rp-user-${++users}` })).session_token}`;

/** An app's login: PKCE S256, state and nonce, the authorization URL built by openid-client, the callback URL. */
async function login(config: openid.Configuration, browser: (url: URL) => Promise<URL> = browse, extra: Record<string, string> = {}) {
  const pkceCodeVerifier = openid.randomPKCECodeVerifier();
  const expectedState = openid.randomState();
  const expectedNonce = openid.randomNonce();
  const url = openid.buildAuthorizationUrl(config, {
    redirect_uri: CB, scope: SCOPE, state: expectedState, nonce: expectedNonce,
    code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256', ...extra,
  });
  return { callback: await browser(url), checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

/** Asserts that openid-client refused a response itself, for the reason its cause gives. */
const refusedLocally = (code: string, reason: RegExp) => (e: unknown) => {
  assert.ok(e instanceof openid.ClientError, String(e));
  assert.equal(e.code, code);
  assert.match(String((e.cause as Error | undefined)?.message), reason);
  return true;
};

/** Asserts openid-client's error for an OAuth error answer from Keymint. */
const oauthError = (error: string, status = 400) => (e: unknown) => {
  assert.ok(e instanceof openid.ResponseBodyError, String(e));
  assert.equal(e.error, error);
  assert.equal(e.status, status);
  return true;
};

describe('openid-client against the oauth2 dialect', () => {
  test('discovery: OIDC discovery and RFC 8414 metadata name the endpoints an app uses', async () => {
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      const { config } = await configure(undefined, algorithm);
      const m = config.serverMetadata();
      assert.equal(m.issuer, issuer.href.replace(/\/$/, ''));
      for (const [field, path] of [
        ['authorization_endpoint', '/oauth2/authorize'], ['token_endpoint', '/oauth2/token'], ['jwks_uri', '/oauth2/jwks'],
        ['userinfo_endpoint', '/oauth2/userinfo'], ['introspection_endpoint', '/oauth2/introspect'], ['revocation_endpoint', '/oauth2/revoke'],
      ] as const) assert.equal(m[field], `${m.issuer}${path}`, field);
      assert.equal(m.supportsPKCE(), true);
      assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
      assert.equal(m.authorization_response_iss_parameter_supported, true);
      assert.ok(m.id_token_signing_alg_values_supported?.includes('RS256'));
      for (const method of ['client_secret_basic', 'client_secret_post']) {
        assert.ok(m.token_endpoint_auth_methods_supported?.includes(method), method);
        assert.ok(m.introspection_endpoint_auth_methods_supported?.includes(method), method);
        assert.ok(m.revocation_endpoint_auth_methods_supported?.includes(method), method);
      }
    }
  });

  test('authorization code with PKCE: the ID token passes the library\'s checks; the claims, token type, lifetime and scope an app sees; userinfo', async () => {
    const { config, rec } = await configure();
    const { callback, checks } = await login(config);
    assert.equal(callback.origin + callback.pathname, CB);
    assert.equal(callback.searchParams.get('iss'), config.serverMetadata().issuer);
    const tokens = await openid.authorizationCodeGrant(config, callback, checks);
    const sent = rec.sent.find((r) => r.url === config.serverMetadata().token_endpoint)!;
    assert.ok(rec.sent.some((r) => r.url === config.serverMetadata().jwks_uri && r.status === 200), 'the JWKS was read to check the signature');
    assert.match(sent.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic');
    assert.equal(new URLSearchParams(sent.body).get('code_verifier'), checks.pkceCodeVerifier);

    assert.equal(tokens.token_type, 'bearer'); // the library lower-cases it
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.expiresIn()! > 3590, 'counted from the answer'); // the helper counts down from the answer
    assert.equal(tokens.scope, SCOPE);
    assert.match(tokens.refresh_token ?? '', /^km_rt_/);
    const claims = tokens.claims()!;
    assert.equal(claims.iss, config.serverMetadata().issuer);
    assert.equal(claims.sub, USER);
    assert.equal(claims.aud, app.id);
    assert.equal(claims.nonce, checks.expectedNonce);
    // The library checks at_hash only in the hybrid flow; an app that wants it computes it (OIDC Core §3.1.3.8).
    assert.equal(claims.at_hash, createHash('sha256').update(tokens.access_token).digest().subarray(0, 16).toString('base64url'));
    assert.equal(claims.sub_type, 'user');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(now - claims.iat) <= 5 && claims.exp > now);
    assert.ok(typeof claims.auth_time === 'number' && claims.auth_time <= now);

    assert.deepEqual(await openid.fetchUserInfo(config, tokens.access_token, USER), { sub: USER, sub_type: 'user' });
    // The library compares the subject with the one the app expects.
    await assert.rejects(
      openid.fetchUserInfo(config, tokens.access_token, 'someone-else'),
      refusedLocally('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', /unexpected "response" body "sub" property value/),
    );
  });

  test('RT-04 refresh with rotation: each rotated token works; the first one presented again is invalid_grant and ends the family', async () => {
    const { config } = await configure();
    const { callback, checks } = await login(config);
    const first = await openid.authorizationCodeGrant(config, callback, checks);
    const second = await openid.refreshTokenGrant(config, first.refresh_token!);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.equal(second.scope, SCOPE);
    // OIDC Core §12.2: a refreshed ID token has the same iss, sub, aud and auth_time, and no nonce.
    const [original, refreshed] = [first.claims()!, second.claims()!];
    for (const claim of ['iss', 'sub', 'aud', 'auth_time'] as const) assert.deepEqual(refreshed[claim], original[claim], claim);
    assert.equal(refreshed.nonce, undefined);
    const third = await openid.refreshTokenGrant(config, second.refresh_token!);
    assert.notEqual(third.refresh_token, second.refresh_token);
    assert.deepEqual(await openid.fetchUserInfo(config, third.access_token, USER), { sub: USER, sub_type: 'user' });

    // Reuse of a rotated token (no grace window by default): refused, and the family is revoked.
    await assert.rejects(openid.refreshTokenGrant(config, first.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(openid.refreshTokenGrant(config, third.refresh_token!), oauthError('invalid_grant'));
    assert.deepEqual(await openid.tokenIntrospection(config, third.access_token), { active: false });
    await assert.rejects(openid.fetchUserInfo(config, third.access_token, USER), (e: unknown) => {
      assert.ok(e instanceof openid.WWWAuthenticateChallengeError, String(e));
      assert.equal(e.status, 401);
      assert.deepEqual(e.cause.map((c) => [c.scheme, c.parameters.error]), [['bearer', 'invalid_token']]);
      return true;
    });
  });

  for (const [method, auth] of [
    ['client_secret_basic', () => openid.ClientSecretBasic(app.secret)],
    ['client_secret_post', () => openid.ClientSecretPost(app.secret)],
  ] as const) {
    test(`introspection and revocation with ${method}: the app's tokens are active, a revoked refresh token ends its family`, async () => {
      const { config, rec } = await configure(auth());
      const { callback, checks } = await login(config);
      const tokens = await openid.authorizationCodeGrant(config, callback, checks);
      const access = await openid.tokenIntrospection(config, tokens.access_token);
      assert.equal(access.active, true);
      assert.equal(access.client_id, app.id);
      assert.equal(access.sub, USER);
      assert.equal(access.scope, SCOPE);
      assert.equal(access.token_type, 'Bearer');
      assert.equal(access.iss, config.serverMetadata().issuer);
      const refresh = await openid.tokenIntrospection(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
      assert.equal(refresh.active, true);
      assert.equal(refresh.sub, USER);

      await openid.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
      assert.deepEqual(await openid.tokenIntrospection(config, tokens.refresh_token!), { active: false });
      assert.deepEqual(await openid.tokenIntrospection(config, tokens.access_token), { active: false }, 'the family\'s access token');
      await assert.rejects(openid.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
      // Revoking an unknown or already revoked token is no error (RFC 7009 §2.2).
      await openid.tokenRevocation(config, tokens.refresh_token!);

      const endpoints = [config.serverMetadata().token_endpoint, config.serverMetadata().introspection_endpoint, config.serverMetadata().revocation_endpoint];
      const calls = rec.sent.filter((r) => endpoints.includes(r.url));
      assert.ok(calls.length >= 8);
      for (const r of calls) {
        const body = new URLSearchParams(r.body);
        if (method === 'client_secret_basic') {
          assert.match(r.headers.get('authorization') ?? '', /^Basic /, r.url);
          assert.equal(body.get('client_secret'), null, r.url);
        } else {
          assert.equal(r.headers.get('authorization'), null, r.url);
          assert.equal(body.get('client_id'), app.id, r.url);
          assert.equal(body.get('client_secret'), app.secret, r.url);
        }
      }
    });
  }

  test('a public client (no secret, token_endpoint_auth_method none): PKCE alone binds the code; refresh and revocation with its client_id', async () => {
    const spa = await s.client({ name: 'Acme SPA', type: 'public', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB] });
    const config = await openid.discovery(issuer, spa.id, undefined, openid.None(), { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks] });
    const { callback, checks } = await login(config);
    const tokens = await openid.authorizationCodeGrant(config, callback, checks);
    assert.equal(tokens.claims()?.aud, spa.id);
    assert.equal(tokens.claims()?.nonce, checks.expectedNonce);
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    await openid.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(openid.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));
    // Introspection is for confidential clients only.
    await assert.rejects(openid.tokenIntrospection(config, refreshed.access_token), oauthError('invalid_client', 401));
  });

  test('errors at the authorization endpoint reach the app as the library\'s AuthorizationResponseError, state and iss checked', async () => {
    const { config } = await configure();
    for (const [browser, error] of [
      [(url: URL) => browse(url, 'approve', ''), 'login_required'], // no session, and no --login-url to send the user to
      [async (url: URL) => browse(url, 'deny', await newUser()), 'access_denied'],
    ] as const) {
      const { callback, checks } = await login(config, browser);
      await assert.rejects(openid.authorizationCodeGrant(config, callback, checks), (e: unknown) => {
        assert.ok(e instanceof openid.AuthorizationResponseError, String(e));
        assert.equal(e.error, error);
        assert.equal(e.cause.get('state'), checks.expectedState);
        return true;
      });
    }
  });

  test('OIDC prompt=none reaches the app as consent_required or login_required; max_age: the library checks auth_time against it', async () => {
    const { config } = await configure();
    for (const [cookie, error] of [[await newUser(), 'consent_required'], ['', 'login_required']] as const) {
      const { callback, checks } = await login(config, (url) => browse(url, 'approve', cookie), { prompt: 'none' });
      await assert.rejects(openid.authorizationCodeGrant(config, callback, checks), (e: unknown) => {
        assert.ok(e instanceof openid.AuthorizationResponseError, String(e));
        assert.equal(e.error, error);
        return true;
      });
    }
    const { callback, checks } = await login(config, browse, { max_age: '300' });
    const tokens = await openid.authorizationCodeGrant(config, callback, { ...checks, maxAge: 300 });
    const authTime = Number(tokens.claims()?.auth_time);
    assert.ok(Math.abs(authTime - Date.now() / 1000) < 60, `auth_time ${authTime}`);
  });

  test('CON-01 silent re-authentication on SQLite: after one interactive approval, prompt=none gets a code the library redeems; once the app revokes its refresh token, consent_required', async () => {
    assert.equal(s.keymint.store.kind, 'sqlite');
    const { config } = await configure();
    const cookie = await newUser();
    const pages: number[] = [];
    const browser = async (url: URL) => {
      pages.push((await fetch(url, { redirect: 'manual', headers: { cookie } })).status);
      return browse(url, 'approve', cookie);
    };
    const interactive = await login(config, browser);
    const first = await openid.authorizationCodeGrant(config, interactive.callback, interactive.checks);
    assert.deepEqual(pages, [200], 'the first login shows the consent page');
    const { callback, checks } = await login(config, browser, { prompt: 'none' });
    assert.deepEqual(pages, [200, 302], 'prompt=none: no page, straight back to the app');
    const silent = await openid.authorizationCodeGrant(config, callback, checks);
    assert.equal(silent.claims()?.sub, first.claims()?.sub);
    assert.equal(silent.scope, SCOPE);
    assert.equal(typeof silent.refresh_token, 'string');
    // The app signs the user out of it for good: revoking its refresh token withdraws the consent.
    await openid.tokenRevocation(config, silent.refresh_token!);
    const after = await login(config, browser, { prompt: 'none' });
    await assert.rejects(openid.authorizationCodeGrant(config, after.callback, after.checks), (e: unknown) => {
      assert.ok(e instanceof openid.AuthorizationResponseError, String(e));
      assert.equal(e.error, 'consent_required');
      assert.equal(e.cause.get('state'), after.checks.expectedState);
      return true;
    });
  });

  test('a wrong state is refused by the library before any request; the code then still serves the right state', async () => {
    const { config, rec } = await configure();
    const { callback, checks } = await login(config);
    const before = rec.sent.length;
    await assert.rejects(
      openid.authorizationCodeGrant(config, callback, { ...checks, expectedState: openid.randomState() }),
      refusedLocally('OAUTH_INVALID_RESPONSE', /unexpected "state" response parameter value/),
    );
    assert.equal(rec.sent.length, before, 'nothing was sent to the token endpoint');
    assert.equal((await openid.authorizationCodeGrant(config, callback, checks)).claims()?.sub, USER);
  });

  test('a wrong nonce is refused by the library (the ID token names the nonce the app sent)', async () => {
    const { config } = await configure();
    const { callback, checks } = await login(config);
    await assert.rejects(
      openid.authorizationCodeGrant(config, callback, { ...checks, expectedNonce: openid.randomNonce() }),
      refusedLocally('OAUTH_JWT_CLAIM_COMPARISON_FAILED', /unexpected ID Token "nonce" claim value/),
    );
  });

  test('C-02 a code redeemed twice is invalid_grant, and the tokens of the first redemption are revoked', async () => {
    const { config } = await configure();
    const { callback, checks } = await login(config);
    const tokens = await openid.authorizationCodeGrant(config, callback, checks);
    await assert.rejects(openid.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));
    assert.deepEqual(await openid.tokenIntrospection(config, tokens.access_token), { active: false });
    await assert.rejects(openid.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
  });

  test('P-04 C-07 a wrong PKCE verifier is invalid_grant, and the code is used up', async () => {
    const { config } = await configure();
    const { callback, checks } = await login(config);
    await assert.rejects(openid.authorizationCodeGrant(config, callback, { ...checks, pkceCodeVerifier: openid.randomPKCECodeVerifier() }), oauthError('invalid_grant'));
    await assert.rejects(openid.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));
  });
});

describe('openid-client against the polar dialect', () => {
  test('configured with Polar\'s /v1/oauth2 endpoints: code flow with ID token, userinfo, Polar\'s introspection, refresh, revocation', async () => {
    // With oauth2 mounted too, discovery names the oauth2 dialect's endpoints; a Polar app configures Polar's paths itself.
    const m = (await configure()).config.serverMetadata();
    const polar = (e: string) => `${m.issuer}/v1/oauth2/${e}`;
    const config = new openid.Configuration(
      { issuer: m.issuer, jwks_uri: m.jwks_uri, authorization_endpoint: polar('authorize'), token_endpoint: polar('token'), userinfo_endpoint: polar('userinfo'),
        introspection_endpoint: polar('introspect'), revocation_endpoint: polar('revoke'), authorization_response_iss_parameter_supported: true },
      app.id, undefined, openid.ClientSecretPost(app.secret),
    );
    openid.allowInsecureRequests(config);
    openid.enableNonRepudiationChecks(config);
    const { callback, checks } = await login(config);
    const tokens = await openid.authorizationCodeGrant(config, callback, checks);
    assert.match(tokens.access_token, /^polar_at_u_/);
    assert.match(tokens.refresh_token ?? '', /^polar_rt_u_/);
    assert.equal(tokens.claims()?.nonce, checks.expectedNonce);
    assert.deepEqual(await openid.fetchUserInfo(config, tokens.access_token, USER), { sub: USER, sub_type: 'user' });
    const answer = await openid.tokenIntrospection(config, tokens.access_token);
    assert.equal(answer.active, true);
    assert.equal(answer.token_type, 'access_token'); // Polar's IntrospectTokenResponse
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    assert.match(refreshed.refresh_token ?? '', /^polar_rt_u_/);
    await openid.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(openid.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));
  });
});

describe('openid-client discovers a Polar-only Keymint (the sandbox, as docs/sandbox/polar.md starts it)', () => {
  const SUBJECT = '8b4f1c1e-3a55-4d2b-9a57-0d7f0c5e1a11';
  const declared = { dialects: ['polar'], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB] };
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ clients: { app: declared, spa: { ...declared, type: 'public' } } });
  });
  after(() => sb.close());

  /** The user signed in at "Polar": the sandbox's session, as its authorization endpoint reads it from the cookie. */
  const polarUser = async (url: URL) => browse(url, 'approve', `keymint_session=${(await sb.keymint.sessions.create({ subject: SUBJECT }, 'test')).sessionToken}`);
  const discover = async (auth: openid.ClientAuth, client = sb.clients.app!, algorithm: 'oidc' | 'oauth2' = 'oidc') => {
    const config = await openid.discovery(new URL(sb.issuer), client.id, undefined, auth, { execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks], algorithm });
    const rec = recorder();
    config[openid.customFetch] = rec.fetchFn;
    return { config, rec };
  };

  test('discovery (OIDC and RFC 8414) names Polar\'s /v1/oauth2 endpoints, the grants it offers and the client authentication it takes', async () => {
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      const m = (await discover(openid.ClientSecretBasic(sb.clients.app!.secret!), undefined, algorithm)).config.serverMetadata();
      assert.equal(m.issuer, sb.issuer);
      for (const e of ['authorize', 'token', 'userinfo', 'introspect', 'revoke'] as const) {
        const field = ({ authorize: 'authorization_endpoint', token: 'token_endpoint', userinfo: 'userinfo_endpoint', introspect: 'introspection_endpoint', revoke: 'revocation_endpoint' } as const)[e];
        assert.equal(m[field], `${sb.issuer}/v1/oauth2/${e}`, field);
      }
      assert.equal(m.jwks_uri, `${sb.issuer}/oauth2/jwks`);
      assert.equal(m.supportsPKCE(), true);
      assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token', 'web']);
      assert.deepEqual(m.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
      assert.equal(m.dpop_signing_alg_values_supported, undefined);
    }
  });

  for (const [method, auth] of [
    ['client_secret_basic', () => openid.ClientSecretBasic(sb.clients.app!.secret!)],
    ['client_secret_post', () => openid.ClientSecretPost(sb.clients.app!.secret!)],
  ] as const) {
    test(`${method}: code flow with PKCE, the ID token checked against the discovered issuer and JWKS, userinfo, refresh, introspection and revocation, all at /v1/oauth2`, async () => {
      const { config, rec } = await discover(auth());
      const { callback, checks } = await login(config, polarUser);
      assert.equal(callback.searchParams.get('iss'), sb.issuer);
      const tokens = await openid.authorizationCodeGrant(config, callback, checks);
      assert.match(tokens.access_token, /^polar_at_u_/);
      assert.match(tokens.refresh_token ?? '', /^polar_rt_u_/);
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.scope, SCOPE);
      const claims = tokens.claims()!;
      assert.deepEqual([claims.iss, claims.sub, claims.aud, claims.nonce, claims.sub_type], [sb.issuer, SUBJECT, sb.clients.app!.id, checks.expectedNonce, 'user']);
      assert.ok(rec.sent.some((r) => r.url === `${sb.issuer}/oauth2/jwks` && r.status === 200), 'the ID token\'s signature was checked through the discovered JWKS');
      assert.equal(new URLSearchParams(rec.sent.find((r) => r.url.endsWith('/v1/oauth2/token'))!.body).get('code_verifier'), checks.pkceCodeVerifier);
      assert.deepEqual(await openid.fetchUserInfo(config, tokens.access_token, SUBJECT), { sub: SUBJECT, sub_type: 'user' });

      const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
      assert.match(refreshed.refresh_token ?? '', /^polar_rt_u_/);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      assert.equal(refreshed.claims()?.sub, SUBJECT);
      const answer = await openid.tokenIntrospection(config, refreshed.access_token);
      assert.equal(answer.active, true);
      assert.equal(answer.token_type, 'access_token'); // Polar's IntrospectTokenResponse
      assert.equal(answer.client_id, sb.clients.app!.id);
      assert.equal(answer.sub, SUBJECT);
      await openid.tokenRevocation(config, refreshed.refresh_token!);
      assert.deepEqual(await openid.tokenIntrospection(config, refreshed.access_token), { active: false }, 'the family\'s access token');
      await assert.rejects(openid.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));

      const calls = rec.sent.filter((r) => r.url !== `${sb.issuer}/oauth2/jwks`).map((r) => new URL(r.url).pathname);
      assert.deepEqual([...new Set(calls)].sort(), ['/v1/oauth2/introspect', '/v1/oauth2/revoke', '/v1/oauth2/token', '/v1/oauth2/userinfo']);
      for (const r of rec.sent.filter((r) => /\/v1\/oauth2\/(token|introspect|revoke)$/.test(r.url))) {
        const secretInBody = new URLSearchParams(r.body).get('client_secret') !== null;
        assert.deepEqual([/^Basic /.test(r.headers.get('authorization') ?? ''), secretInBody], method === 'client_secret_basic' ? [true, false] : [false, true], r.url);
      }
    });
  }

  test('a public client (none, as discovered): PKCE binds the code; refresh and revocation with its client_id; introspection refused', async () => {
    const { config } = await discover(openid.None(), sb.clients.spa!);
    const { callback, checks } = await login(config, polarUser);
    const tokens = await openid.authorizationCodeGrant(config, callback, checks);
    assert.equal(tokens.claims()?.aud, sb.clients.spa!.id);
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    await openid.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(openid.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(openid.tokenIntrospection(config, refreshed.access_token), oauthError('invalid_client', 401));
  });
});

describe('openid-client with --refresh-reuse-grace', () => {
  let g: GrantServer;
  before(async () => {
    g = await startGrantServer({ issuer: undefined, refreshReuseGrace: '30' });
  });
  after(() => g.close());

  test('RACE-04 a refresh retried within the window gets the same successor, which then rotates as usual', async () => {
    const client = await g.client({ name: 'Acme Reports', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read'], redirectUris: [CB] });
    const config = await openid.discovery(new URL(g.keymint.config.issuer), client.id, undefined, openid.ClientSecretBasic(client.secret), {
      execute: [openid.allowInsecureRequests, openid.enableNonRepudiationChecks],
    });
    const url = openid.buildAuthorizationUrl(config, { redirect_uri: CB, scope: SCOPE, code_challenge: await openid.calculatePKCECodeChallenge('v'.repeat(43)), code_challenge_method: 'S256', state: 's' });
    const cookie = `keymint_session=${(await g.session()).session_token}`;
    const tokens = await openid.authorizationCodeGrant(config, await browse(url, 'approve', cookie), { pkceCodeVerifier: 'v'.repeat(43), expectedState: 's' });
    const rotated = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    const retried = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(retried.refresh_token, rotated.refresh_token);
    assert.notEqual(retried.access_token, rotated.access_token);
    const next = await openid.refreshTokenGrant(config, rotated.refresh_token!);
    assert.notEqual(next.refresh_token, rotated.refresh_token);
    // The successor has been used: presenting the first token now is reuse, and ends the family.
    await assert.rejects(openid.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(openid.refreshTokenGrant(config, next.refresh_token!), oauthError('invalid_grant'));
  });
});

describe('oauth4webapi against the oauth2 dialect', () => {
  test('authorization code with PKCE and nonce, the ID token validated, then a refresh', async () => {
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }));
    const client: oauth.Client = { client_id: app.id };
    const auth = oauth.ClientSecretBasic(app.secret);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: app.id, redirect_uri: CB, scope: SCOPE, state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).toString();
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, CB, verifier, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    await oauth.validateApplicationLevelSignature(as, response, options); // the ID token's signature, through the JWKS
    assert.equal(result.token_type, 'bearer');
    assert.equal(result.scope, SCOPE);
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    assert.equal(claims.sub, USER);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.aud, app.id);

    const again = await oauth.refreshTokenGrantRequest(as, client, auth, result.refresh_token!, options);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, again);
    await oauth.validateApplicationLevelSignature(as, again, options);
    assert.notEqual(refreshed.refresh_token, result.refresh_token);
    assert.equal(refreshed.scope, SCOPE);
    assert.equal(oauth.getValidatedIdTokenClaims(refreshed)?.sub, USER);
  });
});

/** docs/requirements.md, authorization server metadata (RFC 8414): metadata that matches behaviour. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, startServer } from '../support/harness.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';

/** Every asymmetric JWS algorithm: what assertions and DPoP proofs may be signed with (never none or HS*). */
const ASYMMETRIC = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

test('M-01 M-02 an issuer with a path: metadata at /.well-known/oauth-authorization-server/<path>, issuer identical', async (t) => {
  const server = await startServer({ issuer: 'https://auth.example.com/v1' });
  t.after(() => server.close());
  for (const path of ['/.well-known/oauth-authorization-server/v1', '/.well-known/oauth-authorization-server', '/v1/.well-known/openid-configuration']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 200, path);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.equal(doc.issuer, 'https://auth.example.com/v1');
    assert.equal(doc.token_endpoint, 'https://auth.example.com/v1/oauth2/token');
  }
});

test('M-03 M-04 M-05 M-06 M-08 JAR-07 IDT-02 JARM-04 the metadata document, exactly', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', alg: 'EdDSA' });
  t.after(() => server.close());
  const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.deepEqual(await res.json(), {
    issuer: 'http://localhost:8080',
    jwks_uri: 'http://localhost:8080/oauth2/jwks',
    token_endpoint: 'http://localhost:8080/oauth2/token',
    grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token', 'web', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:device_code'],
    // `none`: public clients of the code and refresh grants (identified by client_id, PKCE-bound).
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASYMMETRIC,
    dpop_signing_alg_values_supported: ASYMMETRIC,
    access_token_signing_alg_values_supported: ['EdDSA'],
    authorization_endpoint: 'http://localhost:8080/oauth2/authorize',
    response_types_supported: ['code'],
    // JARM-04: the query, and JARM's JWT in it (jwt is query.jwt for the code response type).
    response_modes_supported: ['query', 'query.jwt', 'jwt'],
    // JARM-05: a client's JWT responses are RS256 or, registered so, the deployment's --alg.
    authorization_signing_alg_values_supported: ['RS256', 'EdDSA'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    // RFC 9101 (JAR-07): request objects by value, signed as client assertions are; by reference only through PAR.
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: ASYMMETRIC,
    // OIDC RP-Initiated Logout §2.1 (LOGOUT-01).
    end_session_endpoint: 'http://localhost:8080/oauth2/logout',
    // OIDC Back-Channel Logout §2.1 (BCL-02): logout tokens to registered clients, with sid.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // RFC 9126 §5: clients authenticate there as at the token endpoint; no client must push unless --require-par.
    pushed_authorization_request_endpoint: 'http://localhost:8080/oauth2/par',
    require_pushed_authorization_requests: false,
    introspection_endpoint: 'http://localhost:8080/oauth2/introspect',
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: ASYMMETRIC,
    // RFC 9701 §7 (I-12): a JWT answer is signed with the client's introspection_signed_response_alg, as ID tokens are.
    introspection_signing_alg_values_supported: ['RS256', 'EdDSA'],
    revocation_endpoint: 'http://localhost:8080/oauth2/revoke',
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: ASYMMETRIC,
    device_authorization_endpoint: 'http://localhost:8080/oauth2/device_authorization',
    userinfo_endpoint: 'http://localhost:8080/oauth2/userinfo',
    // IDT-02: a client's ID tokens are RS256 or, registered so, the deployment's --alg.
    id_token_signing_alg_values_supported: ['RS256', 'EdDSA'],
    subject_types_supported: ['public'],
  });
});

test('M-09 every advertised auth method and grant works; the advertised alg signs', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', alg: 'ES256' });
  t.after(() => server.close());
  const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
  const grants = meta.grant_types_supported!;
  const { id, secret } = await server.client({ grants: [...grants] });
  const pub = await server.client({ type: 'public', grants: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] });
  const key = await keyPair(meta.token_endpoint_auth_signing_alg_values_supported![0]!, 'k');
  const keyClient = await privateKeyJwtClient(server.keymint, { keys: [key] }, { grants: [...grants] });
  const send = async (method: string, form: Record<string, string>) =>
    method === 'client_secret_basic'
      ? server.postForm('/oauth2/token', form, { authorization: basic(id, secret) })
      : method === 'client_secret_post'
        ? server.postForm('/oauth2/token', { ...form, client_id: id, client_secret: secret })
        : method === 'private_key_jwt'
          ? server.postForm('/oauth2/token', { ...form, client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: keyClient, aud: meta.issuer as unknown as string }) })
          : server.postForm('/oauth2/token', { ...form, client_id: pub.id });
  for (const method of meta.token_endpoint_auth_methods_supported!) {
    for (const grant of grants) {
      if (method === 'none' && (grant === 'client_credentials' || grant === 'web' || grant.endsWith(':token-exchange'))) continue; // confidential-only grants
      const res = await send(method, { grant_type: grant });
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (grant === 'client_credentials') {
        assert.equal(res.status, 200, `${grant} via ${method}`);
        const header = JSON.parse(Buffer.from(body.access_token!.split('.')[0]!, 'base64url').toString()) as { alg: string };
        assert.deepEqual([header.alg], meta.access_token_signing_alg_values_supported);
      } else {
        // The user grants are known and the client is authenticated: what is missing is their artifact.
        assert.equal(res.status, 400, `${grant} via ${method}`);
        assert.equal(body.error, 'invalid_request', `${grant} via ${method}`);
      }
    }
  }
});

test('M-03 M-05 M-06 M-07 M-08 JARM-06 a server with polar and no oauth2: the document describes the polar mount, exactly', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', dialects: ['polar'] });
  t.after(() => server.close());
  const res = await fetch(`${server.url}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  const doc = await res.json();
  assert.deepEqual(doc, {
    issuer: 'http://localhost:8080',
    // The key set the polar ID tokens are signed with (their `iss` is the issuer).
    jwks_uri: 'http://localhost:8080/oauth2/jwks',
    token_endpoint: 'http://localhost:8080/v1/oauth2/token',
    grant_types_supported: ['authorization_code', 'refresh_token', 'web'],
    // What polar's endpoints read: no private_key_jwt (nor its algorithms), no DPoP algorithms, and
    // no access-token algorithm (its access tokens are opaque).
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    authorization_endpoint: 'http://localhost:8080/v1/oauth2/authorize',
    response_types_supported: ['code'],
    // JARM-06: Polar's authorization endpoint has no JWT responses (nor their algorithms).
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    introspection_endpoint: 'http://localhost:8080/v1/oauth2/introspect',
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint: 'http://localhost:8080/v1/oauth2/revoke',
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    userinfo_endpoint: 'http://localhost:8080/v1/oauth2/userinfo',
    id_token_signing_alg_values_supported: ['RS256'],
    subject_types_supported: ['public'],
  });
  assert.deepEqual(await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json(), doc);
});

test('M-04 M-08 a server of client-credentials dialects alone (tradevest): issuer, JWKS and the access-token algorithm, nothing more', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', alg: 'ES256', dialects: ['tradevest'] });
  t.after(() => server.close());
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    assert.deepEqual(await (await fetch(server.url + path)).json(), {
      issuer: 'http://localhost:8080',
      jwks_uri: 'http://localhost:8080/oauth2/jwks',
      access_token_signing_alg_values_supported: ['ES256'],
    }, path);
  }
});

test('M-09 access_token_signing_alg_values_supported names what the mounts sign with: Polygon OMS signs RS256 whatever --alg says', async (t) => {
  const only = await startServer({ issuer: 'http://localhost:8080', alg: 'ES256', dialects: ['polygon-oms'] });
  t.after(() => only.close());
  const both = await startServer({ issuer: 'http://localhost:8080', alg: 'ES256', dialects: ['oauth2', 'polygon-oms'] });
  t.after(() => both.close());
  const algs = async (server: typeof only) =>
    ((await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { access_token_signing_alg_values_supported?: string[] }).access_token_signing_alg_values_supported;
  assert.deepEqual(await algs(only), ['RS256']);
  assert.deepEqual(await algs(both), ['ES256', 'RS256']);
});

test('M-09 polar without oauth2: every advertised auth method works at its token, introspection and revocation endpoints; private_key_jwt and DPoP, not advertised, are not taken', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', dialects: ['polar'] });
  t.after(() => server.close());
  const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, string & string[]>;
  const at = (field: string) => new URL(meta[field]!).pathname;
  const grants = meta.grant_types_supported!;
  const { id, secret } = await server.client({ grants: [...grants], scopes: ['openid'] });
  const pub = await server.client({ type: 'public', grants: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] });
  const sessionToken = async () => (await server.keymint.sessions.create({ subject: 'user-1' }, 'test')).sessionToken;
  const send = (path: string, method: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    method === 'client_secret_basic'
      ? server.postForm(path, form, { authorization: basic(id, secret), ...headers })
      : method === 'client_secret_post'
        ? server.postForm(path, { ...form, client_id: id, client_secret: secret }, headers)
        : server.postForm(path, { ...form, client_id: pub.id }, headers);
  for (const method of meta.token_endpoint_auth_methods_supported!) {
    for (const grant of grants) {
      if (method === 'none' && grant === 'web') continue; // confidential only
      const res = await send(at('token_endpoint'), method, { grant_type: grant, ...(grant === 'web' ? { session_token: await sessionToken() } : {}) });
      const body = (await res.json()) as { token_type?: string; error?: string };
      if (grant === 'web') assert.deepEqual([res.status, body.token_type], [200, 'Bearer'], `${grant} via ${method}`);
      // The user grants are known and the client is authenticated: what is missing is their artifact.
      else assert.deepEqual([res.status, body.error], [400, 'invalid_request'], `${grant} via ${method}`);
    }
  }
  const web = async () => ((await (await send(at('token_endpoint'), 'client_secret_basic', { grant_type: 'web', session_token: await sessionToken() })).json()) as { access_token: string }).access_token;
  for (const method of meta.introspection_endpoint_auth_methods_supported!) {
    const res = await send(at('introspection_endpoint'), method, { token: await web() });
    assert.deepEqual([res.status, ((await res.json()) as { active: boolean }).active], [200, true], method);
  }
  for (const method of meta.revocation_endpoint_auth_methods_supported!) {
    const res = await send(at('revocation_endpoint'), method, { token: await web() });
    assert.deepEqual([res.status, await res.json()], [200, {}], method);
  }

  // private_key_jwt: the assertion is not read, so the client is not authenticated.
  const key = await keyPair('ES256', 'k');
  const keyClient = await privateKeyJwtClient(server.keymint, { keys: [key] }, { grants: ['web'] });
  for (const field of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
    const signed = await assertion(key, { clientId: keyClient, aud: [meta.issuer as string, meta[field] as string] });
    const res = await server.postForm(at(field), { grant_type: 'web', session_token: await sessionToken(), token: 'x', client_id: keyClient, client_assertion_type: JWT_BEARER, client_assertion: signed });
    assert.deepEqual([res.status, ((await res.json()) as { error: string }).error], [401, 'invalid_client'], field);
  }
  // DPoP: a proof is not read; the token is a Bearer token, bound to no key.
  const proof = await dpopProof(await keyPair('ES256'), { htu: meta.token_endpoint as string });
  const res = await send(at('token_endpoint'), 'client_secret_basic', { grant_type: 'web', session_token: await sessionToken() }, { dpop: proof });
  const token = (await res.json()) as { access_token: string; token_type: string };
  assert.deepEqual([res.status, token.token_type], [200, 'Bearer']);
  const answer = (await (await send(at('introspection_endpoint'), 'client_secret_basic', { token: token.access_token })).json()) as Record<string, unknown>;
  assert.deepEqual([answer.active, answer.cnf], [true, undefined]);
});

test('M-04 J-06 the JWKS is served with a short public cache lifetime', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const res = await fetch(`${server.url}/oauth2/jwks`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/jwk-set+json');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
});

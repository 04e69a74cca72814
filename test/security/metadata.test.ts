/** SECURITY.md §1.14 (RFC 8414) — metadata that matches behaviour. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, startServer } from '../support/harness.ts';

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

test('M-03 M-04 M-05 M-06 M-08 the metadata document, exactly', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', alg: 'EdDSA' });
  t.after(() => server.close());
  const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.deepEqual(await res.json(), {
    issuer: 'http://localhost:8080',
    jwks_uri: 'http://localhost:8080/oauth2/jwks',
    token_endpoint: 'http://localhost:8080/oauth2/token',
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    access_token_signing_alg_values_supported: ['EdDSA'],
  });
});

test('M-09 every advertised auth method and grant works; the advertised alg signs', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080', alg: 'ES256' });
  t.after(() => server.close());
  const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
  const { id, secret } = await server.client();
  for (const grant of meta.grant_types_supported!) {
    for (const method of meta.token_endpoint_auth_methods_supported!) {
      const res =
        method === 'client_secret_basic'
          ? await server.postForm('/oauth2/token', { grant_type: grant }, { authorization: basic(id, secret) })
          : await server.postForm('/oauth2/token', { grant_type: grant, client_id: id, client_secret: secret });
      assert.equal(res.status, 200, `${grant} via ${method}`);
      const { access_token } = (await res.json()) as { access_token: string };
      const header = JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString()) as { alg: string };
      assert.deepEqual([header.alg], meta.access_token_signing_alg_values_supported);
    }
  }
});

test('M-04 J-06 the JWKS is served with a short public cache lifetime', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const res = await fetch(`${server.url}/oauth2/jwks`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/jwk-set+json');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
});

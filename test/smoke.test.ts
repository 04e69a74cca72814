import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startServer } from './support/harness.ts';

test('client_credentials issues a JWT that verifies against the JWKS', async (t) => {
  const server = await startServer({ issuer: 'http://localhost:8080' });
  t.after(() => server.close());
  const { id, secret } = await server.client({ scopes: ['payments:read'] });
  const body = await server.token(id, secret, { scope: 'payments:read' });
  const jwks = (await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await jwtVerify(String(body.access_token), createLocalJWKSet(jwks), {
    issuer: 'http://localhost:8080',
    typ: 'at+jwt',
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload.client_id, id);
  assert.equal(payload.scope, 'payments:read');
});

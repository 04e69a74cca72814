/**
 * Per-client static claims (SECURITY CE-05): in every JWT access token, in introspection of JWT and
 * opaque tokens, never in place of a protocol claim; metadata never in a token.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { ClientInputError } from '../../src/credentials/clients.ts';
import { CLAIM_LIMITS, RESERVED_CLAIMS } from '../../src/credentials/client-rules.ts';
import { basic, startGrantServer, type GrantServer } from './support.ts';

let s: GrantServer;
let c: { id: string; secret: string };
const CLAIMS = { org_id: 'org_42', tenant: 'acme', tier: 2, beta: true, roles: ['billing', 'reports'] };
before(async () => {
  s = await startGrantServer();
  c = await s.client({ grants: ['client_credentials', 'web', 'refresh_token'], scopes: ['openid', 'read'], claims: CLAIMS, metadata: { crm: 'ACME-7', secretish: 'never-in-a-token' } });
});
after(() => s.close());

const introspect = async (token: string, path: string) => {
  const res = await s.postForm(path, { token }, { authorization: basic(c.id, c.secret) });
  assert.equal(res.status, 200);
  return s.json(res);
};

test('CE-05 a JWT access token carries the static claims beside the protocol ones; introspection shows them; metadata never', async () => {
  const { access_token } = await s.token(c.id, c.secret, { scope: 'read' });
  const payload = decodeJwt(String(access_token));
  for (const [k, v] of Object.entries(CLAIMS)) assert.deepEqual(payload[k], v, k);
  assert.equal(payload.sub, c.id);
  assert.equal(payload.client_id, c.id);
  assert.equal(payload.scope, 'read');
  assert.ok(!JSON.stringify(payload).includes('ACME-7') && !('crm' in payload), 'metadata stays out of tokens');
  const body = await introspect(String(access_token), '/oauth2/introspect');
  assert.deepEqual(Object.keys(body).sort(), ['active', 'aud', 'beta', 'client_id', 'exp', 'iat', 'iss', 'jti', 'org_id', 'roles', 'scope', 'sub', 'tenant', 'tier', 'token_type']);
  for (const [k, v] of Object.entries(CLAIMS)) assert.deepEqual(body[k], v, k);
  assert.ok(!JSON.stringify(body).includes('ACME-7'));
});

test('CE-05 an opaque token (polar) keeps the claims it was issued with in its record; introspection shows them, later edits do not rewrite it', async () => {
  const { session_token } = await s.session();
  const res = await s.postForm('/v1/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(c.id, c.secret) });
  const { access_token } = await s.json(res);
  assert.equal(res.status, 200);
  assert.match(String(access_token), /^polar_at_u_/);
  await s.keymint.clients.update(c.id, { claims: { tenant: 'other' } }, 'test');
  const body = await introspect(String(access_token), '/v1/oauth2/introspect');
  assert.equal(body.active, true);
  for (const [k, v] of Object.entries(CLAIMS)) assert.deepEqual(body[k], v, k);
  assert.ok(!JSON.stringify(body).includes('ACME-7'));
  // A token issued after the edit carries the new claims only.
  const fresh = decodeJwt(String((await s.token(c.id, c.secret)).access_token));
  assert.equal(fresh.tenant, 'other');
  assert.equal(fresh.org_id, undefined);
  await s.keymint.clients.update(c.id, { claims: CLAIMS }, 'test');
});

test('CE-05 registered and protocol claims are refused by name; sizes are bounded', async () => {
  for (const name of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'client_id', 'cnf', 'act', 'typ', 'sub_type', 'mode', 'env', 'auth_time', 'nonce', 'azp', 'active', 'token_type', 'keymint_role']) {
    await assert.rejects(
      s.keymint.clients.create({ name: 'x', claims: { [name]: 'v' } }, 'test'),
      (e: unknown) => e instanceof ClientInputError && e.field === 'claims' && /registered or protocol claim/.test(e.message),
      name,
    );
  }
  assert.ok(RESERVED_CLAIMS.has('may_act') && RESERVED_CLAIMS.has('x5t#S256'));
  // Names a JavaScript verifier merging claims would take as a prototype (OBJ-01), from JSON as an API caller sends them.
  for (const name of ['__proto__', 'constructor', 'prototype']) {
    await assert.rejects(
      s.keymint.clients.create({ name: 'x', claims: JSON.parse(`{"${name}": {"admin": true}}`) as never }, 'test'),
      (e: unknown) => e instanceof ClientInputError && e.field === 'claims' && e.message === `${name} is not allowed as a claim name: JavaScript verifiers would read it as a prototype`,
      name,
    );
  }
  const tooMany = Object.fromEntries(Array.from({ length: CLAIM_LIMITS.entries + 1 }, (_, i) => [`c${i}`, i]));
  const tooBig = { blob: Array.from({ length: 32 }, () => 'x'.repeat(100)) };
  for (const claims of [tooMany, tooBig, { long: 'x'.repeat(CLAIM_LIMITS.stringChars + 1) }, { n: Number.NaN }, { obj: { a: 1 } }, { nul: null }, { 'bad name': 1 }, { '': 1 }]) {
    await assert.rejects(s.keymint.clients.create({ name: 'x', claims: claims as never }, 'test'), (e: unknown) => e instanceof ClientInputError && e.field === 'claims', JSON.stringify(claims).slice(0, 80));
  }
});

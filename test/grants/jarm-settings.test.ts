/**
 * A client's `authorization_signed_response_alg` (JARM §3) on every surface that sets it — the CLI,
 * configuration as code (and export), the admin API, dynamic registration — with the refusals: an
 * alg the keyring does not keep, and the encryption metadata (JWE is not offered).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { startGrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const JWE = 'encrypted authorization responses (JWE) are not supported; they are signed only (authorization_signed_response_alg)';
const data = tempDir('keymint-jarm-settings-');
after(() => rmSync(data, { recursive: true, force: true }));

test('JARM-05 the CLI sets --authorization-response-alg to RS256 or the --alg it runs with, and refuses any other', async () => {
  const args = ['clients', 'create', '--data', data, '--name', 'cli app', '--grant', 'authorization_code', '--redirect-uri', CB, '--json'];
  const refused = await cli([...args, '--authorization-response-alg', 'ES256']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stderr.trim(), 'keymint: authorization_signed_response_alg: this server signs authorization responses with RS256 only (PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA)');
  const created = await cli([...args, '--authorization-response-alg', 'ES256', '--alg', 'ES256']);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.deepEqual([view.authorization_signed_response_alg, view.id_token_signed_response_alg], ['ES256', 'RS256']);
  const other = await cli(['clients', 'update', String(view.client_id), '--data', data, '--authorization-response-alg', 'EdDSA', '--alg', 'ES256']);
  assert.equal(other.code, 2, other.stderr);
  assert.equal(other.stderr.trim(), 'keymint: authorization_signed_response_alg: this server signs authorization responses with RS256 or ES256 (its --alg)');
  const back = await cli(['clients', 'update', String(view.client_id), '--data', data, '--authorization-response-alg', 'RS256', '--json']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((JSON.parse(back.stdout) as Record<string, unknown>).authorization_signed_response_alg, 'RS256');
});

test('JARM-05 a configuration file sets authorizationResponseAlg (export writes it back), refused without the matching --alg; an encryption key is not a field', async () => {
  const dir = join(data, 'apply');
  const file = join(data, 'keymint.yaml');
  const declare = (extra: string) => writeFileSync(file, `version: 1
clients:
  web:
    name: Web app
    type: public
    grants: [authorization_code]
    redirectUris: [${CB}]
    ${extra}
`);
  declare('authorizationResponseAlg: EdDSA');
  const refused = await cli(['apply', '-f', file, '--data', dir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /clients\.web\.authorizationResponseAlg: this server signs authorization responses with RS256 only \(PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA\)/);
  const applied = await cli(['apply', '-f', file, '--data', dir, '--alg', 'EdDSA']);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', dir]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}authorizationResponseAlg: EdDSA$/m);
  declare('authorizationEncryptedResponseAlg: RSA-OAEP-256');
  const encrypted = await cli(['apply', '-f', file, '--data', dir, '--alg', 'EdDSA']);
  assert.equal(encrypted.code, 2, encrypted.stderr);
  assert.match(encrypted.stderr, /clients\.web\.authorizationEncryptedResponseAlg: is not a known field/);
});

test('JARM-05 the admin API takes authorization_signed_response_alg on create and PATCH (RS256 by default); refuses another alg and the JWE metadata, naming them', async (t) => {
  const s = await startGrantServer({ alg: 'ES256' });
  t.after(() => s.close());
  const created = await s.admin('POST', '/clients', { name: 'Web app', grants: ['authorization_code'], redirect_uris: [CB], authorization_signed_response_alg: 'ES256' });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.equal(body.authorization_signed_response_alg, 'ES256');
  assert.equal((await s.keymint.store.clients.get(String(body.client_id)))?.authorizationResponseAlg, 'ES256');
  const id = String(body.client_id);
  assert.equal((await s.json(await s.admin('PATCH', `/clients/${id}`, { authorization_signed_response_alg: 'RS256' }))).authorization_signed_response_alg, 'RS256');
  assert.equal((await s.keymint.store.clients.get(id))?.authorizationResponseAlg, undefined, 'RS256, the default, is not stored');
  assert.equal((await s.json(await s.admin('POST', '/clients', { name: 'Plain app' }))).authorization_signed_response_alg, 'RS256');
  for (const alg of ['EdDSA', 'PS256', 'HS256', 'none']) {
    const refused = await s.admin('PATCH', `/clients/${id}`, { authorization_signed_response_alg: alg });
    assert.equal(refused.status, 400, alg);
    assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'this server signs authorization responses with RS256 or ES256 (its --alg)', field: 'authorization_signed_response_alg' });
  }
  for (const field of ['authorization_encrypted_response_alg', 'authorization_encrypted_response_enc']) {
    for (const [method, path] of [['POST', '/clients'], ['PATCH', `/clients/${id}`]] as const) {
      const res = await s.admin(method, path, { name: 'JWE app', [field]: 'RSA-OAEP-256' });
      assert.equal(res.status, 400, `${method} ${field}`);
      assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: JWE, field });
    }
  }
});

test('JARM-05 dynamic registration takes authorization_signed_response_alg (the --alg) and echoes it; refuses another and the JWE metadata', async (t) => {
  const s = await startServer({ registration: 'token', registrationScopes: ['openid', 'read'], alg: 'EdDSA' });
  t.after(() => s.close());
  const register = await registrarOf(s);
  const created = await register({ redirect_uris: [CB], authorization_signed_response_alg: 'EdDSA' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.authorization_signed_response_alg, 'EdDSA');
  assert.equal((await s.keymint.store.clients.get(String(created.body.client_id)))?.authorizationResponseAlg, 'EdDSA');
  const plain = await register({ redirect_uris: [CB] });
  assert.equal(plain.status, 201);
  assert.equal(plain.body.authorization_signed_response_alg, undefined, 'RS256, the default, is not echoed (JARM §3)');
  for (const alg of ['ES256', 'PS256', 7]) {
    assert.deepEqual(await register({ redirect_uris: [CB], authorization_signed_response_alg: alg }), {
      status: 400, body: { error: 'invalid_client_metadata', error_description: 'authorization_signed_response_alg: this server signs authorization responses with RS256 or EdDSA (its --alg)' },
    }, String(alg));
  }
  for (const field of ['authorization_encrypted_response_alg', 'authorization_encrypted_response_enc']) {
    assert.deepEqual(await register({ redirect_uris: [CB], [field]: 'A128GCM' }), { status: 400, body: { error: 'invalid_client_metadata', error_description: `${field}: ${JWE}` } }, field);
  }
});

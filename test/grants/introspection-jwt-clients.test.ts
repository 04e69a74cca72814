/**
 * JWT introspection answers (RFC 9701) as real client libraries ask for and check them, against
 * started servers under `--alg RS256`, `PS256`, `ES256` and `EdDSA`: oauth4webapi's
 * `introspectionRequest(…, { requestJwtResponse: true })`, `processIntrospectionResponse` and
 * `validateApplicationLevelSignature` (the signature through the JWKS); openid-client's
 * `tokenIntrospection` for an app configured with `introspection_signed_response_alg` and
 * non-repudiation checks on. Then every surface that sets the client's alg (CLI, apply, admin API,
 * dynamic registration), its refusals, and the refusal of encryption.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { startGrantServer } from './support.ts';

const JWT_TYPE = 'application/token-introspection+jwt';
const data = tempDir('keymint-introspection-jwt-');
after(() => rmSync(data, { recursive: true, force: true }));

for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
  describe(`--alg ${alg}`, () => {
    test(`I-14 oauth4webapi and openid-client request, verify and read ${alg} JWT answers`, async (t) => {
      const s = await startGrantServer({ issuer: undefined, alg });
      t.after(() => s.close());
      const issuer = new URL(s.keymint.config.issuer);
      const c = await s.client({ scopes: ['read'], ...(alg === 'RS256' ? {} : { introspectionAlg: alg }) });
      const token = String((await s.token(c.id, c.secret, { scope: 'read' })).access_token);

      // oauth4webapi: discovery, the request with requestJwtResponse, the answer and its signature.
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
      assert.deepEqual(as.introspection_signing_alg_values_supported, alg === 'RS256' ? ['RS256'] : ['RS256', alg]);
      const client: oauth.Client = { client_id: c.id, ...(alg === 'RS256' ? {} : { introspection_signed_response_alg: alg }) };
      const response = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(c.secret), token, { requestJwtResponse: true, [oauth.allowInsecureRequests]: true });
      assert.equal(response.headers.get('content-type'), JWT_TYPE);
      const result = await oauth.processIntrospectionResponse(as, client, response);
      await oauth.validateApplicationLevelSignature(as, response, { [oauth.allowInsecureRequests]: true });
      assert.equal(result.active, true);
      assert.equal(result.client_id, c.id);
      assert.equal(result.scope, 'read');
      assert.equal(result.token_type, 'Bearer');
      const unknown = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(c.secret), 'nope', { requestJwtResponse: true, [oauth.allowInsecureRequests]: true });
      assert.deepEqual({ ...(await oauth.processIntrospectionResponse(as, client, unknown)) }, { active: false });

      // openid-client: the app's metadata names the alg; the library asks for a JWT because of it.
      const sent: { accept: string | null; type: string | null; alg: string | undefined }[] = [];
      const execute = [openid.allowInsecureRequests, openid.enableNonRepudiationChecks];
      const config = await openid.discovery(issuer, c.id, { introspection_signed_response_alg: alg }, openid.ClientSecretBasic(c.secret), { execute });
      config[openid.customFetch] = async (url, init) => {
        const res = await fetch(url, init);
        if (url === as.introspection_endpoint) {
          const body = await res.clone().text();
          sent.push({ accept: new Headers(init.headers).get('accept'), type: res.headers.get('content-type'), alg: res.status === 200 ? decodeProtectedHeader(body).alg : undefined });
        }
        return res;
      };
      const introspected = await openid.tokenIntrospection(config, token);
      assert.equal(introspected.active, true);
      assert.equal(introspected.client_id, c.id);
      assert.deepEqual(sent, [{ accept: JWT_TYPE, type: JWT_TYPE, alg }]);

      // An app expecting another alg refuses the answer itself.
      const expected = alg === 'RS256' ? 'ES256' : 'RS256';
      const wrong = await openid.discovery(issuer, c.id, { introspection_signed_response_alg: expected }, openid.ClientSecretBasic(c.secret), { execute });
      await assert.rejects(openid.tokenIntrospection(wrong, token), (e: unknown) => {
        assert.ok(e instanceof openid.ClientError, String(e));
        assert.match(String((e.cause as Error | undefined)?.message ?? e.message), /unexpected JWT "alg" header parameter/);
        return true;
      });
    });
  });
}

describe('I-11 I-12 the client setting on every surface', () => {
  test('I-11 the CLI sets --introspection-alg to RS256 or the --alg it runs with, and refuses any other', async () => {
    const args = ['clients', 'create', '--data', data, '--name', 'resource server', '--json'];
    const refused = await cli([...args, '--introspection-alg', 'ES256']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr.trim(), 'keymint: introspection_signed_response_alg: this server signs introspection answers with RS256 only (PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA)');
    const created = await cli([...args, '--introspection-alg', 'ES256', '--alg', 'ES256']);
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(view.introspection_signed_response_alg, 'ES256');
    const other = await cli(['clients', 'update', String(view.client_id), '--data', data, '--introspection-alg', 'EdDSA', '--alg', 'ES256']);
    assert.equal(other.code, 2, other.stderr);
    assert.equal(other.stderr.trim(), 'keymint: introspection_signed_response_alg: this server signs introspection answers with RS256 or ES256 (its --alg)');
    const back = await cli(['clients', 'update', String(view.client_id), '--data', data, '--introspection-alg', 'RS256', '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal((JSON.parse(back.stdout) as Record<string, unknown>).introspection_signed_response_alg, 'RS256');
  });

  test('I-11 I-12 a configuration file sets introspectionAlg (export writes it back), needs the matching --alg, and is refused encryption', async () => {
    const dir = join(data, 'apply');
    const file = join(data, 'keymint.yaml');
    const secret = join(data, 'api.secret');
    const yaml = (extra: string) => `version: 1\nclients:\n  api:\n    name: Resource server\n    introspectionAlg: EdDSA\n    secret: { file: ${secret}, generate: true }\n${extra}`;
    writeFileSync(file, yaml(''));
    const refused = await cli(['apply', '-f', file, '--data', dir]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /clients\.api\.introspectionAlg: this server signs introspection answers with RS256 only \(PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA\)/);
    const applied = await cli(['apply', '-f', file, '--data', dir, '--alg', 'EdDSA']);
    assert.equal(applied.code, 0, applied.stderr);
    const exported = await cli(['export', '--data', dir]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^ {4}introspectionAlg: EdDSA$/m);
    for (const field of ['introspectionEncryptedResponseAlg', 'introspectionEncryptedResponseEnc']) {
      writeFileSync(file, yaml(`    ${field}: RSA-OAEP-256\n`));
      const encrypted = await cli(['apply', '-f', file, '--data', dir, '--alg', 'EdDSA']);
      assert.equal(encrypted.code, 2, encrypted.stderr);
      assert.equal(encrypted.stderr.trim(), `keymint: ${file}:7:5: clients.api.${field}: encrypted introspection answers (JWE) are not supported: they are signed only (introspectionAlg) and sent over TLS`);
    }
  });

  test('I-11 I-12 the admin API takes introspection_signed_response_alg on create and PATCH (RS256 by default) and refuses another alg and encryption', async (t) => {
    const s = await startGrantServer({ alg: 'ES256' });
    t.after(() => s.close());
    const created = await s.admin('POST', '/clients', { name: 'Resource server', introspection_signed_response_alg: 'ES256' });
    const body = await s.json(created);
    assert.equal(created.status, 201, JSON.stringify(body));
    assert.equal(body.introspection_signed_response_alg, 'ES256');
    assert.equal((await s.keymint.store.clients.get(String(body.client_id)))?.introspectionAlg, 'ES256');
    const id = String(body.client_id);
    assert.equal((await s.json(await s.admin('PATCH', `/clients/${id}`, { introspection_signed_response_alg: 'RS256' }))).introspection_signed_response_alg, 'RS256');
    assert.equal((await s.keymint.store.clients.get(id))?.introspectionAlg, undefined, 'RS256, the default, is not stored');
    assert.equal((await s.json(await s.admin('POST', '/clients', { name: 'Plain' }))).introspection_signed_response_alg, 'RS256');
    for (const alg of ['EdDSA', 'HS256', 'none', 7]) {
      const refused = await s.admin('PATCH', `/clients/${id}`, { introspection_signed_response_alg: alg });
      assert.equal(refused.status, 400, String(alg));
      const error = (await refused.json()) as Record<string, unknown>;
      assert.equal(error.field, 'introspection_signed_response_alg', String(alg));
      if (typeof alg === 'string') assert.equal(error.error_description, 'this server signs introspection answers with RS256 or ES256 (its --alg)');
    }
    for (const field of ['introspection_encrypted_response_alg', 'introspection_encrypted_response_enc']) {
      for (const [method, path] of [['POST', '/clients'], ['PATCH', `/clients/${id}`]] as const) {
        const res = await s.admin(method, path, { name: 'JWE', [field]: 'RSA-OAEP-256' });
        assert.equal(res.status, 400, `${method} ${field}`);
        assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'encrypted introspection answers (JWE) are not supported; they are signed only (introspection_signed_response_alg)', field });
      }
    }
  });

  test('I-11 I-12 dynamic registration takes introspection_signed_response_alg (the --alg), echoes it, refuses another and any encryption', async (t) => {
    const s = await startServer({ registration: 'token', registrationScopes: ['read'], alg: 'EdDSA' });
    t.after(() => s.close());
    const register = await registrarOf(s);
    const base = { grant_types: ['client_credentials'], scope: 'read' };
    const created = await register({ ...base, introspection_signed_response_alg: 'EdDSA' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.introspection_signed_response_alg, 'EdDSA');
    assert.equal((await s.keymint.store.clients.get(String(created.body.client_id)))?.introspectionAlg, 'EdDSA');
    const plain = await register(base);
    assert.equal(plain.status, 201);
    assert.equal(plain.body.introspection_signed_response_alg, undefined, 'RS256, the default, is not echoed (RFC 9701 §6)');
    for (const alg of ['ES256', 'HS256', 7]) {
      assert.deepEqual(await register({ ...base, introspection_signed_response_alg: alg }), {
        status: 400, body: { error: 'invalid_client_metadata', error_description: 'introspection_signed_response_alg: this server signs introspection answers with RS256 or EdDSA (its --alg)' },
      }, String(alg));
    }
    for (const field of ['introspection_encrypted_response_alg', 'introspection_encrypted_response_enc']) {
      assert.deepEqual(await register({ ...base, [field]: 'RSA-OAEP-256' }), {
        status: 400,
        body: { error: 'invalid_client_metadata', error_description: `${field}: encrypted introspection answers (JWE) are not supported; they are signed only (introspection_signed_response_alg)` },
      }, field);
    }
  });
});

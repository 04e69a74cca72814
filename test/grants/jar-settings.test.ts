/**
 * `require_signed_request_object` (RFC 9101 §10.5) where every other per-client setting is made:
 * the CLI (`--require-signed-request-object`, `--no-require-signed-request-object`), a configuration
 * file (`requireSignedRequestObject`), and dynamic registration (RFC 7591 metadata); each refuses it
 * for a client without keys. The admin API and the endpoints' answers are in jar.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { keyPair } from '../support/sender.ts';

const data = tempDir('keymint-jar-settings-');
after(() => rmSync(data, { recursive: true, force: true }));

test('JAR-05 the CLI sets and clears require_signed_request_object; a client without keys is refused it', async () => {
  const key = await keyPair('ES256', 'cli-1');
  const jwksFile = join(data, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
  const created = await cli([
    'clients', 'create', '--data', data, '--name', 'signer', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb',
    '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--require-signed-request-object', '--json',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.equal(view.require_signed_request_object, true);
  const cleared = await cli(['clients', 'update', String(view.client_id), '--data', data, '--no-require-signed-request-object', '--json']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.equal((JSON.parse(cleared.stdout) as Record<string, unknown>).require_signed_request_object, false);
  const keyless = await cli(['clients', 'create', '--data', data, '--name', 'secret app', '--require-signed-request-object']);
  assert.notEqual(keyless.code, 0);
  assert.match(keyless.stderr, /require_signed_request_object needs the client keys/);
});

test('JAR-05 a configuration file sets requireSignedRequestObject (export writes it back)', async () => {
  const key = await keyPair('ES256', 'apply-1');
  const file = join(data, 'keymint.yaml');
  writeFileSync(file, `version: 1
clients:
  signer:
    name: Signer
    grants: [authorization_code]
    redirectUris: [https://app.example/cb]
    authMethod: private_key_jwt
    jwks: ${JSON.stringify({ keys: [key.jwk] })}
    requireSignedRequestObject: true
`);
  const applied = await cli(['apply', '-f', file, '--data', data]);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', data]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}requireSignedRequestObject: true$/m);
});

test('JAR-05 dynamic registration takes require_signed_request_object for a private_key_jwt client and echoes it; refuses it without keys', async (t) => {
  const s = await startServer({ registration: 'token' });
  t.after(() => s.close());
  const register = await registrarOf(s);
  const key = await keyPair('ES256', 'dcr-1');
  const created = await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, require_signed_request_object: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.require_signed_request_object, true);
  const stored = await s.keymint.store.clients.get(String(created.body.client_id));
  assert.equal(stored?.requireSignedRequestObject, true);
  assert.deepEqual(await register({ redirect_uris: ['https://app.example/cb'], require_signed_request_object: true }), {
    status: 400,
    body: { error: 'invalid_client_metadata', error_description: 'require_signed_request_object needs the client keys (private_key_jwt with jwks or jwks_uri)' },
  });
  assert.deepEqual(await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, require_signed_request_object: 'yes' }), {
    status: 400,
    body: { error: 'invalid_client_metadata', error_description: 'require_signed_request_object is true or false' },
  });
});

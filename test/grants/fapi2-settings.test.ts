/**
 * `security_profile: fapi2` where every other per-client setting is made: the CLI
 * (`--security-profile fapi2|none`), a configuration file (`securityProfile`, export writes it
 * back), the admin API (`security_profile`) and dynamic registration (RFC 7591 metadata); each
 * refuses a fapi2 client that authenticates with a secret (FAPI-01). The endpoints' answers are in
 * fapi2.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { keyPair } from '../support/sender.ts';
import { startGrantServer } from './support.ts';

const data = tempDir('keymint-fapi2-settings-');
after(() => rmSync(data, { recursive: true, force: true }));
const CB = 'https://app.example/cb';

test('FAPI-01 the CLI sets security_profile fapi2 and drops it with none; a client with a secret is refused it', async () => {
  const key = await keyPair('ES256', 'cli-1');
  const jwksFile = join(data, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
  const created = await cli([
    'clients', 'create', '--data', data, '--name', 'bank app', '--grant', 'authorization_code', '--redirect-uri', CB,
    '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--security-profile', 'fapi2', '--json',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.equal(view.security_profile, 'fapi2');
  const dropped = await cli(['clients', 'update', String(view.client_id), '--data', data, '--security-profile', 'none', '--json']);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal((JSON.parse(dropped.stdout) as Record<string, unknown>).security_profile, null);
  const secret = await cli(['clients', 'create', '--data', data, '--name', 'secret app', '--security-profile', 'fapi2']);
  assert.equal(secret.code, 2, secret.stderr);
  assert.equal(secret.stderr.trim(), 'keymint: token_endpoint_auth_method: a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1)');
});

test('FAPI-01 a configuration file sets securityProfile (export writes it back)', async () => {
  const key = await keyPair('ES256', 'apply-1');
  const file = join(data, 'keymint.yaml');
  writeFileSync(file, `version: 1
clients:
  bank:
    name: Bank app
    grants: [authorization_code, refresh_token]
    redirectUris: [${CB}]
    authMethod: private_key_jwt
    jwks: ${JSON.stringify({ keys: [key.jwk] })}
    securityProfile: fapi2
`);
  const applied = await cli(['apply', '-f', file, '--data', data]);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', data]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}securityProfile: fapi2$/m);
});

test('FAPI-01 RT-11 the admin API takes security_profile on create and PATCH (a fapi2 client shows refresh_token_rotation false), and refuses it for a secret client', async (t) => {
  const s = await startGrantServer();
  t.after(() => s.close());
  const key = await keyPair('ES256', 'adm-1');
  const created = await s.admin('POST', '/clients', {
    name: 'Bank app', grants: ['authorization_code'], redirect_uris: [CB], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, security_profile: 'fapi2',
  });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.equal(body.security_profile, 'fapi2');
  assert.equal(body.refresh_token_rotation, false); // RT-11: a fapi2 client never rotates
  const id = String(body.client_id);
  const patched = await s.admin('PATCH', `/clients/${id}`, { security_profile: null });
  assert.equal((await s.json(patched)).security_profile, null);
  const refused = await s.admin('POST', '/clients', { name: 'Secret app', security_profile: 'fapi2' });
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1)', field: 'token_endpoint_auth_method' });
});

test('FAPI-01 FAPI-12 dynamic registration takes security_profile fapi2 for a private_key_jwt or tls_client_auth client and echoes it; refuses it with a secret, an http redirect URI or another grant', async (t) => {
  const s = await startServer({ registration: 'token' });
  t.after(() => s.close());
  const register = await registrarOf(s);
  const key = await keyPair('ES256', 'dcr-1');
  const keyed = { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } };
  const created = await register({ redirect_uris: [CB], ...keyed, security_profile: 'fapi2' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.security_profile, 'fapi2');
  assert.equal((await s.keymint.store.clients.get(String(created.body.client_id)))?.securityProfile, 'fapi2');
  // FAPI-12: mTLS (RFC 8705 §2) is the other method a fapi2 client may register with.
  const mtls = await register({ redirect_uris: [CB], token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'bank.example', tls_client_certificate_bound_access_tokens: true, security_profile: 'fapi2' });
  assert.equal(mtls.status, 201, JSON.stringify(mtls.body));
  assert.deepEqual([mtls.body.security_profile, mtls.body.token_endpoint_auth_method, mtls.body.tls_client_certificate_bound_access_tokens], ['fapi2', 'tls_client_auth', true]);
  const refusals: Array<[unknown, string, string]> = [
    [{ redirect_uris: [CB], security_profile: 'fapi2' }, 'invalid_client_metadata', 'a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth'],
    [{ redirect_uris: ['http://127.0.0.1:8400/cb'], ...keyed, security_profile: 'fapi2' }, 'invalid_redirect_uri', 'the redirect URIs of a fapi2 client are https'],
    [{ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], ...keyed, security_profile: 'fapi2' }, 'invalid_client_metadata', 'a fapi2 client may use only authorization_code, refresh_token, client_credentials'],
    [{ redirect_uris: [CB], ...keyed, security_profile: 'fapi1' }, 'invalid_client_metadata', 'security_profile is fapi2 or none'],
  ];
  for (const [body, error, description] of refusals) assert.deepEqual(await register(body), { status: 400, body: { error, error_description: description } }, description);
});

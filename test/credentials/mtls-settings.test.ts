/**
 * RFC 8705 client settings on every surface that sets a client's authentication: ClientService's
 * rules, the admin API (RFC 7591 names), `keymint clients create/update` and `keymint apply`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeCerts, type CertKit } from '../support/certs.ts';
import { startServer, tempDir, type TestServer } from '../support/harness.ts';
import { cli } from '../support/process.ts';

describe('MTLS-07 the RFC 8705 client settings', () => {
  let server: TestServer;
  let certs: CertKit;
  let admin: string;
  before(async () => {
    certs = makeCerts();
    server = await startServer({ issuer: 'http://localhost:8080' });
    const a = await server.client({ admin: true });
    admin = String((await server.token(a.id, a.secret, { scope: 'keymint:admin' })).access_token);
  });
  after(async () => {
    await server.close();
    await certs.close();
  });
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${server.url}/admin/v1/${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  test('MTLS-07 the rules: exactly one tls_client_auth name, names only for tls_client_auth, keys for self-signed, confidential clients only', async () => {
    const refused: Array<[Record<string, unknown>, string, string]> = [
      [{ authMethod: 'tls_client_auth' }, 'tls_client_auth_subject_dn', 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ authMethod: 'tls_client_auth', tlsSanDns: 'a.example', tlsSanIp: '10.0.0.1' }, 'tls_client_auth_san_ip', 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ tlsSanDns: 'a.example' }, 'tls_client_auth_san_dns', 'tls_client_auth_san_dns is for tls_client_auth clients'],
      [{ authMethod: 'self_signed_tls_client_auth' }, 'jwks', 'a self_signed_tls_client_auth client has exactly one of jwks and jwks_uri'],
      [{ authMethod: 'tls_client_auth', tlsSanDns: 'a.example', type: 'public', grants: ['authorization_code'], redirectUris: ['https://app.example/cb'] }, 'token_endpoint_auth_method', 'a public client authenticates with none'],
      [{ authMethod: 'tls_client_auth', tlsSanDns: 'a.example', jwks: { keys: [certs.ca.jwk()] } }, 'jwks', 'jwks and jwks_uri are for private_key_jwt and self_signed_tls_client_auth clients'],
    ];
    for (const [input, field, message] of refused) {
      await assert.rejects(server.keymint.clients.create({ name: 'x', ...input } as never, 'test'), (err: { field?: string; message?: string }) => {
        assert.deepEqual([err.field, err.message], [field, message], JSON.stringify(input));
        return true;
      });
    }
  });

  test('MTLS-07 the admin API takes and shows the RFC 7591 names; a change of method drops what the old one needed and ends the secrets', async () => {
    const made = await call('POST', 'clients', { name: 'pki', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'pki.example', tls_client_certificate_bound_access_tokens: true });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const view = made.body;
    assert.deepEqual(
      [view.token_endpoint_auth_method, view.tls_client_auth_san_dns, view.tls_client_certificate_bound_access_tokens, made.body.client_secret],
      ['tls_client_auth', 'pki.example', true, null],
    );
    const changed = await call('PATCH', `clients/${view.client_id}`, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certs.ca.jwk()] } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.token_endpoint_auth_method, 'self_signed_tls_client_auth');
    assert.equal(changed.body.tls_client_auth_san_dns, undefined);
    const bad = await call('PATCH', `clients/${view.client_id}`, { token_endpoint_auth_method: 'tls_client_auth' });
    assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_request']);
    const secret = await server.client({});
    const moved = await call('PATCH', `clients/${secret.id}`, { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=moved' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const res = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${secret.id}:${secret.secret}`).toString('base64')}` });
    assert.equal(res.status, 401);
  });

  test('MTLS-07 keymint clients create/update and keymint apply set them', async () => {
    const dir = tempDir('keymint-mtls-cli-');
    const data = join(dir, 'data');
    const made = await cli(['clients', 'create', '--data', data, '--name', 'cli', '--auth-method', 'tls_client_auth', '--tls-subject-dn', 'CN=cli,O=Acme', '--cert-bound', '--json']);
    assert.equal(made.code, 0, made.stderr);
    const client = JSON.parse(made.stdout);
    assert.deepEqual([client.token_endpoint_auth_method, client.tls_client_auth_subject_dn, client.tls_client_certificate_bound_access_tokens], ['tls_client_auth', 'CN=cli,O=Acme', true]);
    const updated = await cli(['clients', 'update', client.client_id, '--data', data, '--tls-san-email', 'ops@acme.example', '--no-cert-bound', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    const after = JSON.parse(updated.stdout);
    assert.deepEqual([after.tls_client_auth_subject_dn, after.tls_client_auth_san_email, after.tls_client_certificate_bound_access_tokens], [undefined, 'ops@acme.example', false]);
    const file = join(dir, 'keymint.yaml');
    writeFileSync(file, `version: 1\nclients:\n  gateway:\n    authMethod: tls_client_auth\n    tlsSanUri: https://gateway.acme.example\n    certBound: true\n    scopes: [read]\n`);
    const applied = await cli(['apply', '-f', file, '--data', data]);
    assert.equal(applied.code, 0, applied.stderr);
    const again = await cli(['apply', '-f', file, '--data', data, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).changes, false);
    const exported = await cli(['export', '--data', data]);
    assert.match(exported.stdout, /tlsSanUri: https:\/\/gateway\.acme\.example/);
    assert.match(exported.stdout, /certBound: true/);
  });
});

/**
 * Dynamic client registration (RFC 7591) of RFC 8705 clients: the metadata of §2.1.2, §2.2 and §3.4
 * registered, echoed and used, behind a TLS-terminating proxy (`--client-cert-header`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { makeCerts, type CertKit } from '../support/certs.ts';
import { registrarOf, startServer, type TestServer } from '../support/harness.ts';

describe('MTLS-11 registering RFC 8705 clients', () => {
  let s: TestServer;
  let certs: CertKit;
  let register: Awaited<ReturnType<typeof registrarOf>>;
  before(async () => {
    certs = makeCerts();
    s = await startServer({ registration: 'token', resources: ['https://api.example/v1=api:read'], clientCertHeader: true, tlsClientCa: certs.ca.certFile });
    register = await registrarOf(s);
  });
  after(async () => {
    await s.close();
    await certs.close();
  });
  const token = async (clientId: string, der: Buffer) => {
    const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_id: clientId }, { 'client-cert': `:${der.toString('base64')}:` });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  test('MTLS-11 tls_client_auth with a SAN and bound tokens: registered without a secret, echoed, and it gets a bound token', async () => {
    const cert = certs.client('dcr', { san: 'DNS:dcr.example' });
    const r = await register({ grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'dcr.example', tls_client_certificate_bound_access_tokens: true });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(
      [r.body.token_endpoint_auth_method, r.body.tls_client_auth_san_dns, r.body.tls_client_certificate_bound_access_tokens, r.body.client_secret],
      ['tls_client_auth', 'dcr.example', true, undefined],
    );
    const t = await token(r.body.client_id, cert.der);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.deepEqual(decodeJwt(t.body.access_token).cnf, { 'x5t#S256': cert.thumbprint });
    assert.equal((await token(r.body.client_id, certs.client('dcr-other', { san: 'DNS:other.example' }).der)).status, 401);
  });

  test('MTLS-11 self_signed_tls_client_auth with jwks; the rules refused as invalid_client_metadata', async () => {
    const self = certs.selfSigned('dcr-self');
    const r = await register({ grant_types: ['client_credentials'], scope: 'api:read', token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [self.jwk()] } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await token(r.body.client_id, self.der)).status, 200);
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ token_endpoint_auth_method: 'tls_client_auth' }, 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'a.example', tls_client_auth_san_uri: 'https://a.example' }, 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ token_endpoint_auth_method: 'client_secret_basic', tls_client_auth_san_dns: 'a.example' }, 'tls_client_auth_san_dns is for tls_client_auth clients'],
      [{ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_ip: 'not-an-ip' }, 'tls_client_auth_san_ip is an IPv4 or IPv6 address'],
      [{ token_endpoint_auth_method: 'self_signed_tls_client_auth' }, 'private_key_jwt and self_signed_tls_client_auth need exactly one of jwks and jwks_uri (RFC 7591 section 2)'],
      [{ token_endpoint_auth_method: 'client_secret_basic', tls_client_certificate_bound_access_tokens: 'yes' }, 'tls_client_certificate_bound_access_tokens is true or false'],
    ];
    for (const [body, description] of refused) {
      const bad = await register({ grant_types: ['client_credentials'], scope: 'api:read', ...body });
      assert.deepEqual([bad.status, bad.body], [400, { error: 'invalid_client_metadata', error_description: description }], JSON.stringify(body));
    }
  });
});

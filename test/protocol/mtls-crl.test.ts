/**
 * `--tls-client-crl`: a certificate listed by a CRL of its CA fails `tls_client_auth` (RFC 5280 §5,
 * RFC 8705 §2.1), over real TLS; another certificate of the same CA, naming the same client, passes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { onFreePort, startServer, type TestServer } from '../support/harness.ts';

describe('MTLS-20 certificates revoked by a CRL of --tls-client-crl', () => {
  let certs: CertKit;
  let server: TestServer;
  let revoked: Issued;
  let current: Issued;
  let clientId: string;
  before(async () => {
    certs = makeCerts();
    revoked = certs.client('revoked', { san: 'DNS:billing.example' });
    current = certs.client('current', { san: 'DNS:billing.example' });
    const crl = certs.crl('ca', [revoked]);
    server = await onFreePort((port) =>
      startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile, tlsClientCa: certs.ca.certFile, tlsClientCrl: crl }),
    );
    clientId = (await server.keymint.clients.create({ name: 'billing', scopes: ['read'], authMethod: 'tls_client_auth', tlsSanDns: 'billing.example' }, 'test')).client.client_id;
  });
  after(async () => {
    await server.close();
    await certs.close();
  });

  test('MTLS-20 the revoked certificate gets 401 invalid_client; another of the same CA naming the same client gets a token', async () => {
    const token = (cert: Issued) => certs.postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', client_id: clientId }, cert);
    assert.deepEqual(await token(revoked), { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } });
    const ok = await token(current);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'Bearer');
  });
});

/**
 * `serve --tls-cert --tls-key`: HTTPS that asks for a client certificate and accepts connections
 * without one (RFC 8705 §2); the certificate a request carries, from the connection or, only when
 * trusted, from a proxy's RFC 9440 `Client-Cert` header. Real TLS, certificates made by openssl.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fetch as ufetch } from 'undici';
import { clientCertHeader } from '../../src/http/tls.ts';
import { json } from '../../src/wire/http.ts';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const sha = (der: Buffer) => createHash('sha256').update(der).digest('base64url');
const sf = (der: Buffer) => `:${der.toString('base64')}:`;

/** A route that says which certificate the request carried. */
function addEcho(server: TestServer): void {
  server.keymint.router.add({ method: 'GET', path: '/test/cert', owner: 'test', handler: (req) => json(200, { cert: req.clientCertificate ? sha(req.clientCertificate) : null }) });
}

describe('MTLS-01 serve over TLS, asking for a client certificate and requiring none', () => {
  let certs: CertKit;
  let alice: Issued;
  let server: TestServer;
  let trusting: TestServer;
  before(async () => {
    certs = makeCerts();
    alice = certs.client('alice');
    server = await startServer({ tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile });
    trusting = await startServer({ clientCertHeader: true });
    addEcho(server);
    addEcho(trusting);
  });
  after(async () => {
    await server.close();
    await trusting.close();
    await certs.close();
  });


  test('MTLS-01 serves HTTPS: discovery answers without a client certificate and with one', async () => {
    assert.match(server.url, /^https:/);
    for (const dispatcher of [certs.agent(), certs.agent(alice)]) {
      const res = await ufetch(`${server.url}/.well-known/oauth-authorization-server`, { dispatcher });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { issuer: string }).issuer.startsWith('http'), true);
      await dispatcher.close();
    }
  });

  test('MTLS-01 a request carries the certificate of its connection, and none without one', async () => {
    const withCert = certs.agent(alice);
    const res = await ufetch(`${server.url}/test/cert`, { dispatcher: withCert });
    assert.deepEqual(await res.json(), { cert: alice.thumbprint });
    await withCert.close();
    const without = certs.agent();
    assert.deepEqual(await (await ufetch(`${server.url}/test/cert`, { dispatcher: without })).json(), { cert: null });
    await without.close();
  });

  test('MTLS-02 a Client-Cert header is ignored when not trusted, over TLS and plain HTTP', async () => {
    const without = certs.agent();
    const res = await ufetch(`${server.url}/test/cert`, { dispatcher: without, headers: { 'client-cert': sf(alice.der) } });
    assert.deepEqual(await res.json(), { cert: null });
    await without.close();
    const plain = await startServer({});
    addEcho(plain);
    try {
      assert.deepEqual(await (await fetch(`${plain.url}/test/cert`, { headers: { 'client-cert': sf(alice.der) } })).json(), { cert: null });
    } finally {
      await plain.close();
    }
  });

  test('MTLS-02 a trusted Client-Cert header (RFC 9440) carries the certificate; garbage carries none', async () => {
    const get = async (value?: string) => (await fetch(`${trusting.url}/test/cert`, value === undefined ? {} : { headers: { 'client-cert': value } })).json();
    assert.deepEqual(await get(sf(alice.der)), { cert: alice.thumbprint });
    assert.deepEqual(await get(), { cert: null });
    for (const bad of [alice.der.toString('base64'), ':not base64!:', '::', `:${Buffer.from('not a certificate').toString('base64')}:`, `${sf(alice.der)}, ${sf(alice.der)}`, `"${alice.der.toString('base64')}"`]) {
      assert.deepEqual(await get(bad), { cert: null }, bad.slice(0, 20));
    }
  });

  test('MTLS-02 the header reader takes exactly one RFC 8941 byte sequence', () => {
    assert.deepEqual(clientCertHeader(sf(alice.der)), alice.der);
    assert.equal(clientCertHeader([sf(alice.der), sf(alice.der)]), undefined);
    assert.equal(clientCertHeader(undefined), undefined);
  });
});

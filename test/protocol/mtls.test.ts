/**
 * RFC 8705 §2 client authentication over real TLS: `self_signed_tls_client_auth` (a certificate
 * registered in the client's jwks as x5c) and `tls_client_auth` (issued by a CA of --tls-client-ca,
 * naming the client as registered), driven with undici, oauth4webapi and openid-client, and the
 * hostile cases: no certificate, a wrong one, another client's, another CA's, a proxy header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { fetch as ufetch } from 'undici';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { onFreePort, startServer, type TestServer } from '../support/harness.ts';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' };

describe('MTLS-04 MTLS-05 client authentication by TLS certificate', () => {
  let certs: CertKit;
  let server: TestServer;
  let issuer: string;
  const ids: Record<string, string> = {};
  let c: Record<string, Issued>;
  before(async () => {
    certs = makeCerts();
    const other = certs.otherCa('other-ca');
    c = {
      selfA: certs.selfSigned('self-a'),
      selfB: certs.selfSigned('self-b'),
      stranger: certs.selfSigned('stranger'),
      billing: certs.client('billing', { san: 'DNS:billing.example' }),
      reports: certs.client('reports', { subject: '/O=Acme, Inc/CN=reports' }),
      wrongSan: certs.client('wrong-san', { san: 'DNS:other.example' }),
      otherCaBilling: certs.client('other-ca-billing', { san: 'DNS:billing.example', ca: other }),
      ip: certs.client('ip', { san: 'IP:::1,URI:https://svc.example/x,email:ops@example.com' }),
    };
    server = await onFreePort((port) =>
      startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile, tlsClientCa: certs.ca.certFile }),
    );
    issuer = server.keymint.config.issuer;
    const make = async (name: string, input: Record<string, unknown>) => {
      const { client } = await server.keymint.clients.create({ name, scopes: ['read'], ...input } as never, 'test');
      ids[name] = client.client_id;
    };
    await make('selfA', { authMethod: 'self_signed_tls_client_auth', jwks: { keys: [c.selfA!.jwk()] } });
    await make('selfB', { authMethod: 'self_signed_tls_client_auth', jwks: { keys: [c.selfB!.jwk()] } });
    await make('billing', { authMethod: 'tls_client_auth', tlsSanDns: 'BILLING.example' });
    await make('reports', { authMethod: 'tls_client_auth', tlsSubjectDn: 'cn=reports, o=Acme\\, Inc' });
    await make('ip', { authMethod: 'tls_client_auth', tlsSanIp: '0:0::1' });
    await make('uri', { authMethod: 'tls_client_auth', tlsSanUri: 'https://svc.example/x' });
    await make('email', { authMethod: 'tls_client_auth', tlsSanEmail: 'OPS@example.com' });
    await make('secret', {});
  });
  after(async () => {
    await server.close();
    await certs.close();
  });


  async function token(clientId: string, cert: Issued | undefined, headers: Record<string, string> = {}) {
    const dispatcher = certs.agent(cert);
    try {
      const res = await ufetch(`${server.url}/oauth2/token`, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, wwwAuthenticate: res.headers.get('www-authenticate') };
    } finally {
      await dispatcher.close();
    }
  }

  test('MTLS-04 self_signed_tls_client_auth: the registered certificate gets a token', async () => {
    const r = await token(ids.selfA!, c.selfA);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.scope, 'read');
  });

  test('MTLS-05 tls_client_auth: a CA-issued certificate carrying the registered name gets a token (DN, DNS, IP, URI, e-mail)', async () => {
    for (const [name, cert] of [['billing', c.billing], ['reports', c.reports], ['ip', c.ip], ['uri', c.ip], ['email', c.ip]] as const) {
      const r = await token(ids[name]!, cert);
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
    }
  });

  test('MTLS-04 MTLS-05 hostile: no certificate, a wrong one, another client\'s, another CA\'s, the wrong name: 401 invalid_client', async () => {
    const cases: Array<[string, string, Issued | undefined]> = [
      ['self-signed, no certificate', ids.selfA!, undefined],
      ['self-signed, an unregistered certificate', ids.selfA!, c.stranger],
      ["self-signed, another client's certificate", ids.selfA!, c.selfB],
      ['self-signed, a CA-issued certificate', ids.selfA!, c.billing],
      ['PKI, no certificate', ids.billing!, undefined],
      ['PKI, the right name from another CA', ids.billing!, c.otherCaBilling],
      ['PKI, another name', ids.billing!, c.wrongSan],
      ["PKI, another client's certificate", ids.billing!, c.reports],
      ['PKI, a self-signed certificate', ids.billing!, c.selfA],
      ['PKI, its DN-named sibling with a DNS-named certificate', ids.reports!, c.billing],
      ['a secret client with a certificate and no secret', ids.secret!, c.selfA],
    ];
    for (const [label, id, cert] of cases) {
      const r = await token(id, cert);
      assert.deepEqual([r.status, r.body, r.wwwAuthenticate], [401, INVALID_CLIENT, null], label);
    }
  });

  test('MTLS-02 a Client-Cert header is not believed on a server that was not told to', async () => {
    const r = await token(ids.selfA!, undefined, { 'client-cert': `:${c.selfA!.der.toString('base64')}:` });
    assert.deepEqual([r.status, r.body], [401, INVALID_CLIENT]);
  });

  test('MTLS-06 discovery names the certificate methods when TLS is on', async () => {
    const dispatcher = certs.agent();
    const doc = (await (await ufetch(`${server.url}/.well-known/oauth-authorization-server`, { dispatcher })).json()) as Record<string, unknown>;
    await dispatcher.close();
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none']);
    assert.equal(doc.tls_client_certificate_bound_access_tokens, true);
  });

  test('MTLS-04 oauth4webapi drives client_credentials with self_signed_tls_client_auth through an undici Agent', async () => {
    const dispatcher = certs.agent(c.selfA);
    const customFetch = ((url: string, init: RequestInit) => ufetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
    try {
      const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { [oauth.customFetch]: customFetch }));
      const client: oauth.Client = { client_id: ids.selfA!, use_mtls_endpoint_aliases: true };
      const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), new URLSearchParams({ scope: 'read' }), { [oauth.customFetch]: customFetch });
      const result = await oauth.processClientCredentialsResponse(as, client, res);
      assert.equal(result.token_type, 'bearer');
      assert.equal(result.scope, 'read');
    } finally {
      await dispatcher.close();
    }
  });

  test('MTLS-05 openid-client v6 drives client_credentials with tls_client_auth; with the wrong certificate it gets invalid_client', async () => {
    for (const [cert, ok] of [[c.billing, true], [c.wrongSan, false]] as const) {
      const dispatcher = certs.agent(cert);
      const customFetch = ((url: string, init: RequestInit) => ufetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
      try {
        const config = await openid.discovery(new URL(issuer), ids.billing!, undefined, openid.TlsClientAuth(), { [openid.customFetch]: customFetch });
        config[openid.customFetch] = customFetch;
        if (ok) assert.equal((await openid.clientCredentialsGrant(config, { scope: 'read' })).scope, 'read');
        else await assert.rejects(openid.clientCredentialsGrant(config, { scope: 'read' }), (err: { error?: string; status?: number }) => err.error === 'invalid_client' && err.status === 401);
      } finally {
        await dispatcher.close();
      }
    }
  });
});

describe('MTLS-02 MTLS-04 behind a TLS-terminating proxy (--client-cert-header)', () => {
  let certs: CertKit;
  let server: TestServer;
  let self: Issued;
  let id: string;
  before(async () => {
    certs = makeCerts();
    self = certs.selfSigned('proxied');
    server = await startServer({ clientCertHeader: true });
    ({ client: { client_id: id } } = await server.keymint.clients.create({ name: 'proxied', scopes: ['read'], authMethod: 'self_signed_tls_client_auth', jwks: { keys: [self.jwk()] } }, 'test'));
  });
  after(async () => {
    await server.close();
    await certs.close();
  });
  const post = async (header?: string) => {
    const res = await server.postForm('/oauth2/token', { grant_type: 'client_credentials', client_id: id }, header === undefined ? {} : { 'client-cert': header });
    return [res.status, ((await res.json()) as { error?: string }).error ?? 'ok'];
  };

  test('MTLS-02 MTLS-04 the certificate in Client-Cert authenticates; garbage or none does not', async () => {
    assert.deepEqual(await post(`:${self.der.toString('base64')}:`), [200, 'ok']);
    for (const bad of [undefined, 'garbage', `:${Buffer.from('x').toString('base64')}:`, self.der.toString('base64')]) assert.deepEqual(await post(bad), [401, 'invalid_client'], String(bad).slice(0, 12));
  });

  test('MTLS-06 discovery names the certificate methods when the header is trusted, and not on a plain server', async () => {
    const doc = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { token_endpoint_auth_methods_supported: string[] };
    assert.ok(doc.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
    const plain = await startServer({});
    try {
      const d = (await (await fetch(`${plain.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.deepEqual(d.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
      assert.equal(d.tls_client_certificate_bound_access_tokens, undefined);
    } finally {
      await plain.close();
    }
  });
});

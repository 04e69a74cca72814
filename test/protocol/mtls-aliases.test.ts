/**
 * RFC 8705 §5 over real TLS: `--mtls-port` opens a second listener that asks for client
 * certificates and serves only the endpoints that take client authentication; the main listener
 * (authorization, consent, logout pages, console) no longer asks; discovery names the second
 * listener's endpoints in `mtls_endpoint_aliases`, where oauth4webapi and openid-client find them.
 */
import assert from 'node:assert/strict';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { fetch as ufetch } from 'undici';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { basic, onFreePort, startServer, type TestServer } from '../support/harness.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const NO_CERT = { error: 'invalid_request', error_description: 'This client must present its TLS client certificate.' };

/** The aliases a server whose endpoints live under `/oauth2/` publishes, on the listener at `base`. */
const aliasesAt = (base: string) => ({
  token_endpoint: `${base}/oauth2/token`,
  revocation_endpoint: `${base}/oauth2/revoke`,
  introspection_endpoint: `${base}/oauth2/introspect`,
  device_authorization_endpoint: `${base}/oauth2/device_authorization`,
  userinfo_endpoint: `${base}/oauth2/userinfo`,
  pushed_authorization_request_endpoint: `${base}/oauth2/par`,
});

describe('MTLS-13 MTLS-14 MTLS-15 MTLS-16 a mutual-TLS listener (--mtls-port) and mtls_endpoint_aliases', () => {
  let certs: CertKit;
  let server: TestServer;
  let issuer: string;
  let mtlsUrl: string;
  let billing: Issued;
  let billingId: string;
  let secretBound: { id: string; secret: string };
  let signer: KeyPair;
  let jwtClient: string;
  /** The client certificate each TLS connection of a listener carried, as its server saw it. */
  const seen = { main: [] as PeerCertificate[], mtls: [] as PeerCertificate[] };
  before(async () => {
    certs = makeCerts();
    billing = certs.client('billing', { san: 'DNS:billing.example' });
    server = await onFreePort((port) =>
      startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile, tlsClientCa: certs.ca.certFile, mtlsPort: '0' }),
    );
    issuer = server.keymint.config.issuer;
    mtlsUrl = server.keymint.config.mtlsUrl!;
    server.keymint.server.on('secureConnection', (s: TLSSocket) => seen.main.push(s.getPeerCertificate()));
    server.keymint.mtls!.server.on('secureConnection', (s: TLSSocket) => seen.mtls.push(s.getPeerCertificate()));
    billingId = (await server.keymint.clients.create({ name: 'billing', scopes: ['read'], authMethod: 'tls_client_auth', tlsSanDns: 'billing.example', certBound: true }, 'test')).client.client_id;
    secretBound = await server.client({ scopes: ['read'], certBound: true });
    signer = await keyPair('ES256');
    jwtClient = await privateKeyJwtClient(server.keymint, { keys: [signer] }, { scopes: ['read'] });
  });
  after(async () => {
    await server.close();
    await certs.close();
  });

  const main = (path: string) => `${server.url}${path}`;
  const alias = (path: string) => `${mtlsUrl}${path}`;
  /** A library's `customFetch` over an undici Agent presenting `cert`, noting each URL it is asked for. */
  const presenting = (cert: Issued) => {
    const dispatcher = certs.agent(cert);
    const urls: string[] = [];
    const customFetch = ((url: string, init: RequestInit) => {
      urls.push(String(url));
      return ufetch(url, { ...(init as object), dispatcher });
    }) as unknown as typeof fetch;
    return { dispatcher, urls, customFetch };
  };
  const cc = (url: string, cert: Issued | undefined, form: Record<string, string>, headers: Record<string, string> = {}) => certs.postForm(url, { grant_type: 'client_credentials', ...form }, cert, headers);

  test('MTLS-14 discovery names the mutual-TLS listener\'s endpoints in mtls_endpoint_aliases; the main endpoints stay on the issuer', async () => {
    assert.match(mtlsUrl, /^https:\/\/localhost:\d+$/);
    assert.notEqual(new URL(mtlsUrl).port, new URL(issuer).port);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = (await (await ufetch(main(path), { dispatcher: certs.agent() })).json()) as Record<string, unknown>;
      assert.deepEqual(doc.mtls_endpoint_aliases, aliasesAt(mtlsUrl), path);
      assert.equal(doc.token_endpoint, `${issuer}/oauth2/token`);
      assert.equal(doc.authorization_endpoint, `${issuer}/oauth2/authorize`);
      assert.equal(doc.tls_client_certificate_bound_access_tokens, true);
    }
  });

  test('MTLS-13 the main listener asks for no certificate: a client presenting one is seen with none; the mTLS listener sees it', async () => {
    const handshake = async (port: string) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca: certs.ca.cert, cert: billing.cert, key: billing.key });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      // The server's view is complete once it answers: a request it reads after its handshake.
      socket.write('GET /nothing HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.destroy();
    };
    seen.main.length = 0;
    seen.mtls.length = 0;
    await handshake(new URL(server.url).port);
    await handshake(new URL(mtlsUrl).port);
    assert.equal(seen.main.length, 1);
    assert.deepEqual(seen.main[0], {}, 'no certificate on the main listener');
    assert.equal(seen.mtls.length, 1);
    assert.equal(seen.mtls[0]!.fingerprint256, new (await import('node:crypto')).X509Certificate(billing.cert).fingerprint256);
  });

  test('MTLS-13 certificates work only at the aliases: tls_client_auth and a bound token are refused on the main listener, granted on the mTLS one', async () => {
    assert.deepEqual(await cc(main('/oauth2/token'), billing, { client_id: billingId }), { status: 401, body: INVALID_CLIENT });
    const viaAlias = await cc(alias('/oauth2/token'), billing, { client_id: billingId, scope: 'read' });
    assert.equal(viaAlias.status, 200, JSON.stringify(viaAlias.body));
    assert.deepEqual(decodeJwt(viaAlias.body.access_token).cnf, { 'x5t#S256': billing.thumbprint });
    // A secret client registered for bound tokens: its certificate does not reach the main listener.
    const auth = { authorization: basic(secretBound.id, secretBound.secret) };
    assert.deepEqual(await cc(main('/oauth2/token'), billing, {}, auth), { status: 400, body: NO_CERT });
    const bound = await cc(alias('/oauth2/token'), billing, {}, auth);
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.deepEqual(decodeJwt(bound.body.access_token).cnf, { 'x5t#S256': billing.thumbprint });
    // Introspection and revocation through their aliases, authenticated by the certificate.
    const seenToken = await certs.postForm(alias('/oauth2/introspect'), { token: viaAlias.body.access_token, client_id: billingId }, billing);
    assert.deepEqual([seenToken.status, seenToken.body.active, seenToken.body.cnf], [200, true, { 'x5t#S256': billing.thumbprint }]);
    const revoked = await ufetch(alias('/oauth2/revoke'), { dispatcher: certs.agent(billing), method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: viaAlias.body.access_token, client_id: billingId }).toString() });
    assert.equal(revoked.status, 200);
  });

  test('MTLS-16 the mTLS listener serves nothing else: pages, console, admin, discovery and ops are 404 there', async () => {
    const dispatcher = certs.agent(billing);
    for (const path of ['/oauth2/authorize?client_id=x', '/oauth2/logout', '/oauth2/device', '/console/', '/admin/v1/clients', '/.well-known/openid-configuration', '/oauth2/jwks', '/oauth2/token/openapi.json', '/oauth2/revocations', '/metrics', '/healthz']) {
      const res = await ufetch(alias(path), { dispatcher });
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: string }).error, 'not_found', path);
    }
    // The six aliased endpoints answer (here: no client authentication), each in its own way, none 404.
    const post = (path: string) => ufetch(alias(path), { dispatcher, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=nobody' });
    for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke', '/oauth2/par', '/oauth2/device_authorization']) {
      const res = await post(path);
      assert.notEqual(res.status, 404, path);
      await res.body?.cancel();
    }
    const userinfo = await ufetch(alias('/oauth2/userinfo'), { dispatcher });
    assert.equal(userinfo.status, 401);
    assert.match(userinfo.headers.get('www-authenticate') ?? '', /^Bearer/);
    await dispatcher.close();
  });

  test('MTLS-15 oauth4webapi with use_mtls_endpoint_aliases: tls_client_auth and a bound token through the alias, introspected there', async () => {
    const { dispatcher, urls, customFetch } = presenting(billing);
    try {
      const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { [oauth.customFetch]: customFetch }));
      const client: oauth.Client = { client_id: billingId, use_mtls_endpoint_aliases: true };
      const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), new URLSearchParams({ scope: 'read' }), { [oauth.customFetch]: customFetch });
      const result = await oauth.processClientCredentialsResponse(as, client, res);
      assert.equal(result.token_type, 'bearer');
      assert.deepEqual(decodeJwt(result.access_token).cnf, { 'x5t#S256': billing.thumbprint });
      const seenRes = await oauth.introspectionRequest(as, client, oauth.TlsClientAuth(), result.access_token, { [oauth.customFetch]: customFetch });
      const introspected = await oauth.processIntrospectionResponse(as, client, seenRes);
      assert.deepEqual([introspected.active, introspected.cnf], [true, { 'x5t#S256': billing.thumbprint }]);
      assert.deepEqual(urls.slice(1), [alias('/oauth2/token'), alias('/oauth2/introspect')]);
    } finally {
      await dispatcher.close();
    }
  });

  test('MTLS-15 openid-client v6 with use_mtls_endpoint_aliases: client_credentials with tls_client_auth through the alias gets a bound token', async () => {
    const { dispatcher, urls, customFetch } = presenting(billing);
    try {
      const config = await openid.discovery(new URL(issuer), billingId, { use_mtls_endpoint_aliases: true }, openid.TlsClientAuth(), { [openid.customFetch]: customFetch });
      config[openid.customFetch] = customFetch;
      const tokens = await openid.clientCredentialsGrant(config, { scope: 'read' });
      assert.deepEqual(decodeJwt(tokens.access_token).cnf, { 'x5t#S256': billing.thumbprint });
      assert.equal(urls.at(-1), alias('/oauth2/token'));
    } finally {
      await dispatcher.close();
    }
  });

  test('MTLS-15 a DPoP proof sent to an alias names the alias URL (htu); a client assertion may name the alias as its audience', async () => {
    const dpopKey = await keyPair('ES256');
    const proof = (htu: string) => dpopProof(dpopKey, { htu });
    const withProof = await cc(alias('/oauth2/token'), billing, { client_id: billingId }, { dpop: await proof(alias('/oauth2/token')) });
    assert.equal(withProof.status, 200, JSON.stringify(withProof.body));
    assert.equal(withProof.body.token_type, 'DPoP');
    const wrongHtu = await cc(alias('/oauth2/token'), billing, { client_id: billingId }, { dpop: await proof(main('/oauth2/token')) });
    assert.deepEqual([wrongHtu.status, wrongHtu.body.error], [400, 'invalid_dpop_proof']);
    const jwtAuth = async (aud: string) => ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(signer, { clientId: jwtClient, aud }) });
    const viaAliasAud = await cc(alias('/oauth2/token'), billing, await jwtAuth(alias('/oauth2/token')));
    assert.equal(viaAliasAud.status, 200, JSON.stringify(viaAliasAud.body));
    assert.equal((await cc(main('/oauth2/token'), undefined, await jwtAuth(alias('/oauth2/token')))).status, 200, 'the alias is an audience on the main listener too');
    assert.deepEqual(await cc(alias('/oauth2/token'), billing, await jwtAuth('https://elsewhere.example/token')), { status: 401, body: INVALID_CLIENT });
  });
});

describe('MTLS-14 mtls_endpoint_aliases only with a mutual-TLS listener, at every metadata path', () => {
  test('MTLS-14 an issuer with a path: all four metadata paths carry the aliases, under that path; without --mtls-port, none', async () => {
    const certs = makeCerts();
    const tls = { tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile };
    const withPath = await onFreePort((port) => startServer({ port: String(port), issuer: `https://localhost:${port}/tenant`, ...tls, mtlsPort: '0', mtlsUrl: 'https://mtls.example.com/tenant' }));
    const plain = await startServer(tls);
    try {
      const dispatcher = certs.agent();
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant', '/tenant/.well-known/openid-configuration']) {
        const res = await ufetch(`${withPath.url}${path}`, { dispatcher });
        assert.equal(res.status, 200, path);
        assert.deepEqual(((await res.json()) as Record<string, unknown>).mtls_endpoint_aliases, aliasesAt('https://mtls.example.com/tenant'), path);
      }
      const doc = (await (await ufetch(`${plain.url}/.well-known/openid-configuration`, { dispatcher })).json()) as Record<string, unknown>;
      assert.equal(doc.tls_client_certificate_bound_access_tokens, true);
      assert.equal('mtls_endpoint_aliases' in doc, false);
      assert.equal(plain.keymint.mtls, undefined);
    } finally {
      await withPath.close();
      await plain.close();
      await certs.close();
    }
  });
});

describe('MTLS-13 behind a TLS-terminating proxy: --mtls-port with --client-cert-header', () => {
  test('MTLS-13 the Client-Cert header is believed on the mTLS listener only; the main listener ignores it', async () => {
    const certs = makeCerts();
    const self = certs.selfSigned('proxied');
    const server = await startServer({ clientCertHeader: true, mtlsPort: '0', mtlsUrl: 'https://mtls.auth.example' });
    try {
      const { client } = await server.keymint.clients.create({ name: 'proxied', scopes: ['read'], authMethod: 'self_signed_tls_client_auth', jwks: { keys: [self.jwk()] } }, 'test');
      const mtlsPort = (server.keymint.mtls!.server.address() as { port: number }).port;
      const post = async (base: string) => {
        const res = await fetch(`${base}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-cert': `:${self.der.toString('base64')}:` },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.client_id }).toString(),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      assert.deepEqual(await post(server.url), { status: 401, body: INVALID_CLIENT });
      const viaMtls = await post(`http://127.0.0.1:${mtlsPort}`);
      assert.equal(viaMtls.status, 200, JSON.stringify(viaMtls.body));
      const doc = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { mtls_endpoint_aliases: Record<string, string> };
      assert.equal(doc.mtls_endpoint_aliases.token_endpoint, 'https://mtls.auth.example/oauth2/token');
    } finally {
      await server.close();
      await certs.close();
    }
  });
});

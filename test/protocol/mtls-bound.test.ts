/**
 * RFC 8705 §3-§4 over real TLS: certificate-bound access tokens (`cnf.x5t#S256` in the JWT and in
 * introspection), public clients' refresh tokens bound to their certificate, and keymint/verify
 * checking the binding (directly, and through protectNode on an https resource server).
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { fetch as ufetch } from 'undici';
import { createVerifier, fetchBearer, protectNode, type Verifier } from '../../src/verify/index.ts';
import { seedRefreshToken } from '../grants/support.ts';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { basic, onFreePort, startServer, type TestServer } from '../support/harness.ts';

describe('MTLS-08 MTLS-09 MTLS-10 MTLS-12 certificate-bound tokens', () => {
  let certs: CertKit;
  let server: TestServer;
  let issuer: string;
  let bound: string;
  let unbound: string;
  let secretBound: { id: string; secret: string };
  let publicId: string;
  let self: Issued;
  let other: Issued;
  before(async () => {
    certs = makeCerts();
    self = certs.selfSigned('bound-client');
    other = certs.selfSigned('other');
    server = await onFreePort((port) => startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile }));
    issuer = server.keymint.config.issuer;
    const create = async (input: Record<string, unknown>) => (await server.keymint.clients.create({ name: 'c', scopes: ['read'], ...input } as never, 'test')).client.client_id;
    const jwks = { keys: [self.jwk()] };
    bound = await create({ authMethod: 'self_signed_tls_client_auth', jwks, certBound: true, grants: ['client_credentials'] });
    unbound = await create({ authMethod: 'self_signed_tls_client_auth', jwks });
    secretBound = await server.client({ scopes: ['read'], certBound: true });
    publicId = await create({ type: 'public', grants: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'], scopes: ['openid', 'read'], certBound: true });
  });
  after(async () => {
    await server.close();
    await certs.close();
  });

  const post = (path: string, form: Record<string, string>, cert?: Issued, headers: Record<string, string> = {}) => certs.postForm(`${server.url}${path}`, form, cert, headers);
  const cc = (clientId: string, cert?: Issued) => post('/oauth2/token', { grant_type: 'client_credentials', client_id: clientId }, cert);

  test('MTLS-08 a client registered for bound tokens gets cnf.x5t#S256 of its certificate; introspection returns it', async () => {
    const r = await cc(bound, self);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'Bearer');
    assert.deepEqual(decodeJwt(r.body.access_token).cnf, { 'x5t#S256': self.thumbprint });
    const seen = await post('/oauth2/introspect', { token: r.body.access_token, client_id: bound }, self);
    assert.equal(seen.status, 200);
    assert.deepEqual([seen.body.active, seen.body.cnf], [true, { 'x5t#S256': self.thumbprint }]);
  });

  test('MTLS-08 a client not registered for it gets no cnf; one registered but presenting no certificate is refused', async () => {
    assert.equal(decodeJwt((await cc(unbound, self)).body.access_token).cnf, undefined);
    const res = await post('/oauth2/token', { grant_type: 'client_credentials' }, undefined, { authorization: basic(secretBound.id, secretBound.secret) });
    assert.deepEqual([res.status, res.body], [400, { error: 'invalid_request', error_description: 'This client must present its TLS client certificate.' }]);
    // A secret client with a certificate: the token is bound to it, the client authenticated by its secret.
    const withCert = await post('/oauth2/token', { grant_type: 'client_credentials' }, other, { authorization: basic(secretBound.id, secretBound.secret) });
    assert.deepEqual(decodeJwt(withCert.body.access_token).cnf, { 'x5t#S256': other.thumbprint });
  });

  test('MTLS-10 a public client\'s refresh token is bound to the certificate it was issued over', async () => {
    const seeded = await seedRefreshToken(server, publicId, { scope: 'openid read' });
    const first = await post('/oauth2/token', { grant_type: 'refresh_token', client_id: publicId, refresh_token: seeded.token }, self);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(decodeJwt(first.body.access_token).cnf, { 'x5t#S256': self.thumbprint });
    const refresh = (cert?: Issued) => post('/oauth2/token', { grant_type: 'refresh_token', client_id: publicId, refresh_token: first.body.refresh_token }, cert);
    assert.deepEqual([(await refresh(other)).status, (await refresh(other)).body.error], [400, 'invalid_grant'], 'another certificate');
    // Unregistered for bound tokens since: the refresh token stays bound to its certificate.
    await server.keymint.clients.update(publicId, { certBound: false }, 'test');
    assert.deepEqual((await refresh()).body.error, 'invalid_grant', 'no certificate');
    const ok = await refresh(self);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.access_token).cnf, undefined);
  });

  describe('MTLS-09 keymint/verify', () => {
    let verifier: Verifier;
    let token: string;
    let rs: Server;
    let rsUrl: string;
    before(async () => {
      const dispatcher = certs.agent();
      const fetchWithCa = ((url: string, init?: RequestInit) => ufetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
      verifier = createVerifier({ issuer, audience: issuer, algorithms: ['RS256'], mtls: true, fetch: fetchWithCa });
      token = (await cc(bound, self)).body.access_token;
      const guard = protectNode(verifier);
      rs = createServer({ cert: certs.server.cert, key: certs.server.key, requestCert: true, rejectUnauthorized: false }, async (req, res) => {
        const claims = await guard(req, res);
        if (claims) res.end(JSON.stringify({ client: claims.client_id }));
      });
      await new Promise<void>((resolve) => rs.listen(0, '127.0.0.1', resolve));
      rsUrl = `https://127.0.0.1:${(rs.address() as AddressInfo).port}/`;
    });
    after(() => new Promise<void>((resolve) => rs.close(() => resolve())));

    test('MTLS-09 verify(): the matching certificate passes; none, another or a verifier without mtls refuse with invalid_token', async () => {
      assert.equal((await verifier.verify(token, { clientCertificate: self.der })).client_id, bound);
      assert.equal((await verifier.verify(token, { clientCertificate: { raw: self.der } })).client_id, bound);
      for (const [label, cert] of [['none', undefined], ['another', other.der]] as const) {
        await assert.rejects(verifier.verify(token, { clientCertificate: cert }), { code: 'invalid_token', message: 'The access token is bound to a TLS client certificate this request did not present.' }, label);
      }
      const dispatcher = certs.agent();
      const plain = createVerifier({ issuer, audience: issuer, algorithms: ['RS256'], fetch: ((url: string, init?: RequestInit) => ufetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch });
      await assert.rejects(plain.verify(token, { clientCertificate: self.der }), { code: 'invalid_token' });
      // An unbound token is not affected by mtls.
      assert.equal((await verifier.verify((await cc(unbound, self)).body.access_token)).client_id, unbound);
    });

    test('MTLS-09 protectNode reads the connection\'s certificate: 200 with it, 401 invalid_token with another or none', async () => {
      const call = async (cert?: Issued) => {
        const res = await ufetch(rsUrl, { dispatcher: certs.agent(cert), headers: { authorization: `Bearer ${token}` } });
        return [res.status, res.headers.get('www-authenticate'), await res.text()];
      };
      assert.deepEqual(await call(self), [200, null, JSON.stringify({ client: bound })]);
      for (const cert of [other, undefined]) {
        const [status, challenge] = await call(cert);
        assert.equal(status, 401);
        assert.match(String(challenge), /^Bearer realm="api", error="invalid_token"/);
      }
    });

    test('MTLS-12 behind a TLS-ending proxy, clientCertHeader takes RFC 9440 Client-Cert (node:http and Fetch); without the option, repeated or malformed, none', async () => {
      const header = (cert: Issued) => `:${Buffer.from(cert.der).toString('base64')}:`;
      const proxied = createHttpServer(async (req, res) => {
        const guard = protectNode(verifier, { clientCertHeader: req.url === '/trusting' });
        const claims = await guard(req, res);
        if (claims) res.end(claims.client_id);
      });
      await new Promise<void>((resolve) => proxied.listen(0, '127.0.0.1', resolve));
      try {
        const base = `http://127.0.0.1:${(proxied.address() as AddressInfo).port}`;
        // node:http's flat header list sends a repeated header as separate lines, as a client could.
        const call = (path: string, certHeaders: readonly string[]) => new Promise<[number, string]>((resolve, reject) => {
          const headers = ['host', '127.0.0.1', 'authorization', `Bearer ${token}`, ...certHeaders.flatMap((v) => ['client-cert', v])];
          httpRequest(`${base}${path}`, { headers }, (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve([res.statusCode!, body]));
          }).on('error', reject).end();
        });
        assert.deepEqual(await call('/trusting', [header(self)]), [200, bound]);
        assert.equal((await call('/trusting', [` ${header(self)} `]))[0], 200, 'RFC 8941 allows surrounding spaces');
        for (const [label, path, values] of [
          ['option off', '/', [header(self)]],
          ['another certificate', '/trusting', [header(other)]],
          ['repeated', '/trusting', [header(self), header(self)]],
          ['not a byte sequence', '/trusting', [Buffer.from(self.der).toString('base64')]],
          ['bad base64 length', '/trusting', [`:${Buffer.from(self.der).toString('base64').slice(1)}:`]],
          ['no header', '/trusting', []],
        ] as const) {
          assert.equal((await call(path, values))[0], 401, label);
        }
      } finally {
        await new Promise<void>((resolve) => proxied.close(() => resolve()));
      }
      const request = (...values: string[]) => {
        const headers = new Headers({ authorization: `Bearer ${token}` });
        for (const value of values) headers.append('client-cert', value);
        return new Request('https://api.example/', { headers });
      };
      const trusting = fetchBearer(verifier, { clientCertHeader: true });
      assert.equal(((await trusting(request(header(self)))) as { client_id: string }).client_id, bound);
      for (const [label, check, values] of [
        ['option off', fetchBearer(verifier), [header(self)]],
        ['repeated', trusting, [header(self), header(self)]],
        ['another certificate', trusting, [header(other)]],
      ] as const) {
        const answer = await check(request(...values));
        assert.ok(answer instanceof Response, label);
        assert.equal(answer.status, 401, label);
      }
    });
  });
});

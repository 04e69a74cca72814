/**
 * FAPI 2.0 §5.3.2.1 items 4-6 with mutual TLS (RFC 8705) over real TLS: a fapi2 client authenticates
 * with `tls_client_auth` or `self_signed_tls_client_auth`, and its tokens are sender-constrained
 * either by a DPoP proof or by its certificate (`tls_client_certificate_bound_access_tokens`,
 * `cnf.x5t#S256`, no proof needed); a fapi2 client with neither is refused as before (FAPI-05).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { fetch as ufetch } from 'undici';
import { ClientInputError } from '../../src/credentials/client-rules.ts';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { onFreePort, startServer, type TestServer } from '../support/harness.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, type KeyPair } from '../support/sender.ts';
import { pkce } from '../grants/support.ts';

const CB = 'https://app.example/cb';
const NEEDS_PROOF = { error: 'invalid_dpop_proof', error_description: 'This client must send a DPoP proof.' };
const NEEDS_CERT = { error: 'invalid_request', error_description: 'This client must present its TLS client certificate.' };
const AUTH_REFUSAL = 'a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1)';

describe('FAPI-12 a fapi2 client with mutual TLS (RFC 8705)', () => {
  let certs: CertKit;
  let server: TestServer;
  let issuer: string;
  let self: Issued;
  let bank: Issued;
  let plainCert: Issued;
  let other: Issued;
  let es: KeyPair;
  let dpopKey: KeyPair;
  const ids: Record<string, string> = {};
  before(async () => {
    certs = makeCerts();
    self = certs.selfSigned('fapi-self');
    bank = certs.client('fapi-bank', { san: 'DNS:bank.example' });
    plainCert = certs.client('fapi-plain', { san: 'DNS:plain.example' });
    other = certs.selfSigned('fapi-other');
    es = await keyPair('ES256', 'es-1');
    dpopKey = await keyPair('ES256');
    server = await onFreePort((port) =>
      startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile, tlsClientCa: certs.ca.certFile }),
    );
    issuer = server.keymint.config.issuer;
    const make = async (name: string, input: Record<string, unknown>) => {
      const { client } = await server.keymint.clients.create({ name, scopes: ['read'], securityProfile: 'fapi2', ...input } as never, 'test');
      ids[name] = client.client_id;
    };
    await make('selfBound', { authMethod: 'self_signed_tls_client_auth', jwks: { keys: [self.jwk()] }, certBound: true, grants: ['client_credentials'] });
    await make('bank', { authMethod: 'tls_client_auth', tlsSanDns: 'bank.example', certBound: true, grants: ['authorization_code', 'refresh_token'], redirectUris: [CB], trusted: true });
    await make('unbound', { authMethod: 'tls_client_auth', tlsSanDns: 'plain.example', grants: ['client_credentials'] });
    await make('mixed', { authMethod: 'private_key_jwt', jwks: { keys: [es.jwk] }, certBound: true, grants: ['client_credentials'] });
  });
  after(async () => {
    await server.close();
    await certs.close();
  });

  const post = (path: string, form: Record<string, string>, cert?: Issued, headers: Record<string, string> = {}) => certs.postForm(`${server.url}${path}`, form, cert, headers);
  const cc = { grant_type: 'client_credentials', scope: 'read' };
  const tokenUrl = () => `${issuer}/oauth2/token`;

  test('FAPI-12 self_signed_tls_client_auth + bound tokens: client_credentials without DPoP gets a Bearer token with cnf.x5t#S256 of its certificate', async () => {
    const r = await post('/oauth2/token', { ...cc, client_id: ids.selfBound! }, self);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'Bearer');
    assert.deepEqual(decodeJwt(r.body.access_token).cnf, { 'x5t#S256': self.thumbprint });
  });

  test('FAPI-12 tls_client_auth + bound tokens: the code flow through PAR gives certificate-bound tokens, and the refresh too (RT-11: not rotated)', async () => {
    const { challenge, verifier } = pkce();
    const client_id = ids.bank!;
    const pushed = await post('/oauth2/par', { client_id, response_type: 'code', redirect_uri: CB, scope: 'read', state: 'st-m', code_challenge: challenge, code_challenge_method: 'S256' }, bank);
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    assert.equal(pushed.body.expires_in, 60);
    const { sessionToken } = await server.keymint.sessions.create({ subject: 'user-1' }, 'test');
    const query = new URLSearchParams({ client_id, request_uri: String(pushed.body.request_uri) });
    const res = await ufetch(`${server.url}/oauth2/authorize?${query}`, { dispatcher: certs.agent(), redirect: 'manual', headers: { cookie: `keymint_session=${sessionToken}` } });
    assert.equal(res.status, 302, await res.text());
    const location = new URL(String(res.headers.get('location')));
    assert.equal(location.searchParams.get('state'), 'st-m');
    const code = location.searchParams.get('code')!;
    const redeemed = await post('/oauth2/token', { grant_type: 'authorization_code', client_id, code, redirect_uri: CB, code_verifier: verifier }, bank);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body.token_type, 'Bearer');
    assert.deepEqual(decodeJwt(redeemed.body.access_token).cnf, { 'x5t#S256': bank.thumbprint });
    const refreshed = await post('/oauth2/token', { grant_type: 'refresh_token', client_id, refresh_token: String(redeemed.body.refresh_token) }, bank);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.deepEqual([refreshed.body.token_type, refreshed.body.refresh_token], ['Bearer', undefined]);
    assert.deepEqual(decodeJwt(refreshed.body.access_token).cnf, { 'x5t#S256': bank.thumbprint });
  });

  test('FAPI-05 FAPI-12 a fapi2 client with mTLS authentication but neither bound tokens nor DPoP is refused; with a DPoP proof it gets a DPoP token', async () => {
    const refused = await post('/oauth2/token', { ...cc, client_id: ids.unbound! }, plainCert);
    assert.deepEqual([refused.status, refused.body], [400, NEEDS_PROOF]);
    const proof = await dpopProof(dpopKey, { htu: tokenUrl() });
    const bound = await post('/oauth2/token', { ...cc, client_id: ids.unbound! }, plainCert, { dpop: proof });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body.token_type, 'DPoP');
    assert.equal(typeof (decodeJwt(bound.body.access_token).cnf as { jkt?: string }).jkt, 'string');
  });

  test('FAPI-12 private_key_jwt + certificate-bound tokens: the certificate binds the token without DPoP; without a certificate it is refused', async () => {
    const auth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(es, { clientId: ids.mixed!, aud: issuer, expiresIn: 120 }) });
    const r = await post('/oauth2/token', { ...cc, ...(await auth()) }, other);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'Bearer');
    assert.deepEqual(decodeJwt(r.body.access_token).cnf, { 'x5t#S256': other.thumbprint });
    const none = await post('/oauth2/token', { ...cc, ...(await auth()) });
    assert.deepEqual([none.status, none.body], [400, NEEDS_CERT]);
  });

  test('FAPI-01 FAPI-12 the client rules take tls_client_auth and self_signed_tls_client_auth for a fapi2 client, and refuse a secret', async () => {
    const view = await server.keymint.clients.update(ids.unbound!, { certBound: true }, 'test');
    assert.deepEqual([view.security_profile, view.token_endpoint_auth_method], ['fapi2', 'tls_client_auth']);
    await assert.rejects(server.keymint.clients.update(ids.bank!, { authMethod: 'client_secret_basic' }, 'test'), (e: unknown) => {
      assert.ok(e instanceof ClientInputError, String(e));
      assert.deepEqual([e.field, e.message], ['token_endpoint_auth_method', AUTH_REFUSAL]);
      return true;
    });
    await assert.rejects(server.keymint.clients.create({ name: 'secret', securityProfile: 'fapi2', grants: ['client_credentials'] } as never, 'test'), (e: unknown) => {
      assert.ok(e instanceof ClientInputError, String(e));
      assert.deepEqual([e.field, e.message], ['token_endpoint_auth_method', AUTH_REFUSAL]);
      return true;
    });
  });
});

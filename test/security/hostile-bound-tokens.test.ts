/**
 * Red team of sender-constrained tokens where Keymint itself is the resource server and reads only
 * `Authorization: Bearer`: the admin API and dynamic registration's initial access token. A token
 * bound to a DPoP key (RFC 9449) or to a TLS client certificate (RFC 8705) proves nothing as a bearer
 * token; a copy of one (a log, a proxy) must not open the admin API or register a client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/harness.ts';
import { makeCerts, type CertKit } from '../support/certs.ts';
import { dpopProof, keyPair } from '../support/sender.ts';
import { basic } from '../support/harness.ts';

let s: TestServer;
let certs: CertKit;
before(async () => {
  certs = makeCerts();
  // Behind a TLS-terminating proxy (its Client-Cert header believed): certificate-bound tokens without a TLS listener.
  s = await startServer({ registration: 'token', clientCertHeader: true, resources: ['https://api.example/v1=api:read'] });
});
after(async () => {
  await s.close();
  await certs.close();
});

/** A client_credentials token for `client`, DPoP-bound to a fresh key or certificate-bound through Client-Cert. */
async function boundToken(client: { id: string; secret: string }, scope: string, binding: 'dpop' | 'certificate'): Promise<string> {
  const headers: Record<string, string> = { authorization: basic(client.id, client.secret) };
  if (binding === 'dpop') headers.dpop = await dpopProof(await keyPair('ES256'), { htu: `${s.keymint.config.issuer}/oauth2/token` });
  else headers['client-cert'] = `:${certs.client('bound').der.toString('base64')}:`;
  const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', scope }, headers);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.token_type, binding === 'dpop' ? 'DPoP' : 'Bearer');
  return String(body.access_token);
}

test('ADM-05 a DPoP-bound or certificate-bound admin token does not open the admin API as a bearer token: 401 invalid_token; an unbound one does', async () => {
  const plain = await s.client({ admin: true, scopes: [] });
  const dpop = await s.client({ admin: true, scopes: [], dpopBound: true });
  const cert = await s.client({ admin: true, scopes: [], certBound: true });
  const call = (token: string, extra: Record<string, string> = {}) => fetch(`${s.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${token}`, ...extra } });
  const ok = await call(String((await s.token(plain.id, plain.secret, { scope: 'keymint:admin' })).access_token));
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  const certificate = `:${certs.client('bound').der.toString('base64')}:`;
  for (const [what, token, extra] of [
    ['DPoP-bound', await boundToken(dpop, 'keymint:admin', 'dpop'), {}],
    ['certificate-bound', await boundToken(cert, 'keymint:admin', 'certificate'), {}],
    ['certificate-bound, a certificate beside it', await boundToken(cert, 'keymint:admin', 'certificate'), { 'client-cert': certificate }],
  ] as const) {
    const res = await call(token, extra);
    assert.equal(res.status, 401, what);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_token"', what);
    await res.arrayBuffer();
  }
});

test('RG-08 a DPoP-bound or certificate-bound initial access token registers nothing: 401 invalid_token', async () => {
  const dpop = await s.client({ scopes: ['keymint:register'], dpopBound: true });
  const cert = await s.client({ scopes: ['keymint:register'], certBound: true });
  const before = (await s.keymint.clients.list()).length;
  for (const [what, token] of [['DPoP-bound', await boundToken(dpop, 'keymint:register', 'dpop')], ['certificate-bound', await boundToken(cert, 'keymint:register', 'certificate')]] as const) {
    const res = await fetch(`${s.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ grant_types: ['client_credentials'], scope: 'api:read' }) });
    assert.equal(res.status, 401, what);
    assert.deepEqual(await res.json(), { error: 'invalid_token', error_description: 'The access token is invalid.' }, what);
  }
  assert.equal((await s.keymint.clients.list()).length, before);
});

test('TE-04 a subject token bound to a certificate is exchanged only over that certificate (as a DPoP-bound one only with its key\'s proof): without one, or with another, invalid_grant; the laundered unbound token is never issued', async () => {
  const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
  const frontendCert = certs.client('frontend');
  const frontend = await s.client({ scopes: ['api:read'], certBound: true });
  const gateway = await s.client({ grants: [EXCHANGE, 'client_credentials'], scopes: ['gateway'], exchangeAudiences: ['https://api.example/v1'], exchangeScopes: ['api:read'] });
  const token = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basic(frontend.id, frontend.secret), 'client-cert': `:${frontendCert.der.toString('base64')}:` });
  const subject = String(((await token.json()) as Record<string, unknown>).access_token);
  const exchange = async (headers: Record<string, string>) => {
    const res = await s.postForm('/oauth2/token', { grant_type: EXCHANGE, subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'https://api.example/v1' }, { authorization: basic(gateway.id, gateway.secret), ...headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  for (const [what, headers] of [['no certificate', {}], ['another certificate', { 'client-cert': `:${certs.client('intruder').der.toString('base64')}:` }]] as const) {
    const res = await exchange(headers);
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_grant'], `${what}: ${JSON.stringify(res.body)}`);
  }
  const own = await exchange({ 'client-cert': `:${frontendCert.der.toString('base64')}:` });
  assert.equal(own.status, 200, JSON.stringify(own.body));
});

/**
 * Red team of the mutual-TLS listener (`--mtls-port`, MTLS-13, MTLS-16) beyond the pages its own
 * tests open: the browser-facing and registration routes answer 404 there whatever the method (a
 * form POST to the authorization or end-session endpoint, RFC 7591/7592 registration, a CORS
 * preflight), and a certificate-bound access token obtained through the alias is refused at
 * userinfo on the main listener, where no certificate is asked for, even when the client offers
 * its certificate there.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fetch as ufetch } from 'undici';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { onFreePort, startServer, type TestServer } from '../support/harness.ts';
import { pkce } from '../grants/support.ts';

let certs: CertKit;
let server: TestServer;
let mtlsUrl: string;
let billing: Issued;
let billingId: string;

before(async () => {
  certs = makeCerts();
  billing = certs.client('billing', { san: 'DNS:billing.example' });
  server = await onFreePort((port) =>
    startServer({ port: String(port), issuer: `https://localhost:${port}`, tlsCert: certs.server.certFile, tlsKey: certs.server.keyFile, tlsClientCa: certs.ca.certFile, mtlsPort: '0', registration: 'open', registrationRateLimit: '1000' }),
  );
  mtlsUrl = server.keymint.config.mtlsUrl!;
  billingId = (await server.keymint.clients.create({ name: 'billing', scopes: ['openid', 'read'], grants: ['authorization_code'], redirectUris: ['https://app.example/cb'], trusted: true, authMethod: 'tls_client_auth', tlsSanDns: 'billing.example', certBound: true }, 'test')).client.client_id;
});
after(async () => {
  await server.close();
  await certs.close();
});

test('MTLS-16 the mutual-TLS listener answers 404 to the browser pages and registration whatever the method: a form POST to authorize or logout, registration and its management, a CORS preflight', async () => {
  const dispatcher = certs.agent(billing);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const calls: Array<[string, string, Record<string, string>, string | undefined]> = [
    ['POST', '/oauth2/authorize', form, `response_type=code&client_id=${billingId}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb`],
    ['POST', '/oauth2/logout', form, 'client_id=x'],
    ['POST', '/oauth2/device', form, 'user_code=ABCD-EFGH'],
    ['POST', '/oauth2/register', { 'content-type': 'application/json' }, '{"redirect_uris":["https://app.example/cb"]}'],
    ['GET', `/oauth2/register/${billingId}`, {}, undefined],
    ['PUT', `/oauth2/register/${billingId}`, { 'content-type': 'application/json' }, '{}'],
    ['DELETE', `/oauth2/register/${billingId}`, {}, undefined],
    ['OPTIONS', '/oauth2/authorize', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, undefined],
    ['POST', '/console/sign-in', form, 'token=x'],
    ['GET', '/oauth2/authorize/', {}, undefined],
    ['GET', '//oauth2/authorize', {}, undefined],
  ];
  for (const [method, path, headers, body] of calls) {
    const res = await ufetch(`${mtlsUrl}${path}`, { dispatcher, method, headers, ...(body === undefined ? {} : { body }) });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(res.headers.get('location'), null, `${method} ${path}`);
    assert.equal(res.headers.get('set-cookie'), null, `${method} ${path}`);
    assert.equal(((await res.json()) as { error: string }).error, 'not_found', `${method} ${path}`);
  }
  assert.equal((await server.keymint.clients.list()).length, 1, 'nothing registered');
  await dispatcher.close();
});

test('MTLS-19 a certificate-bound user token from the alias is refused at userinfo on the main listener, even with the certificate offered there; at the alias only its own certificate opens it', async () => {
  // The user signs in on the main listener (a browser page); the app redeems the code at the alias with its certificate.
  const { sessionToken } = await server.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test');
  const { verifier, challenge } = pkce();
  const browser = certs.agent();
  const query = new URLSearchParams({ response_type: 'code', client_id: billingId, redirect_uri: 'https://app.example/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
  const authorized = await ufetch(`${server.url}/oauth2/authorize?${query}`, { dispatcher: browser, redirect: 'manual', headers: { cookie: `keymint_session=${sessionToken}` } });
  await browser.close();
  assert.equal(authorized.status, 302);
  const code = new URL(authorized.headers.get('location') ?? '').searchParams.get('code')!;
  const token = await certs.postForm(`${mtlsUrl}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier, client_id: billingId }, billing);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const bearer = { authorization: `Bearer ${String(token.body.access_token)}` };
  const other = certs.client('other', { san: 'DNS:other.example' });
  const at = async (base: string, cert: Issued | undefined) => {
    const dispatcher = certs.agent(cert);
    const res = await ufetch(`${base}/oauth2/userinfo`, { dispatcher, headers: bearer });
    const out = { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
    await dispatcher.close();
    return out;
  };
  const own = await at(mtlsUrl, billing);
  assert.equal(own.status, 200, own.body);
  assert.equal(JSON.parse(own.body).sub, 'user-1');
  for (const [base, cert, what] of [[server.url, billing, 'main, certificate offered'], [server.url, undefined, 'main'], [mtlsUrl, other, 'alias, another certificate'], [mtlsUrl, undefined, 'alias, none']] as const) {
    const res = await at(base, cert);
    assert.equal(res.status, 401, `${what}: ${res.body}`);
    assert.match(res.challenge ?? '', /error="invalid_token"/, what);
    assert.ok(!res.body.includes('user-1'), what);
  }
});

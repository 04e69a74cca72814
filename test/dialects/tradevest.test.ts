import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tradevest } from '../../src/dialects/tradevest.ts';
import { OAuthError, toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, expectEncoded, postJson, postRaw, unknownClient } from './support/dialects.ts';

const PATH = '/connect/token';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('tradevest dialect (mounted at /connect/token)', () => {
  let server: TestServer;
  let id: string;
  let secret: string;
  const post = (form: Record<string, string>) => server.postForm(PATH, form);
  const cc = () => ({ grant_type: 'client_credentials', client_id: id, client_secret: secret });

  before(async () => {
    server = await startServer({ dialects: ALL_DIALECTS });
    ({ id, secret } = await server.client({ scopes: ['accounts:read', 'orders:write'] }));
  });
  after(() => server.close());

  test('200 {access_token, expires_in, token_type: "Bearer"}', async () => {
    const { body } = await expectAnswer('tradevest', await post(cc()), { status: 200 });
    assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.match(body.access_token, /^eyJ/);
  });

  test('scope is optional; an allowed scope is granted, another is 400 invalid_request (the seed enum has no invalid_scope)', async () => {
    const { body } = await expectAnswer('tradevest', await post({ ...cc(), scope: 'accounts:read' }), { status: 200 });
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString()) as { scope: string };
    assert.equal(claims.scope, 'accounts:read');
    await expectAnswer('tradevest', await post({ ...cc(), scope: 'admin' }), { status: 400, body: { error: 'invalid_request' } });
  });

  test('T-02 a missing Content-Type is 400 invalid_request', async () => {
    const res = await postRaw(server.url, PATH, new URLSearchParams(cc()).toString(), {});
    await expectAnswer('tradevest', res, { status: 400, body: { error: 'invalid_request' } });
  });

  test('T-02 JSON or another Content-Type is 400 invalid_request', async () => {
    await expectAnswer('tradevest', await postJson(server.url, PATH, cc()), { status: 400, body: { error: 'invalid_request' } });
    const res = await postRaw(server.url, PATH, new URLSearchParams(cc()).toString(), { 'content-type': 'text/plain' });
    await expectAnswer('tradevest', res, { status: 400, body: { error: 'invalid_request' } });
  });

  test('T-06 grant_type missing → invalid_request; another → unsupported_grant_type', async () => {
    await expectAnswer('tradevest', await post({ client_id: id, client_secret: secret }), { status: 400, body: { error: 'invalid_request' } });
    for (const grant_type of ['password', 'authorization_code', 'refresh_token']) {
      await expectAnswer('tradevest', await post({ ...cc(), grant_type }), { status: 400, body: { error: 'unsupported_grant_type' } });
    }
  });

  test('T-05 a parameter sent twice is 400 invalid_request', async () => {
    const res = await postRaw(server.url, PATH, `${new URLSearchParams(cc())}&client_id=${id}`, FORM);
    await expectAnswer('tradevest', res, { status: 400, body: { error: 'invalid_request' } });
  });

  test('unknown client and wrong secret: 400 {"error":"invalid_client"}, byte-identical (no 401 here)', async () => {
    const unknown = unknownClient();
    const a = await expectAnswer('tradevest', await post({ ...cc(), client_id: unknown.id, client_secret: unknown.secret }), { status: 400, body: { error: 'invalid_client' } });
    const b = await expectAnswer('tradevest', await post({ ...cc(), client_secret: unknownClient().secret }), { status: 400, body: { error: 'invalid_client' } });
    assert.equal(a.text, b.text);
  });

  test('no client credentials, or a disabled client: 400 invalid_client', async () => {
    await expectAnswer('tradevest', await post({ grant_type: 'client_credentials' }), { status: 400, body: { error: 'invalid_client' } });
    await expectAnswer('tradevest', await post({ grant_type: 'client_credentials', client_id: id }), { status: 400, body: { error: 'invalid_client' } });
    const c = await server.client();
    await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
    await expectAnswer('tradevest', await post({ ...cc(), client_id: c.id, client_secret: c.secret }), { status: 400, body: { error: 'invalid_client' } });
  });

  test('a client without the client_credentials grant: 400 unauthorized_client', async () => {
    const c = await server.client({ grants: ['authorization_code'], redirectUris: ['https://app.example/cb'] });
    await expectAnswer('tradevest', await post({ ...cc(), client_id: c.id, client_secret: c.secret }), { status: 400, body: { error: 'unauthorized_client' } });
  });

  test('T-01 a method other than POST: 405 {"error":"invalid_request"}, Allow: POST', async () => {
    await expectAnswer('tradevest', await fetch(server.url + PATH), { status: 405, headers: { Allow: 'POST' }, body: { error: 'invalid_request' } });
  });

  test('429 rate_limited, 500 server_error, 503 temporarily_unavailable (codec)', () => {
    const limited = new OAuthError('rate_limited', 'Too many requests.', { retryAfter: 2 });
    expectEncoded('tradevest', tradevest.encodeError(limited), { status: 429, headers: { 'Retry-After': '2' }, body: { error: 'rate_limited' } });
    expectEncoded('tradevest', tradevest.encodeError(toOAuthError(new Error('boom'))), { status: 500, body: { error: 'server_error' } });
    expectEncoded('tradevest', tradevest.encodeError(toOAuthError(new UnavailableError('down'))), { status: 503, headers: { 'Retry-After': '1' }, body: { error: 'temporarily_unavailable' } });
  });
});

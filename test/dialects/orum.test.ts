import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orum } from '../../src/dialects/orum.ts';
import { OAuthError, toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, expectEncoded, postJson, postRaw, unknownClient } from './support/dialects.ts';

const PATH = '/oauth/token';
const err = (error_code: string, message: string) => ({ error_code, message, details: null });
const BAD_BODY = err('invalid_request', 'request body is not valid JSON or form data');

describe('orum dialect', () => {
  let server: TestServer;
  let id: string;
  let secret: string;
  const post = (body: unknown) => postJson(server.url, PATH, body);

  before(async () => {
    server = await startServer({ dialects: ALL_DIALECTS });
    ({ id, secret } = await server.client());
  });
  after(() => server.close());

  test('200 {access_token, token_type: "Bearer", expires_in} for JSON and for form data', async () => {
    for (const res of [await post({ client_id: id, client_secret: secret }), await server.postForm(PATH, { client_id: id, client_secret: secret })]) {
      const { body } = await expectAnswer('orum', res, { status: 200 });
      assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in']);
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 3600);
      assert.match(body.access_token, /^eyJ/);
    }
  });

  test('grant_type is optional; when present it must be client_credentials', async () => {
    await expectAnswer('orum', await post({ client_id: id, client_secret: secret, grant_type: 'client_credentials' }), { status: 200 });
    const wrong = err('invalid_grant_type', 'grant_type must be client_credentials');
    await expectAnswer('orum', await post({ client_id: id, client_secret: secret, grant_type: 'password' }), { status: 400, body: wrong });
    await expectAnswer('orum', await post({ client_id: id, client_secret: secret, grant_type: 1 }), { status: 400, body: wrong });
  });

  test('client_id absent or empty: 400 missing_client_id', async () => {
    const expected = { status: 400, body: err('missing_client_id', 'client_id is required') };
    await expectAnswer('orum', await post({ client_secret: secret }), expected);
    await expectAnswer('orum', await post({ client_id: '', client_secret: secret }), expected);
    await expectAnswer('orum', await server.postForm(PATH, { client_secret: secret }), expected);
    await expectAnswer('orum', await post({}), expected);
  });

  test('client_id not a string (a number, null, an object): 400 invalid_client_id', async () => {
    for (const value of [12345, null, { id }, [id], true]) {
      await expectAnswer('orum', await post({ client_id: value, client_secret: secret }), { status: 400, body: err('invalid_client_id', 'client_id must be a string') });
    }
  });

  test('client_secret absent: 400 missing_client_secret; not a string: 400 invalid_client_secret', async () => {
    await expectAnswer('orum', await post({ client_id: id }), { status: 400, body: err('missing_client_secret', 'client_secret is required') });
    await expectAnswer('orum', await post({ client_id: id, client_secret: 7 }), { status: 400, body: err('invalid_client_secret', 'client_secret must be a string') });
  });

  test('an unparseable body or an unaccepted Content-Type: 400 invalid_request', async () => {
    for (const raw of ['{"client_id":', '[1,2]', '', 'null']) await expectAnswer('orum', await post(raw), { status: 400, body: BAD_BODY });
    await expectAnswer('orum', await postRaw(server.url, PATH, `client_id=${id}`, { 'content-type': 'text/plain' }), { status: 400, body: BAD_BODY });
    await expectAnswer('orum', await postRaw(server.url, PATH, `client_id=${id}`, {}), { status: 400, body: BAD_BODY });
  });

  test('a parameter sent twice: 400 invalid_request (SECURITY T-05)', async () => {
    const res = await postRaw(server.url, PATH, `client_id=${id}&client_id=${id}&client_secret=${secret}`, { 'content-type': 'application/x-www-form-urlencoded' });
    await expectAnswer('orum', res, { status: 400, body: BAD_BODY });
  });

  test('unknown client and wrong secret: 401 unauthorized, byte-identical', async () => {
    const unknown = unknownClient();
    const expected = { status: 401, body: err('unauthorized', 'invalid client credentials') };
    const a = await expectAnswer('orum', await post({ client_id: unknown.id, client_secret: unknown.secret }), expected);
    const b = await expectAnswer('orum', await post({ client_id: id, client_secret: unknownClient().secret }), expected);
    assert.equal(a.text, b.text);
  });

  test('a disabled client: 403 forbidden', async () => {
    const c = await server.client();
    await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
    await expectAnswer('orum', await post({ client_id: c.id, client_secret: c.secret }), { status: 403, body: err('forbidden', 'client is disabled') });
  });

  test('T-01 a method other than POST: 405 method_not_allowed, Allow: POST', async () => {
    const res = await fetch(server.url + PATH);
    await expectAnswer('orum', res, { status: 405, headers: { Allow: 'POST' }, body: err('method_not_allowed', 'Method Not Allowed') });
  });

  test('429 too_many_requests with X-Retry-In (ms) and Retry-After (s) (codec)', () => {
    const e = new OAuthError('rate_limited', 'Too many requests.', { retryAfter: 3, reason: 'rate_limited' });
    expectEncoded('orum', orum.encodeError(e), { status: 429, headers: { 'Retry-After': '3', 'X-Retry-In': '3000' }, body: err('too_many_requests', 'Too Many Requests') });
  });

  test('500 internal_server_error and 503 service_unavailable (codec)', () => {
    expectEncoded('orum', orum.encodeError(toOAuthError(new Error('boom'))), { status: 500, body: err('internal_server_error', 'Internal Server Error') });
    expectEncoded('orum', orum.encodeError(toOAuthError(new UnavailableError('down'))), {
      status: 503,
      headers: { 'Retry-After': '1' },
      body: err('service_unavailable', 'Service Unavailable'),
    });
  });
});

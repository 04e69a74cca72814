import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fuuffy } from '../../src/dialects/fuuffy.ts';
import { OAuthError, toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, expectEncoded, postJson, postRaw, unknownClient } from './support/dialects.ts';

const PATH = '/v1/auth/token';
const E400 = (error_trace: Record<string, string>) => ({ error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters', error_trace } });
const E401 = { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } };
const E403 = { error: { code: '403001', code_reason: 'forbidden', message: 'Access forbidden for this resource' } };

describe('fuuffy dialect', () => {
  let server: TestServer;
  let id: string;
  let secret: string;
  const post = (form: Record<string, string>) => server.postForm(PATH, form);

  before(async () => {
    server = await startServer({ dialects: ALL_DIALECTS });
    ({ id, secret } = await server.client());
  });
  after(() => server.close());

  test('200 {"data": {access_token: "sk-" + 32 hex, token_type: "Bearer", expires_in}}', async () => {
    const forms: Array<Record<string, string>> = [{ client_id: id, client_secret: secret }, { client_id: id, client_secret: secret, grant_type: 'client_credentials' }];
    for (const form of forms) {
      const { body } = await expectAnswer('fuuffy', await post(form), { status: 200 });
      assert.deepEqual(Object.keys(body), ['data']);
      assert.deepEqual(Object.keys(body.data), ['access_token', 'token_type', 'expires_in']);
      assert.match(body.data.access_token, /^sk-[0-9a-f]{32}$/);
      assert.equal(body.data.token_type, 'Bearer');
      assert.equal(body.data.expires_in, 3600);
    }
  });

  test('S-01 the token\'s digest is in the store, the token itself nowhere in the data directory', async () => {
    const { body } = await expectAnswer('fuuffy', await post({ client_id: id, client_secret: secret }), { status: 200 });
    const token = body.data.access_token as string;
    const record = await server.keymint.store.tokens.find(candidateDigests(server.keymint.keyring.peppers(), token));
    assert.ok(record, 'a record is found by digest');
    assert.equal(record.kind, 'access_token');
    assert.equal(record.clientId, id);
    assert.equal(record.revokedAt, null);
    assert.equal(record.expiresAt, Math.floor(record.issuedAt / 1000) * 1000 + 3600_000);
    assert.ok(!record.digest.includes(token.slice(3)));
    assert.equal(await server.keymint.store.tokens.find(candidateDigests(server.keymint.keyring.peppers(), `sk-${'0'.repeat(32)}`)), undefined);
    for (const file of readdirSync(server.dataDir)) {
      const bytes = readFileSync(join(server.dataDir, file));
      assert.equal(bytes.includes(token.slice(3)), false, `${file} holds the token`);
    }
  });

  test('client_id / client_secret missing: 400013 with error_trace naming the field', async () => {
    await expectAnswer('fuuffy', await post({ client_secret: secret }), { status: 400, body: E400({ client_id: 'is required' }) });
    await expectAnswer('fuuffy', await post({ client_id: id }), { status: 400, body: E400({ client_secret: 'is required' }) });
    await expectAnswer('fuuffy', await post({ client_id: '', client_secret: secret }), { status: 400, body: E400({ client_id: 'is required' }) });
  });

  test('grant_type other than client_credentials: 400013 on grant_type', async () => {
    const res = await post({ client_id: id, client_secret: secret, grant_type: 'password' });
    await expectAnswer('fuuffy', res, { status: 400, body: E400({ grant_type: 'must be client_credentials' }) });
  });

  test('a duplicated parameter: 400013; an unknown one is not echoed', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await expectAnswer('fuuffy', await postRaw(server.url, PATH, `client_id=${id}&client_id=${id}&client_secret=${secret}`, form), { status: 400, body: E400({ client_id: 'must be sent once' }) });
    await expectAnswer('fuuffy', await postRaw(server.url, PATH, `client_id=${id}&client_secret=${secret}&%3Cx%3E=1&%3Cx%3E=2`, form), { status: 400, body: E400({ body: 'is not valid form data' }) });
  });

  test('JSON, another or a missing Content-Type: 400013 on Content-Type', async () => {
    const expected = { status: 400, body: E400({ 'Content-Type': 'must be application/x-www-form-urlencoded' }) };
    await expectAnswer('fuuffy', await postJson(server.url, PATH, { client_id: id, client_secret: secret }), expected);
    await expectAnswer('fuuffy', await postRaw(server.url, PATH, `client_id=${id}&client_secret=${secret}`, {}), expected);
  });

  test('unknown client and wrong secret: 401 401021, byte-identical', async () => {
    const unknown = unknownClient();
    const a = await expectAnswer('fuuffy', await post({ client_id: unknown.id, client_secret: unknown.secret }), { status: 401, body: E401 });
    const b = await expectAnswer('fuuffy', await post({ client_id: id, client_secret: unknownClient().secret }), { status: 401, body: E401 });
    assert.equal(a.text, b.text);
  });

  test('a disabled client: 403 403001', async () => {
    const c = await server.client();
    await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
    await expectAnswer('fuuffy', await post({ client_id: c.id, client_secret: c.secret }), { status: 403, body: E403 });
  });

  test('T-01 a method other than POST: 405 405001, Allow: POST', async () => {
    const body = { error: { code: '405001', code_reason: 'method_not_allowed', message: 'Method not allowed' } };
    await expectAnswer('fuuffy', await fetch(server.url + PATH), { status: 405, headers: { Allow: 'POST' }, body });
  });

  test('429 429001 with X-RateLimit-Limit / -Remaining / -Reset (unix time) and Retry-After (codec)', () => {
    const e = new OAuthError('rate_limited', 'Too many requests.', { retryAfter: 30, rateLimit: { limit: 100, remaining: 0, resetAt: 1795441372 } });
    expectEncoded('fuuffy', fuuffy.encodeError(e), {
      status: 429,
      headers: { 'Retry-After': '30', 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1795441372' },
      body: { error: { code: '429001', code_reason: 'rate_limit_exceeded', message: 'Too many requests' } },
    });
  });

  test('404 404001, 500 500999, 503 503001 (codec)', () => {
    expectEncoded('fuuffy', fuuffy.encodeError(new OAuthError('not_found', 'No such endpoint.')), {
      status: 404,
      body: { error: { code: '404001', code_reason: 'not_found', message: 'Resource or endpoint not found' } },
    });
    expectEncoded('fuuffy', fuuffy.encodeError(toOAuthError(new Error('boom'))), {
      status: 500,
      body: { error: { code: '500999', code_reason: 'API_ERROR', message: 'Api Error, please contact customer service' } },
    });
    expectEncoded('fuuffy', fuuffy.encodeError(toOAuthError(new UnavailableError('down'))), {
      status: 503,
      headers: { 'Retry-After': '1' },
      body: { error: { code: '503001', code_reason: 'service_unavailable', message: 'Service temporarily unavailable' } },
    });
  });
});

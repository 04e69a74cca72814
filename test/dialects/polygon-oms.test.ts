import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { polygonOms } from '../../src/dialects/polygon-oms.ts';
import { OAuthError, toOAuthError, UnavailableError } from '../../src/wire/errors.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, expectEncoded, postJson, postRaw, unknownClient } from './support/dialects.ts';

const PATH = '/v0.9/auth/token';
const invalid = (cause: string) => ({ error: 'InvalidArgument', code: 2001, msg: 'invalid argument', cause, status: 400 });
const unauthorized = (cause: string) => ({ error: 'Unauthorized', code: 1000, msg: 'unauthorized access', cause, status: 401 });

describe('polygon-oms dialect', () => {
  let server: TestServer;
  let id: string;
  let secret: string;
  const post = (body: unknown, headers?: Record<string, string>) => postJson(server.url, PATH, body, headers);

  before(async () => {
    server = await startServer({ dialects: ALL_DIALECTS, issuer: 'http://localhost:8080' });
    ({ id, secret } = await server.client());
  });
  after(() => server.close());

  test('200 {accessToken, tokenType: "bearer", expiresIn, expiresAt}: an RS256 JWT, expiresAt its exp in RFC 3339 UTC', async () => {
    const { body } = await expectAnswer('polygon-oms', await post({ apiKey: id, apiSecret: secret }), { status: 200 });
    assert.deepEqual(Object.keys(body), ['accessToken', 'tokenType', 'expiresIn', 'expiresAt']);
    assert.equal(body.tokenType, 'bearer');
    assert.equal(body.expiresIn, 3600);
    const jwks = (await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(body.accessToken, createLocalJWKSet(jwks), { issuer: 'http://localhost:8080', typ: 'at+jwt' });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.client_id, id);
    assert.equal(payload.sub, id);
    assert.equal(body.expiresAt, new Date(payload.exp! * 1000).toISOString().replace('.000Z', 'Z'));
    assert.equal(payload.exp! - payload.iat!, 3600);
  });

  test('a sandbox key (sk_sdbx_…) gets a token for sandbox mode', async () => {
    const c = await server.client({ mode: 'sandbox' });
    assert.match(c.id, /^sk_sdbx_/);
    const { body } = await expectAnswer('polygon-oms', await post({ apiKey: c.id, apiSecret: c.secret }), { status: 200 });
    const claims = JSON.parse(Buffer.from(body.accessToken.split('.')[1], 'base64url').toString()) as { mode: string; client_id: string };
    assert.deepEqual([claims.mode, claims.client_id], ['sandbox', c.id]);
  });

  test('the token is RS256 even when the deployment signs with ES256', async (t) => {
    const es = await startServer({ dialects: ['polygon-oms'], alg: 'ES256' });
    t.after(() => es.close());
    const c = await es.client();
    const { body } = await expectAnswer('polygon-oms', await postJson(es.url, PATH, { apiKey: c.id, apiSecret: c.secret }), { status: 200 });
    assert.equal(decodeProtectedHeader(body.accessToken).alg, 'RS256');
  });

  test('form data is 400 InvalidArgument (JSON only)', async () => {
    const res = await server.postForm(PATH, { apiKey: id, apiSecret: secret });
    await expectAnswer('polygon-oms', res, { status: 400, body: invalid('content-type') });
  });

  test('a missing or other Content-Type is 400 InvalidArgument', async () => {
    const json = JSON.stringify({ apiKey: id, apiSecret: secret });
    await expectAnswer('polygon-oms', await postRaw(server.url, PATH, json, {}), { status: 400, body: invalid('content-type') });
    await expectAnswer('polygon-oms', await postRaw(server.url, PATH, json, { 'content-type': 'text/plain' }), { status: 400, body: invalid('content-type') });
    await expectAnswer('polygon-oms', await postRaw(server.url, PATH, json, { 'content-type': 'application/json; charset=latin1' }), { status: 400, body: invalid('content-type') });
  });

  test('a JSON body with charset=utf-8 is accepted', async () => {
    const res = await postJson(server.url, PATH, { apiKey: id, apiSecret: secret }, { 'content-type': 'application/json; charset=utf-8' });
    await expectAnswer('polygon-oms', res, { status: 200 });
  });

  test('a body that is not a JSON object is 400 InvalidArgument (cause body)', async () => {
    for (const raw of ['{"apiKey":', '[]', '"x"', 'null', '']) {
      await expectAnswer('polygon-oms', await post(raw), { status: 400, body: invalid('body') });
    }
  });

  test('missing, empty or non-string apiKey / apiSecret: 400 with the field as cause', async () => {
    const cases: Array<[unknown, string]> = [
      [{ apiSecret: secret }, 'apiKey'],
      [{ apiKey: '', apiSecret: secret }, 'apiKey'],
      [{ apiKey: 42, apiSecret: secret }, 'apiKey'],
      [{ apiKey: { id }, apiSecret: secret }, 'apiKey'],
      [{ apiKey: id }, 'apiSecret'],
      [{ apiKey: id, apiSecret: null }, 'apiSecret'],
      [{ apiKey: id, apiSecret: [secret] }, 'apiSecret'],
      [{}, 'apiKey'],
    ];
    for (const [body, cause] of cases) await expectAnswer('polygon-oms', await post(body), { status: 400, body: invalid(cause) });
  });

  test('a duplicated key is 400 naming it; a duplicated unknown key names only the body', async () => {
    await expectAnswer('polygon-oms', await post(`{"apiKey":"${id}","apiKey":"${id}","apiSecret":"${secret}"}`), { status: 400, body: invalid('apiKey') });
    await expectAnswer('polygon-oms', await post(`{"apiKey":"${id}","apiSecret":"${secret}","<x>":1,"<x>":2}`), { status: 400, body: invalid('body') });
  });

  test('A-04 credentials in the query string are refused', async () => {
    const res = await postJson(server.url, `${PATH}?apiKey=${id}`, { apiKey: id, apiSecret: secret });
    await expectAnswer('polygon-oms', res, { status: 400, body: invalid('apiKey') });
  });

  test('unknown key and wrong secret: 401 Unauthorized (cause signature), byte-identical', async () => {
    const unknown = unknownClient();
    const a = await expectAnswer('polygon-oms', await post({ apiKey: unknown.id, apiSecret: unknown.secret }), { status: 401, body: unauthorized('signature') });
    const b = await expectAnswer('polygon-oms', await post({ apiKey: id, apiSecret: unknownClient().secret }), { status: 401, body: unauthorized('signature') });
    const c = await expectAnswer('polygon-oms', await post({ apiKey: 'not-a-key', apiSecret: 'x' }), { status: 401 });
    assert.equal(a.text, b.text);
    assert.equal(a.text, c.text);
  });

  test('a key of another environment is 401 with cause environment', async () => {
    const res = await post({ apiKey: `sk_dev_live_${id.slice(-24)}`, apiSecret: secret });
    await expectAnswer('polygon-oms', res, { status: 401, body: unauthorized('environment') });
  });

  test('a disabled key is 401 with cause revoked', async () => {
    const c = await server.client();
    await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
    await expectAnswer('polygon-oms', await post({ apiKey: c.id, apiSecret: c.secret }), { status: 401, body: unauthorized('revoked') });
  });

  test('a key without the client_credentials grant is 403 PermissionDenied', async () => {
    const c = await server.client({ grants: ['authorization_code'], redirectUris: ['https://app.example/cb'] });
    const res = await post({ apiKey: c.id, apiSecret: c.secret });
    await expectAnswer('polygon-oms', res, { status: 403, body: { error: 'PermissionDenied', code: 1001, msg: 'permission denied', status: 403 } });
  });

  test('T-01 a method other than POST is 405 in the webrpc shape, Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(server.url + PATH, { method });
      await expectAnswer('polygon-oms', res, { status: 405, headers: { Allow: 'POST' }, body: { error: 'WebrpcBadMethod', code: -3, msg: 'bad method', cause: 'method', status: 405 } });
    }
  });

  test('429 RateLimited with Retry-After (codec)', () => {
    const err = new OAuthError('rate_limited', 'Too many requests.', { retryAfter: 7, reason: 'rate_limited' });
    expectEncoded('polygon-oms', polygonOms.encodeError(err), { status: 429, headers: { 'Retry-After': '7' }, body: { error: 'RateLimited', code: 1007, msg: 'rate limited', status: 429 } });
  });

  test('500 InternalError for an unexpected failure, without cause (codec)', () => {
    const res = polygonOms.encodeError(toOAuthError(new Error('secret detail')));
    expectEncoded('polygon-oms', res, { status: 500, body: { error: 'InternalError', code: 5000, msg: 'internal error', status: 500 } });
  });

  test('503 Unavailable with Retry-After for a dependency outage (codec)', () => {
    const res = polygonOms.encodeError(toOAuthError(new UnavailableError('db down')));
    expectEncoded('polygon-oms', res, { status: 503, headers: { 'Retry-After': '1' }, body: { error: 'Unavailable', code: 5003, msg: 'service unavailable', status: 503 } });
  });
});

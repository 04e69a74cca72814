/** docs/requirements.md: token endpoint mechanics, responses, client credentials, security considerations. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, startServer, type TestServer } from '../support/harness.ts';

let server: TestServer;
let id: string;
let secret: string;
let auth: Record<string, string>;
before(async () => {
  server = await startServer();
  ({ id, secret } = await server.client({ scopes: ['read', 'write'] }));
  auth = { authorization: basic(id, secret) };
});
after(() => server.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth, ...headers }, body });

async function expectError(res: Response, status: number, error: string, description: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('pragma'), 'no-cache');
  assert.deepEqual(await res.json(), { error, error_description: description });
}

test('T-01 only POST: other methods → 405 with Allow: POST and a JSON error', async () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    const res = await fetch(`${server.url}/oauth2/token`, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'The token endpoint accepts only POST.' });
  }
});

test('T-02 a body that is not form-urlencoded (or JSON) → 400 invalid_request', async () => {
  await expectError(await post('grant_type=client_credentials', { 'content-type': 'text/plain' }), 400, 'invalid_request', 'The Content-Type must be application/x-www-form-urlencoded.');
  const noType = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: auth, body: new Uint8Array(Buffer.from('grant_type=client_credentials')) });
  await expectError(noType, 400, 'invalid_request', 'The Content-Type header is required.');
  await expectError(await post('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' }), 400, 'invalid_request', 'The request body must be UTF-8.');
  await expectError(await post('{"grant_type": "client_credentials"', { 'content-type': 'application/json' }), 400, 'invalid_request', 'The request body is not valid JSON.');
  await expectError(await post('["grant_type"]', { 'content-type': 'application/json' }), 400, 'invalid_request', 'The request body must be a JSON object.');
  await expectError(await post('{"grant_type": 5}', { 'content-type': 'application/json' }), 400, 'invalid_request', 'Every request parameter must be a string.');
});

test('T-02 JSON bodies are accepted as a documented extension', async () => {
  const res = await post(JSON.stringify({ grant_type: 'client_credentials', scope: 'read' }), { 'content-type': 'application/json' });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { scope: string }).scope, 'read');
});

test('T-03 a parameter without a value is treated as omitted (scope= ≡ no scope)', async () => {
  const res = await post('grant_type=client_credentials&scope=');
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { scope: string }).scope, 'read write');
});

test('T-04 unrecognised parameters are ignored and never echoed', async () => {
  const res = await post('grant_type=client_credentials&x_custom=%3Cscript%3E&scope=read');
  assert.equal(res.status, 200);
  assert.ok(!(await res.text()).includes('script'));
});

test('T-05 a parameter sent twice → 400 invalid_request (form, JSON, body + query)', async () => {
  const dup = 'A request parameter was sent more than once.';
  await expectError(await post('grant_type=client_credentials&grant_type=client_credentials'), 400, 'invalid_request', dup);
  await expectError(await post('grant_type=client_credentials&scope=read&scope=write'), 400, 'invalid_request', dup);
  await expectError(await post('{"grant_type":"client_credentials","grant_type":"x"}', { 'content-type': 'application/json' }), 400, 'invalid_request', dup);
  const both = await fetch(`${server.url}/oauth2/token?scope=read`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body: 'grant_type=client_credentials&scope=read' });
  await expectError(both, 400, 'invalid_request', dup);
});

test('T-05 a header sent twice (Content-Type, Authorization) → 400 invalid_request', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const u = new URL(`${server.url}/oauth2/token`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Type', 'application/json'], ['Authorization', auth.authorization!]] as unknown as Record<string, string> }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('grant_type=client_credentials');
  });
  assert.equal(status, 400);
});

test('T-06 grant_type missing → invalid_request; unknown → unsupported_grant_type; not allowed → unauthorized_client', async () => {
  await expectError(await post('scope=read'), 400, 'invalid_request', 'The grant_type parameter is required.');
  await expectError(await post('grant_type=urn:example:nope'), 400, 'unsupported_grant_type', 'The grant type is not supported.');
  const noCc = await server.client({ grants: ['authorization_code'], redirectUris: ['https://a.example/cb'] });
  await expectError(await post('grant_type=client_credentials', { authorization: basic(noCc.id, noCc.secret) }), 400, 'unauthorized_client', 'The client is not allowed to use this grant type.');
});

test('T-07 scope grammar and allow-list → invalid_scope', async () => {
  await expectError(await post('grant_type=client_credentials&scope=read%0Awrite'), 400, 'invalid_scope', 'The requested scope is malformed.');
  await expectError(await post('grant_type=client_credentials&scope=%22read%22'), 400, 'invalid_scope', 'The requested scope is malformed.');
  await expectError(await post('grant_type=client_credentials&scope=a%5Cb'), 400, 'invalid_scope', 'The requested scope is malformed.');
  await expectError(await post('grant_type=client_credentials&scope=read%20%20write'), 400, 'invalid_scope', 'The requested scope is malformed.');
  await expectError(await post('grant_type=client_credentials&scope=admin'), 400, 'invalid_scope', 'The requested scope is not allowed for this client.');
  await expectError(await post('grant_type=client_credentials&scope=Read'), 400, 'invalid_scope', 'The requested scope is not allowed for this client.');
});

test('T-08 scope omitted → the client\'s registered scopes', async () => {
  const body = (await (await post('grant_type=client_credentials')).json()) as { scope: string };
  assert.equal(body.scope, 'read write');
});

test('T-09 R-01 R-02 CC-02 the success response: exact headers, fields and types', async () => {
  const res = await post('grant_type=client_credentials&scope=write');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('pragma'), 'no-cache');
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 3600);
  assert.equal(body.scope, 'write');
  assert.match(String(body.access_token), /^[A-Za-z0-9\-._~+/]+=*$/); // RFC 6750 b64token (B-01)
  assert.equal('refresh_token' in body, false);
});

test('R-03 no-store and no-cache on errors too', async () => {
  const res = await post('grant_type=nope');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('pragma'), 'no-cache');
});

test('R-04 every error is 400 except invalid_client (401)', async () => {
  assert.equal((await post('grant_type=nope')).status, 400);
  assert.equal((await post('grant_type=client_credentials', { authorization: basic(id, 'x') })).status, 401);
});

test('R-05 error texts use only the allowed characters and never echo input', async () => {
  const probes = ['grant_type=%0D%0Aevil', 'grant_type=client_credentials&scope=%22%5C%0A', `grant_type=client_credentials&scope=${'x'.repeat(50)}`];
  for (const p of probes) {
    const text = await (await post(p)).text();
    const { error, error_description } = JSON.parse(text) as { error: string; error_description: string };
    for (const v of [error, error_description]) assert.match(v, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
    assert.ok(!text.includes('evil') && !text.includes('xxxxx'));
  }
});

test('S-05 BCP-08 the password grant is not offered → unsupported_grant_type', async () => {
  await expectError(await post('grant_type=password&username=a&password=b'), 400, 'unsupported_grant_type', 'The grant type is not supported.');
});

test('CC-01 a public client cannot be registered for, nor use, client_credentials', async () => {
  await assert.rejects(server.keymint.clients.create({ name: 'p', type: 'public', grants: ['client_credentials'] }, 'test'), { name: 'ClientInputError' });
});

test('S-08 bad input never yields a 5xx: a fuzz of bodies and headers', async () => {
  const bodies = ['', '=', '&&&', '%', '%zz=1', 'grant_type', 'a=%E0%A4%A', '\u0000', 'x'.repeat(16000), '{"__proto__":{"x":1}}', '{"constructor":"x","grant_type":"client_credentials"}'];
  const types = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'application/x-www-form-urlencoded;charset=', 'multipart/form-data; boundary=x'];
  for (const body of bodies) {
    for (const type of types) {
      const res = await post(body, { 'content-type': type });
      assert.ok(res.status < 500, `${type} ${JSON.stringify(body.slice(0, 20))} → ${res.status}`);
      await res.arrayBuffer();
    }
  }
  assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype pollution');
});

test('a body over the limit → 413 before it is buffered', async () => {
  const res = await post(`grant_type=client_credentials&pad=${'x'.repeat(20_000)}`);
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'The request body is too large.' });
});

test('an unknown path → 404 JSON', async () => {
  const res = await fetch(`${server.url}/nope`);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: 'not_found', error_description: 'No such endpoint.' });
});

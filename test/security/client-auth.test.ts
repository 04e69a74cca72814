/** docs/requirements.md, client authentication: at the token endpoint (oauth2 dialect). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';

let server: TestServer;
let id: string;
let secret: string;
before(async () => {
  server = await startServer();
  ({ id, secret } = await server.client({ scopes: ['a', 'b'] }));
});
after(() => server.close());

const b64 = (s: string) => Buffer.from(s).toString('base64');
const cc = { grant_type: 'client_credentials' };
const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' };

async function expectError(res: Response, status: number, body: unknown) {
  assert.equal(res.status, status);
  assert.deepEqual(await res.json(), body);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('pragma'), 'no-cache');
}

test('A-01 no client authentication → 401 invalid_client', async () => {
  const res = await server.postForm('/oauth2/token', cc);
  await expectError(res, 401, INVALID_CLIENT);
  assert.equal(res.headers.get('www-authenticate'), null);
});

test('A-02 client_secret_basic is supported', async () => {
  const res = await server.postForm('/oauth2/token', cc, { authorization: basic(id, secret) });
  assert.equal(res.status, 200);
});

test('A-02 client_secret_post is supported', async () => {
  const res = await server.postForm('/oauth2/token', { ...cc, client_id: id, client_secret: secret });
  assert.equal(res.status, 200);
});

test('A-03 Basic decodes the encodings of every mainstream client library', async () => {
  const formEncodeAll = (s: string) => s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  for (const header of [
    `Basic ${b64(`${formEncodeAll(id)}:${formEncodeAll(secret)}`)}`, // oauth4webapi, openid-client: `_` → %5F
    `Basic ${b64(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`, // simple-oauth2
    `Basic ${b64(`${id}:${secret}`)}`, // @badgateway/oauth2-client (raw)
    `basic ${b64(`${id}:${secret}`)}`, // scheme is case-insensitive
  ]) {
    const res = await server.postForm('/oauth2/token', cc, { authorization: header });
    assert.equal(res.status, 200, header.slice(0, 12));
  }
});

test('A-03 malformed Basic credentials are a 401, never a 500', async () => {
  for (const header of [
    'Basic !!!!',
    'Basic',
    `Basic ${b64('no-colon-here')}`,
    `Basic ${b64(`${id}:%E0%A4%A`)}`, // a % sequence that does not decode
    `Basic ${b64(`100%:${secret}`)}`,
    `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}`, // not UTF-8
    `Basic ${b64(`:${secret}`)}`, // empty client id
    'Bearer abc',
  ]) {
    const res = await server.postForm('/oauth2/token', cc, { authorization: header });
    await expectError(res, 401, INVALID_CLIENT);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="keymint"', header);
  }
});

test('A-04 credentials in the request URI → 400 invalid_request', async () => {
  for (const query of [`client_secret=${secret}`, `client_id=${id}`]) {
    const res = await fetch(`${server.url}/oauth2/token?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
      body: 'grant_type=client_credentials',
    });
    await expectError(res, 400, { error: 'invalid_request', error_description: 'Credentials must not be sent in the request URI.' });
  }
});

test('A-05 Basic and a body client_secret together → 400 invalid_request', async () => {
  const res = await server.postForm('/oauth2/token', { ...cc, client_secret: secret }, { authorization: basic(id, secret) });
  await expectError(res, 400, { error: 'invalid_request', error_description: 'Only one client authentication method may be used.' });
});

test('A-06 Basic with an equal body client_id passes; a different one → 400 invalid_request', async () => {
  const same = await server.postForm('/oauth2/token', { ...cc, client_id: id }, { authorization: basic(id, secret) });
  assert.equal(same.status, 200);
  const other = await server.client();
  const res = await server.postForm('/oauth2/token', { ...cc, client_id: other.id }, { authorization: basic(id, secret) });
  await expectError(res, 400, { error: 'invalid_request', error_description: 'The client_id does not match the authenticated client.' });
});

test('A-07 failed Basic authentication → 401 with WWW-Authenticate: Basic; failed post → 401 without it', async () => {
  const wrong = `${secret.slice(0, -8)}AAAAAAAA`;
  const viaHeader = await server.postForm('/oauth2/token', cc, { authorization: basic(id, wrong) });
  await expectError(viaHeader, 401, INVALID_CLIENT);
  assert.equal(viaHeader.headers.get('www-authenticate'), 'Basic realm="keymint"');
  const viaBody = await server.postForm('/oauth2/token', { ...cc, client_id: id, client_secret: wrong });
  await expectError(viaBody, 401, INVALID_CLIENT);
  assert.equal(viaBody.headers.get('www-authenticate'), null);
});

test('A-09 a public client is never authenticated by id alone, and sending a secret fails', async () => {
  const pub = await server.client({ type: 'public', grants: ['authorization_code'], redirectUris: ['https://app.example/cb'] });
  assert.equal(pub.secret, '');
  const byId = await server.postForm('/oauth2/token', { ...cc, client_id: pub.id });
  await expectError(byId, 401, INVALID_CLIENT);
  const withSecret = await server.postForm('/oauth2/token', { ...cc, client_id: pub.id, client_secret: secret });
  await expectError(withSecret, 401, INVALID_CLIENT);
});

test('A-10 unknown client and wrong secret: byte-identical answers, one store lookup each', async (t) => {
  // A store that counts client lookups, so "same work" is observable.
  const store = createMemoryStore();
  let lookups = 0;
  const get = store.clients.get.bind(store.clients);
  store.clients.get = (clientId) => {
    lookups++;
    return get(clientId);
  };
  // No client cache: every authentication reads the store, so the count is exact whatever the timing.
  const counted = await startServer({ clientCacheMs: '0' }, { store });
  t.after(() => counted.close());
  const a = await counted.client();
  const b = await counted.client();
  const unknownId = a.id.replace(/.{4}$/, 'Zz9Q');

  lookups = 0;
  const wrong = await counted.postForm('/oauth2/token', cc, { authorization: basic(a.id, b.secret) }); // well-formed, not a's
  assert.equal(lookups, 1);
  lookups = 0;
  const unknown = await counted.postForm('/oauth2/token', cc, { authorization: basic(unknownId, a.secret) });
  assert.equal(lookups, 1);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.status, unknown.status);
  assert.equal(await wrong.text(), await unknown.text());
  assert.deepEqual([...wrong.headers].filter(([k]) => k !== 'date'), [...unknown.headers].filter(([k]) => k !== 'date'));

  // A secret whose checksum fails (a typo) is rejected before any lookup (SECURITY D-03), same answer.
  lookups = 0;
  // The last character changed (never to itself: a secret ending in `x` would stay right, 1 run in 62).
  const typo = await counted.postForm('/oauth2/token', cc, { authorization: basic(a.id, `${a.secret.slice(0, -1)}${a.secret.endsWith('x') ? 'y' : 'x'}`) });
  assert.equal(lookups, 0);
  assert.equal(await typo.text(), JSON.stringify(INVALID_CLIENT));
});

test('A-11 S-07 client secrets carry ≥ 256 bits from [A-Za-z0-9_-] and never repeat', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { clientSecret } = await server.keymint.clients.create({ name: `n${i}` }, 'test');
    assert.match(clientSecret!, /^ks_[0-9A-Za-z]{49}$/); // 43 random base62 (256.03 bits) + 6 checksum
    seen.add(clientSecret!);
  }
  assert.equal(seen.size, 200);
});

test('A-12 an http issuer on a non-loopback host is refused at startup unless explicitly allowed', () => {
  assert.throws(() => loadConfig({ issuer: 'http://auth.example.com' }, {}), { name: 'ConfigError', key: 'issuer' });
  assert.equal(loadConfig({ issuer: 'http://auth.example.com', insecureHttp: true }, {}).issuer, 'http://auth.example.com');
  assert.equal(loadConfig({ issuer: 'http://127.0.0.1:9000' }, {}).issuer, 'http://127.0.0.1:9000');
  assert.equal(loadConfig({ issuer: 'https://auth.example.com/' }, {}).issuer, 'https://auth.example.com');
});

test('a disabled client is refused with invalid_client once it has proven its secret', async () => {
  const c = await server.client();
  await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
  const res = await server.postForm('/oauth2/token', cc, { authorization: basic(c.id, c.secret) });
  await expectError(res, 401, { error: 'invalid_client', error_description: 'The client is disabled.' });
  const wrong = await server.postForm('/oauth2/token', cc, { authorization: basic(c.id, secret) });
  await expectError(wrong, 401, INVALID_CLIENT);
});

test('a client id of another environment is refused before any lookup', async () => {
  const res = await server.postForm('/oauth2/token', cc, { authorization: basic('sk_stg_live_AAAAAAAAAAAAAAAAAAAAAAAA', secret) });
  await expectError(res, 401, INVALID_CLIENT);
});

/**
 * A client's registered keys (src/credentials/client-keys.ts, jwks-fetch.ts): validation of a
 * registered set, and the jwks_uri fetch against a real local HTTP server, with and without the
 * operator's permission to reach private addresses.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { clientKeys, ClientKeysError, validateClientJwks, type ClientKeysSettings } from '../../src/credentials/client-keys.ts';
import { fetchClientDocument, fetchJwksDocument, isPrivateAddress, JwksFetchError } from '../../src/credentials/jwks-fetch.ts';

const es = await generateKeyPair('ES256', { extractable: true });
const ed = await generateKeyPair('EdDSA', { extractable: true });
const rsa = await generateKeyPair('RS256', { extractable: true });
const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256' };
const edJwk: JWK = { ...(await exportJWK(ed.publicKey)), kid: 'ed' };
const rsJwk: JWK = { ...(await exportJWK(rsa.publicKey)), kid: 'rs', use: 'sig' };

let clock = 1_800_000_000_000;
const LOCAL = { timeoutMs: 2000, maxBytes: 65_536, allowPrivateAddresses: true, allowHttp: true };
const settings = (extra: Partial<ClientKeysSettings> = {}): ClientKeysSettings => ({
  ...LOCAL, cacheTtlMs: 300_000, unknownKidCooldownMs: 60_000, now: () => clock, ...extra,
});

/** A JWKS host on 127.0.0.1; `handler` may be swapped per test; `hits` counts requests per path. */
async function jwksHost(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url!);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return { hits, port, url: (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}` };
}
const serveKeys = (keys: () => JWK[]) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ keys: keys() }));
};

test('PJ-02 a registered JWKS: public signing keys only, supported kinds, unique kids', () => {
  assert.deepEqual(validateClientJwks({ keys: [esJwk, edJwk, rsJwk] }).keys.map((k) => k.kid), ['es', 'ed', 'rs']);
  const refusedSets: unknown[] = [
    null, {}, { keys: 'x' }, { keys: [] },
    { keys: [{ ...esJwk, d: 'AAAA' }] }, // private member: the whole set is refused
    { keys: [esJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, // symmetric material
    { keys: [{ ...esJwk, alg: 'HS256' }] },
    { keys: [{ ...esJwk, alg: 'none' }] },
    { keys: [{ ...esJwk, alg: 'RS256' }] }, // alg of another family
    { keys: [{ ...esJwk, alg: 'ES384' }] }, // alg of another curve
    { keys: [{ ...esJwk, crv: 'secp256k1' }] },
    { keys: [esJwk, { ...edJwk, kid: 'es' }] },
    { keys: [esJwk, { ...edJwk, kid: undefined }] },
    { keys: [{ kty: 'RSA', n: Buffer.alloc(128, 1).toString('base64url'), e: 'AQAB' }] }, // 1024 bits
    { keys: Array.from({ length: 17 }, (_, i) => ({ ...esJwk, kid: `k${i}` })) },
  ];
  for (const set of refusedSets) assert.throws(() => validateClientJwks(set), ClientKeysError, JSON.stringify(set)?.slice(0, 80));
  // Keys for encryption or of unknown types are dropped, not fatal.
  assert.deepEqual(validateClientJwks({ keys: [esJwk, { ...rsJwk, use: 'enc' }, { kty: 'AKP', kid: 'pq' }] }).keys, [esJwk]);
});

test('PJ-02 keyFor: the key named by kid, for an alg that fits it; one kid-less key only when alone', async () => {
  const keys = clientKeys(settings());
  const source = { jwks: { keys: [esJwk, edJwk, rsJwk] } };
  assert.equal((await keys.keyFor(source, { kid: 'es', alg: 'ES256' }))?.key.type, 'public');
  assert.equal((await keys.keyFor(source, { kid: 'rs', alg: 'PS256' }))?.key.type, 'public');
  assert.equal(await keys.keyFor(source, { kid: 'es', alg: 'RS256' }), undefined);
  assert.equal(await keys.keyFor(source, { kid: 'rs', alg: 'HS256' }), undefined);
  assert.equal(await keys.keyFor(source, { kid: 'nope', alg: 'ES256' }), undefined);
  assert.equal(await keys.keyFor(source, { kid: undefined, alg: 'ES256' }), undefined, 'ambiguous without a kid');
  assert.ok(await keys.keyFor({ jwks: { keys: [edJwk] } }, { kid: undefined, alg: 'EdDSA' }));
});

test('PJ-03 private, loopback, link-local and reserved addresses are recognised (IPv4, IPv6, mapped)', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'not-an-ip']) {
    assert.ok(isPrivateAddress(a), a);
  }
  for (const a of ['93.184.215.14', '8.8.8.8', '2606:4700::6810:84e5', '2a00:1450:4001::1']) assert.ok(!isPrivateAddress(a), a);
});

test('PJ-03 without the operator\'s permission: http, loopback names and private literals are refused before any connection', async (t) => {
  const host = await jwksHost(t, serveKeys(() => [esJwk]));
  const strict = { ...LOCAL, allowPrivateAddresses: false, allowHttp: false };
  const refused = (uri: string, s = strict) => assert.rejects(fetchJwksDocument(uri, s), JwksFetchError, uri);
  await refused(host.url('/jwks'));
  await refused(host.url('/jwks'), { ...strict, allowHttp: true });
  await refused(host.url('/jwks', 'localhost'), { ...strict, allowHttp: true });
  await refused(`https://localhost:${host.port}/jwks`);
  for (const literal of ['127.0.0.1', '[::1]', '169.254.169.254', '10.0.0.1', '[::ffff:127.0.0.1]', '[fd00::1]']) {
    await refused(`https://${literal}:${host.port}/jwks`);
  }
  await refused('ftp://example.com/jwks');
  await refused(`https://user:pw@example.com/jwks`);
  assert.deepEqual(host.hits, [], 'no request reached the server');
  // With the permission (tests, an operator's internal JWKS host) the same server is fetched.
  assert.deepEqual(await fetchJwksDocument(host.url('/jwks', 'localhost'), LOCAL), { keys: [esJwk] });
});

test('PJ-03 no redirects, a byte limit and a time limit', async (t) => {
  const host = await jwksHost(t, (req, res) => {
    if (req.url === '/moved') return res.writeHead(302, { location: '/jwks' }).end();
    if (req.url === '/big') return res.writeHead(200).end(JSON.stringify({ keys: [esJwk], pad: 'x'.repeat(70_000) }));
    if (req.url === '/big-chunked') {
      res.writeHead(200);
      for (let i = 0; i < 20; i++) res.write('x'.repeat(8192));
      return res.end();
    }
    if (req.url === '/slow') return void setTimeout(() => res.end('{"keys":[]}'), 5000).unref();
    serveKeys(() => [esJwk])(req, res);
  });
  await assert.rejects(fetchJwksDocument(host.url('/moved'), LOCAL), /302 \(redirects are not followed\)/);
  assert.deepEqual(host.hits, ['/moved'], 'the redirect target is never requested');
  await assert.rejects(fetchJwksDocument(host.url('/big'), LOCAL), /more bytes than allowed/);
  await assert.rejects(fetchJwksDocument(host.url('/big-chunked'), LOCAL), /more bytes than allowed/);
  // Gave up before the server answered: had the fetch waited the 5 s, it would have read a valid
  // (empty) set. That, not a wall-clock bound a loaded machine can overrun, shows the deadline.
  await assert.rejects(fetchJwksDocument(host.url('/slow'), { ...LOCAL, timeoutMs: 200 }), /timed out/);
});

test('RG-03 a client metadata document must be served as application/json or application/...+json; a jwks_uri may be any type', async (t) => {
  const host = await jwksHost(t, (req, res) => res.writeHead(200, { 'content-type': decodeURIComponent(req.url!.slice(1)) }).end('{"a":1}'));
  const strict = { ...LOCAL, requireJsonType: true };
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/client-metadata+json']) {
    assert.deepEqual(await fetchClientDocument(host.url(`/${encodeURIComponent(type)}`), strict, 'client metadata document'), { a: 1 }, type);
  }
  for (const type of ['text/html', 'text/plain', '', 'application/jsonp', 'application/x-json', 'text/json', 'application/jwt', 'application/json+xml']) {
    await assert.rejects(fetchClientDocument(host.url(`/${encodeURIComponent(type)}`), strict, 'client metadata document'), /client metadata document is not served as application\/json/, type);
  }
  assert.deepEqual(await fetchJwksDocument(host.url('/text%2Fplain'), LOCAL), { a: 1 }, 'a jwks_uri is not held to a type');
});

test('PJ-03 a fetched set is cached; an unknown kid refetches at most once per cooldown, however many ask', async (t) => {
  let served = [esJwk];
  const host = await jwksHost(t, serveKeys(() => served));
  const keys = clientKeys(settings());
  const source = { jwksUri: host.url('/jwks') };
  assert.ok(await keys.keyFor(source, { kid: 'es', alg: 'ES256' }));
  assert.ok(await keys.keyFor(source, { kid: 'es', alg: 'ES256' }));
  assert.equal(host.hits.length, 1, 'cached');
  // The client adds a key: the first request naming it after the cooldown triggers one refetch,
  // shared by 50 callers.
  served = [esJwk, edJwk];
  assert.equal(await keys.keyFor(source, { kid: 'ed', alg: 'EdDSA' }), undefined, 'within the cooldown of the first fetch');
  assert.equal(host.hits.length, 1);
  clock += 60_000;
  const found = await Promise.all(Array.from({ length: 50 }, () => keys.keyFor(source, { kid: 'ed', alg: 'EdDSA' })));
  assert.ok(found.every((k) => k !== undefined));
  assert.equal(host.hits.length, 2);
  // Unknown kids within the cooldown cost nothing upstream.
  for (let i = 0; i < 20; i++) assert.equal(await keys.keyFor(source, { kid: `ghost-${i}`, alg: 'ES256' }), undefined);
  assert.equal(host.hits.length, 2);
  clock += 60_000;
  assert.equal(await keys.keyFor(source, { kid: 'ghost', alg: 'ES256' }), undefined);
  assert.equal(host.hits.length, 3, 'one more after the cooldown');
  // After the lifetime the set is fetched again, and a key the client removed is gone.
  served = [edJwk];
  clock += 300_000;
  assert.equal(await keys.keyFor(source, { kid: 'es', alg: 'ES256' }), undefined);
  assert.equal(host.hits.length, 4);
});

test('PJ-03 a fetched set with private material, or a host that fails, gives no key; the old set keeps serving', async (t) => {
  let mode: 'good' | 'private' | 'down' = 'good';
  const host = await jwksHost(t, (req, res) => {
    if (mode === 'down') return res.writeHead(503).end();
    serveKeys(() => (mode === 'private' ? [{ ...esJwk, d: 'AAAA' }] : [esJwk]))(req, res);
  });
  const errors: unknown[] = [];
  const keys = clientKeys(settings({ onFetchError: (_uri, e) => errors.push(e) }));
  mode = 'private';
  assert.equal(await keys.keyFor({ jwksUri: host.url('/a') }, { kid: 'es', alg: 'ES256' }), undefined);
  assert.ok(errors[0] instanceof ClientKeysError);
  mode = 'good';
  clock += 60_000;
  assert.ok(await keys.keyFor({ jwksUri: host.url('/a') }, { kid: 'es', alg: 'ES256' }));
  mode = 'down';
  clock += 300_000;
  assert.ok(await keys.keyFor({ jwksUri: host.url('/a') }, { kid: 'es', alg: 'ES256' }), 'stale keys serve while the host is down');
  assert.equal(errors.length, 2);
});

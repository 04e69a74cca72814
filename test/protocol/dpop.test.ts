/**
 * DPoP proofs at the token endpoint (src/protocol/dpop.ts): hand-made proofs, each with one thing
 * wrong, against the checks of RFC 9449 §4.3; nonces (§8) shared by two "nodes" holding one key.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { accessTokenHash, DPOP_ALGORITHMS, sameResource, UseDpopNonceError, verifyDpopProof, type DpopSettings } from '../../src/protocol/dpop.ts';
import { dpopNonces } from '../../src/protocol/dpop-nonce.ts';
import { storeReplayGuard } from '../../src/protocol/replay-guard.ts';
import { CLOCK_TOLERANCE_SECONDS } from '../../src/protocol/sender.ts';
import { MemoryReplays } from '../../src/storage/memory/replays.ts';
import { OAuthError } from '../../src/wire/errors.ts';

const URL_ = 'https://auth.example.com/oauth2/token';
let clock = 1_800_000_000_000;
const now = () => clock;
const es = await generateKeyPair('ES256', { extractable: true });
const esJwk = await exportJWK(es.publicKey);
const settings = (extra: Partial<DpopSettings> = {}): DpopSettings => ({
  algorithms: DPOP_ALGORITHMS,
  proofMaxAgeSeconds: 60,
  clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  nonces: undefined,
  replay: storeReplayGuard(new MemoryReplays(), now),
  now,
  ...extra,
});
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  jti: randomBytes(16).toString('base64url'), htm: 'POST', htu: URL_, iat: Math.floor(clock / 1000), ...extra,
});
const proof = (payload: JWTPayload = claims(), header: Record<string, unknown> = {}, key: CryptoKey = es.privateKey) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: esJwk, ...header }).sign(key);
const input = async (p?: string | string[], extra: object = {}) => ({ method: 'POST', url: URL_, proof: p ?? (await proof()), ...extra });
const refused = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => e instanceof OAuthError && e.code === code && e.status === 400);

test('DP-01 a good proof gives the RFC 7638 thumbprint of its key and its alg; no header gives undefined', async () => {
  const result = await verifyDpopProof(await input(), settings());
  assert.deepEqual(result, { jkt: await calculateJwkThumbprint(esJwk, 'sha256'), alg: 'ES256', freshNonce: undefined });
  assert.equal(await verifyDpopProof({ method: 'POST', url: URL_, proof: undefined }, settings()), undefined);
  assert.equal(await verifyDpopProof({ method: 'POST', url: URL_, proof: [] }, settings()), undefined);
});

test('DP-01 typ must be dpop+jwt; two DPoP headers are refused', async () => {
  await refused(verifyDpopProof(await input(await proof(claims(), { typ: 'JWT' })), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims(), { typ: undefined })), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input([await proof(), await proof()]), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input('not a jwt'), settings()), 'invalid_dpop_proof');
});

test('DP-01 alg: none, HS256 and algs outside the list are refused; the jwk must fit the alg', async () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: esJwk })}.${b64(claims())}.`;
  await refused(verifyDpopProof(await input(none), settings()), 'invalid_dpop_proof');
  const { createHmac } = await import('node:crypto');
  const signingInput = `${b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${b64(claims())}`;
  const hs = `${signingInput}.${createHmac('sha256', 'secret').update(signingInput).digest('base64url')}`;
  await refused(verifyDpopProof(await input(hs), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(), settings({ algorithms: ['EdDSA'] })), 'invalid_dpop_proof');
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const rsJwk = await exportJWK(rsa.publicKey);
  await refused(verifyDpopProof(await input(await proof(claims(), { alg: 'RS256', jwk: esJwk }, rsa.privateKey)), settings()), 'invalid_dpop_proof');
  const rsProof = await proof(claims(), { alg: 'RS256', jwk: rsJwk }, rsa.privateKey);
  assert.equal((await verifyDpopProof(await input(rsProof), settings()))?.jkt, await calculateJwkThumbprint(rsJwk, 'sha256'));
});

test('DP-01 the jwk must be public, and the signature must be made by it', async () => {
  const privateJwk = await exportJWK(es.privateKey);
  await refused(verifyDpopProof(await input(await proof(claims(), { jwk: privateJwk })), settings()), 'invalid_dpop_proof');
  const other = await generateKeyPair('ES256', { extractable: true });
  await refused(verifyDpopProof(await input(await proof(claims(), { jwk: await exportJWK(other.publicKey) })), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims(), { jwk: undefined })), settings()), 'invalid_dpop_proof');
  const [h, , s] = (await proof()).split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify(claims({ htm: 'GET' }))).toString('base64url')}.${s}`;
  await refused(verifyDpopProof(await input(tampered), settings()), 'invalid_dpop_proof');
});

test('DP-01 jti, htm, htu and iat are required; htm and htu must match the request', async () => {
  for (const claim of ['jti', 'htm', 'htu', 'iat']) {
    const c = claims();
    delete c[claim];
    await refused(verifyDpopProof(await input(await proof(c)), settings()), 'invalid_dpop_proof');
  }
  await refused(verifyDpopProof(await input(await proof(claims({ htm: 'GET' }))), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims({ htm: 'post' }))), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims({ htu: 'https://auth.example.com/oauth2/other' }))), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims({ htu: 'https://evil.example.com/oauth2/token' }))), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims({ htu: 'http://auth.example.com/oauth2/token' }))), settings()), 'invalid_dpop_proof');
  // Query and fragment ignored; scheme/host case, default port and dot segments normalised.
  const loose = await proof(claims({ htu: 'HTTPS://Auth.Example.com:443/oauth2/x/../token?a=1#f' }));
  assert.ok(await verifyDpopProof(await input(loose, { url: `${URL_}?b=2` }), settings()));
});

test('DP-01 htu comparison: the normalisations RFC 3986 §6.2.2-6.2.3 allow, nothing more', () => {
  assert.ok(sameResource('https://a.example/p', 'https://a.example:443/p?q'));
  assert.ok(sameResource('https://a.example/p#x', 'https://A.EXAMPLE/p'));
  assert.ok(!sameResource('https://a.example/p/', 'https://a.example/p'));
  assert.ok(!sameResource('https://a.example:8443/p', 'https://a.example/p'));
  assert.ok(!sameResource('https://user@a.example/p', 'https://a.example/p'));
  assert.ok(!sameResource('ftp://a.example/p', 'ftp://a.example/p'));
  assert.ok(!sameResource('not a url', 'https://a.example/p'));
});

test('DP-01 iat within the window: 60 s back plus 10 s tolerance, 10 s ahead (FAPI 2.0 §5.3.2.1 item 14), with the server\'s own tolerance', async () => {
  const t = Math.floor(clock / 1000);
  assert.ok(await verifyDpopProof(await input(await proof(claims({ iat: t - 70 }))), settings()));
  assert.ok(await verifyDpopProof(await input(await proof(claims({ iat: t + 10 }))), settings()));
  await refused(verifyDpopProof(await input(await proof(claims({ iat: t - 71 }))), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(claims({ iat: t + 11 }))), settings()), 'invalid_dpop_proof');
});

test('DP-01 jti single use within the window; the same jti under another key is another proof', async () => {
  const guard = storeReplayGuard(new MemoryReplays(), now);
  const once = await proof();
  assert.ok(await verifyDpopProof(await input(once), settings({ replay: guard })));
  await refused(verifyDpopProof(await input(once), settings({ replay: guard })), 'invalid_dpop_proof');
  const jti = 'shared-jti';
  const other = await generateKeyPair('ES256', { extractable: true });
  assert.ok(await verifyDpopProof(await input(await proof(claims({ jti }))), settings({ replay: guard })));
  const otherProof = await proof(claims({ jti }), { jwk: await exportJWK(other.publicKey) }, other.privateKey);
  assert.ok(await verifyDpopProof(await input(otherProof), settings({ replay: guard })));
  // An invalid proof does not burn its jti.
  const late = claims({ jti: 'late', htm: 'GET' });
  await refused(verifyDpopProof(await input(await proof(late)), settings({ replay: guard })), 'invalid_dpop_proof');
  assert.ok(await verifyDpopProof(await input(await proof(claims({ jti: 'late' }))), settings({ replay: guard })));
});

test('DP-01 twenty concurrent presentations of one proof: exactly one passes', async () => {
  const guard = storeReplayGuard(new MemoryReplays(), now);
  const p = await proof();
  const results = await Promise.allSettled(Array.from({ length: 20 }, async () => verifyDpopProof(await input(p), settings({ replay: guard }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('DP-01 ath must be the SHA-256 of the access token when one comes with the proof', async () => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
  assert.equal(accessTokenHash(token), createHash('sha256').update(token).digest('base64url'));
  assert.ok(await verifyDpopProof(await input(await proof(claims({ ath: accessTokenHash(token) })), { accessToken: token }), settings()));
  await refused(verifyDpopProof(await input(await proof(claims({ ath: accessTokenHash('other') })), { accessToken: token }), settings()), 'invalid_dpop_proof');
  await refused(verifyDpopProof(await input(await proof(), { accessToken: token }), settings()), 'invalid_dpop_proof');
});

test('DP-03 nonces: a proof without one or with a forged one is use_dpop_nonce carrying the current nonce', async () => {
  const nonces = dpopNonces({ keys: [randomBytes(32)], now });
  const s = settings({ nonces });
  for (const p of [await proof(), await proof(claims({ nonce: 'x'.repeat(30) })), await proof(claims({ nonce: 'short' }))]) {
    await assert.rejects(verifyDpopProof(await input(p), s), (e: unknown) => {
      assert.ok(e instanceof UseDpopNonceError);
      assert.equal(e.code, 'use_dpop_nonce');
      assert.equal(e.status, 400);
      assert.equal(e.nonce, nonces.current());
      return true;
    });
  }
  assert.deepEqual((await verifyDpopProof(await input(await proof(claims({ nonce: nonces.current() }))), s))?.freshNonce, undefined);
});

test('DP-03 nonces rotate: accepted for one more epoch with a fresh one to send back, then refused', async () => {
  const key = randomBytes(32);
  const nonces = dpopNonces({ keys: [key], lifetimeSeconds: 300, now });
  const first = nonces.current();
  clock += 300_000;
  const second = nonces.current();
  assert.notEqual(first, second);
  assert.equal(nonces.check(first), 'stale');
  const result = await verifyDpopProof(await input(await proof(claims({ nonce: first }))), settings({ nonces }));
  assert.equal(result?.freshNonce, second);
  clock += 300_000;
  assert.equal(nonces.check(first), 'invalid');
  await assert.rejects(verifyDpopProof(await input(await proof(claims({ nonce: first }))), settings({ nonces })), UseDpopNonceError);
});

test('DP-03 nonces need no shared state: another node with the key accepts them, one without it does not', async () => {
  const key = randomBytes(32);
  const nodeA = dpopNonces({ keys: [key], now });
  const nodeB = dpopNonces({ keys: [key], now: () => clock + 1000 });
  assert.equal(nodeB.check(nodeA.current()), 'current');
  assert.equal(dpopNonces({ keys: [randomBytes(32)], now }).check(nodeA.current()), 'invalid');
  // A node whose clock already entered the next epoch issues a nonce the others accept.
  const ahead = dpopNonces({ keys: [key], now: () => clock + 300_000 });
  assert.equal(nodeA.check(ahead.current()), 'current');
  assert.equal(nodeA.check(dpopNonces({ keys: [key], now: () => clock + 600_000 }).current()), 'invalid');
  // Key rollover: the new key issues, the old one is still accepted.
  const next = randomBytes(32);
  assert.equal(dpopNonces({ keys: [next, key], now }).check(nodeA.current()), 'current');
  assert.throws(() => dpopNonces({ keys: [randomBytes(16)] }), TypeError);
});

test('DP-01 a private or symmetric key is refused even with a matching signature', async () => {
  const jwk: JWK = { ...esJwk, d: (await exportJWK(es.privateKey)).d };
  await refused(verifyDpopProof(await input(await proof(claims(), { jwk })), settings()), 'invalid_dpop_proof');
});

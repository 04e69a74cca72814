/**
 * `private_key_jwt` assertions (src/protocol/client-assertion.ts) checked against a client's
 * registered keys (src/credentials/client-keys.ts): hand-made assertions, each with one thing wrong.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { clientKeys, CLIENT_KEY_ALGORITHMS } from '../../src/credentials/client-keys.ts';
import {
  JWT_BEARER_ASSERTION_TYPE, verifyClientAssertion, type AssertionKeyLookup, type ClientAssertionSettings, type PresentedAssertion,
} from '../../src/protocol/client-assertion.ts';
import { storeReplayGuard } from '../../src/protocol/replay-guard.ts';
import { ASSERTION_MAX_LIFETIME_SECONDS, CLOCK_TOLERANCE_SECONDS } from '../../src/protocol/sender.ts';
import { MemoryReplays } from '../../src/storage/memory/replays.ts';
import { OAuthError } from '../../src/wire/errors.ts';

const ISSUER = 'https://auth.example.com';
const TOKEN_URL = `${ISSUER}/oauth2/token`;
const CLIENT = 'sk_live_client1';
let clock = 1_800_000_000_000;
const now = () => clock;
const es = await generateKeyPair('ES256', { extractable: true });
const attacker = await generateKeyPair('ES256', { extractable: true });
const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'k1' };
const registered = new Map([[CLIENT, { jwks: { keys: [esJwk] } }]]);
const keys = clientKeys({ timeoutMs: 1000, maxBytes: 65_536, allowPrivateAddresses: false, allowHttp: false, cacheTtlMs: 1, unknownKidCooldownMs: 1, now });
const keyFor: AssertionKeyLookup = async (id, header) => {
  const source = registered.get(id);
  return source ? keys.keyFor(source, header) : undefined;
};
const settings = (extra: Partial<ClientAssertionSettings> = {}): ClientAssertionSettings => ({
  audiences: [ISSUER, TOKEN_URL],
  algorithms: CLIENT_KEY_ALGORITHMS,
  maxLifetimeSeconds: ASSERTION_MAX_LIFETIME_SECONDS,
  clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  replay: storeReplayGuard(new MemoryReplays(), now),
  now,
  ...extra,
});
const t0 = () => Math.floor(clock / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  iss: CLIENT, sub: CLIENT, aud: ISSUER, jti: randomBytes(16).toString('base64url'), iat: t0(), exp: t0() + 60, ...extra,
});
const assertion = (payload: JWTPayload = claims(), header: Record<string, unknown> = {}, key: CryptoKey = es.privateKey) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header }).sign(key);
const presented = async (a?: string, extra: Partial<PresentedAssertion> = {}): Promise<PresentedAssertion> => ({
  clientId: undefined, assertionType: JWT_BEARER_ASSERTION_TYPE, assertion: a ?? (await assertion()), secretPresented: false, ...extra,
});
const invalidClient = (p: Promise<unknown>) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OAuthError);
    assert.equal(e.code, 'invalid_client');
    assert.equal(e.status, 401);
    assert.equal(e.description, 'Client authentication failed.', 'one fixed description, nothing echoed');
    return true;
  });

test('PJ-01 a good assertion names its client; client_id may be sent and must then match', async () => {
  assert.deepEqual(await verifyClientAssertion(await presented(), keyFor, settings()), { clientId: CLIENT, kid: 'k1' });
  assert.equal((await verifyClientAssertion(await presented(undefined, { clientId: CLIENT }), keyFor, settings())).clientId, CLIENT);
  await invalidClient(verifyClientAssertion(await presented(undefined, { clientId: 'sk_live_other' }), keyFor, settings()));
});

test('PJ-01 client_assertion_type must be the jwt-bearer URN exactly', async () => {
  for (const assertionType of [undefined, '', 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', `${JWT_BEARER_ASSERTION_TYPE} `, JWT_BEARER_ASSERTION_TYPE.toUpperCase()]) {
    await invalidClient(verifyClientAssertion(await presented(undefined, { assertionType }), keyFor, settings()));
  }
  await invalidClient(verifyClientAssertion({ ...(await presented()), assertion: undefined }, keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented('a.b'), keyFor, settings()));
});

test('PJ-01 iss = sub = the client id; aud contains the issuer or the token endpoint', async () => {
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ iss: 'sk_live_other' }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ sub: 'sk_live_other' }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ sub: undefined }))), keyFor, settings()));
  for (const aud of [ISSUER, TOKEN_URL, ['https://x.example', ISSUER]]) {
    assert.ok(await verifyClientAssertion(await presented(await assertion(claims({ aud }))), keyFor, settings()), JSON.stringify(aud));
  }
  for (const aud of [undefined, 'https://evil.example.com', `${ISSUER}/`, ['https://x.example']]) {
    await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ aud }))), keyFor, settings()));
  }
});

test('PJ-01 exp present and near: at most an hour ahead (+10 s, the server\'s own settings); expired refused; iat and nbf up to 10 s ahead taken (FAPI 2.0 §5.3.2.1 item 14), further refused', async () => {
  assert.equal(ASSERTION_MAX_LIFETIME_SECONDS, 3600, 'Authlib signs assertions for an hour');
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ exp: undefined }))), keyFor, settings()));
  assert.ok(await verifyClientAssertion(await presented(await assertion(claims({ exp: t0() + 3610 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ exp: t0() + 3611 }))), keyFor, settings()));
  assert.ok(await verifyClientAssertion(await presented(await assertion(claims({ iat: t0() + 10, nbf: t0() + 10 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ iat: t0() + 11 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ nbf: t0() + 11 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ exp: t0() + 86_400 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ exp: t0() - 10 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ iat: t0() + 60 }))), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ nbf: t0() + 60 }))), keyFor, settings()));
});

test('PJ-01 jti single use until exp; a replay after exp is refused as expired; concurrent replays: one wins', async () => {
  const replay = storeReplayGuard(new MemoryReplays(), now);
  const once = await assertion();
  assert.ok(await verifyClientAssertion(await presented(once), keyFor, settings({ replay })));
  await invalidClient(verifyClientAssertion(await presented(once), keyFor, settings({ replay })));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims({ jti: undefined }))), keyFor, settings({ replay })));
  const shared = await assertion();
  const results = await Promise.allSettled(Array.from({ length: 20 }, async () => verifyClientAssertion(await presented(shared), keyFor, settings({ replay }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  clock += 120_000;
  await invalidClient(verifyClientAssertion(await presented(once), keyFor, settings({ replay })));
});

test('PJ-02 none, HS256 (keyed with the public JWK) and algs outside the list are refused', async () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  await invalidClient(verifyClientAssertion(await presented(`${b64({ alg: 'none', kid: 'k1' })}.${b64(claims())}.`), keyFor, settings()));
  const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims())}`;
  const hs = `${input}.${createHmac('sha256', JSON.stringify(esJwk)).update(input).digest('base64url')}`;
  await invalidClient(verifyClientAssertion(await presented(hs), keyFor, settings({ algorithms: [...CLIENT_KEY_ALGORITHMS, 'HS256'] })));
  await invalidClient(verifyClientAssertion(await presented(), keyFor, settings({ algorithms: ['RS256'] })));
  const p384 = await generateKeyPair('ES384');
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims(), { alg: 'ES384' }, p384.privateKey)), keyFor, settings()));
});

test('PJ-02 the key comes from the registered set by kid; jwk, jku and x5u in the header are never used', async () => {
  const attackerJwk = await exportJWK(attacker.publicKey);
  const forged = (header: Record<string, unknown>) => assertion(claims(), header, attacker.privateKey);
  await invalidClient(verifyClientAssertion(await presented(await forged({ jwk: attackerJwk })), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await forged({ kid: undefined, jwk: attackerJwk })), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await forged({ jku: 'https://evil.example.com/jwks' })), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await forged({ x5u: 'https://evil.example.com/cert' })), keyFor, settings()));
  await invalidClient(verifyClientAssertion(await presented(await assertion(claims(), { kid: 'k2' })), keyFor, settings()));
  // An unknown client has no keys at all.
  const stranger = claims({ iss: 'sk_live_nobody', sub: 'sk_live_nobody' });
  await invalidClient(verifyClientAssertion(await presented(await assertion(stranger)), keyFor, settings()));
  // A tampered payload fails the signature.
  const [h, , s] = (await assertion()).split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString('base64url')}.${s}`;
  await invalidClient(verifyClientAssertion(await presented(tampered), keyFor, settings()));
});

test('PJ-04 an assertion together with a secret is invalid_request', async () => {
  await assert.rejects(verifyClientAssertion(await presented(undefined, { secretPresented: true }), keyFor, settings()), (e: unknown) =>
    e instanceof OAuthError && e.code === 'invalid_request' && e.status === 400);
});

/**
 * PS256 (RSASSA-PSS with SHA-256, RFC 7518 §3.5) as a deployment's `--alg`: the access tokens of a
 * client_credentials grant checked by hand (PSS padding, MGF1-SHA-256, a salt of exactly 32 bytes),
 * by jose and by keymint/verify; PS256 keys are RSA keys of their own, never RS256's (RFC 7517 §4.4);
 * and, on SQLite and on PostgreSQL, the key survives restarts and `keymint keys rotate` rotates it as
 * the RS256 key is. ID tokens in PS256 through openid-client: test/grants/id-token-alg.test.ts.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, verify } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import type { RawConfig } from '../../src/config/index.ts';
import { createVerifier, VerifyError } from '../../src/verify/index.ts';
import { basic, startServer, tempDir, type TestServer } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { countingFetch } from '../verify/fixtures.ts';
import { startGrantServer } from '../grants/support.ts';

const ISSUER = 'http://localhost:8080';
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const jwksOf = async (s: TestServer) => (await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet;
const segments = (token: string) => token.split('.') as [string, string, string];

/** keymint/verify as a resource server would set it up, reaching the test server under ISSUER. */
const verifierFor = (s: TestServer, algorithms?: Parameters<typeof createVerifier>[0]['algorithms']) =>
  createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: countingFetch(ISSUER, s.url).fetch, ...(algorithms ? { algorithms } : {}) });

const refusedAs = (code: string) => (e: unknown) => {
  assert.ok(e instanceof VerifyError, String(e));
  assert.equal(e.code, code);
  return true;
};

test('J-08 a server started with --alg PS256 serves client_credentials: RSASSA-PSS, SHA-256, a 32-byte salt; jose and keymint/verify accept the token', async (t) => {
  const s = await startGrantServer({ alg: 'PS256', issuer: ISSUER });
  t.after(() => s.close());
  const app = await s.client({ scopes: ['read'] });
  const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic(app.id, app.secret) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
  assert.deepEqual([body.token_type, body.expires_in, body.scope], ['Bearer', 3600, 'read']);
  const token = String(body.access_token);
  const header = decodeProtectedHeader(token);
  assert.deepEqual([header.alg, header.typ], ['PS256', 'at+jwt']);

  const jwks = await jwksOf(s);
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  assert.deepEqual([jwk.kty, jwk.alg, jwk.use], ['RSA', 'PS256', 'sig']);
  // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash. OpenSSL, told a salt length, checks it.
  const [h, p, sig] = segments(token);
  const key = createPublicKey({ key: jwk as JWK & { kty: string }, format: 'jwk' });
  const signedWith = (padding: number, saltLength?: number) =>
    verify('sha256', Buffer.from(`${h}.${p}`), { key, padding, ...(saltLength === undefined ? {} : { saltLength }) }, Buffer.from(sig, 'base64url'));
  assert.equal(signedWith(constants.RSA_PKCS1_PSS_PADDING, 32), true);
  assert.equal(signedWith(constants.RSA_PKCS1_PSS_PADDING, 20), false);
  assert.equal(signedWith(constants.RSA_PKCS1_PADDING), false, 'not an RS256 (PKCS#1 v1.5) signature');

  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: ['PS256'] });
  assert.deepEqual([payload.client_id, payload.sub, payload.scope], [app.id, app.id, 'read']);
  // keymint/verify's default algorithms are those Keymint signs with; one pinned to others refuses PS256.
  assert.equal((await verifierFor(s).verify(`Bearer ${token}`)).client_id, app.id);
  await assert.rejects(verifierFor(s, ['RS256', 'ES256', 'EdDSA']).verify(`Bearer ${token}`), refusedAs('invalid_token'));

  // Discovery says so: the access tokens' alg, and the ID tokens' (RS256 and the --alg).
  const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  assert.deepEqual([meta.access_token_signing_alg_values_supported, meta.id_token_signing_alg_values_supported], [['PS256'], ['RS256', 'PS256']]);

  // The server's own checks of its tokens take PS256: introspection, and the admin API's bearer token.
  const introspected = await s.postForm('/oauth2/introspect', { token }, { authorization: basic(app.id, app.secret) });
  assert.equal(introspected.status, 200);
  const info = (await introspected.json()) as Record<string, unknown>;
  assert.deepEqual([info.active, info.client_id, info.scope], [true, app.id, 'read']);
  const keys = await s.admin('GET', '/keys');
  assert.equal(keys.status, 200);
  assert.deepEqual([...new Set(((await keys.json()) as { keys: Array<{ use: string; alg: string }> }).keys.filter((k) => k.use === 'sig').map((k) => k.alg))].sort(), ['PS256', 'RS256']);
});

test('KEY-04 PS256 has RSA keys of its own, published with alg PS256 beside the RS256 ones; a token pointed at the other algorithm\'s key does not verify', async (t) => {
  const s = await startServer({ alg: 'PS256', issuer: ISSUER });
  t.after(() => s.close());
  const jwks = await jwksOf(s);
  const byAlg = (alg: string) => jwks.keys.filter((k) => k.alg === alg);
  assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['PS256', 'PS256', 'RS256', 'RS256'], 'an active and a next key each');
  assert.ok(jwks.keys.every((k) => k.kty === 'RSA' && k.use === 'sig'));
  const moduli = new Set(jwks.keys.map((k) => k.n));
  assert.equal(moduli.size, 4, 'no RSA key is published for two algorithms');
  assert.ok(byAlg('PS256').every((k) => String(k.kid).startsWith('ps256-')));

  const app = await s.client();
  const ps = String((await s.token(app.id, app.secret)).access_token);
  const rsKid = s.keymint.keyring.signer('RS256').kid;
  const keys = createLocalJWKSet(jwks);
  const options = { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt' };
  const relabel = (token: string, header: Record<string, unknown>) => {
    const [h, p, sig] = segments(token);
    const edited = { ...(JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>), ...header };
    return `${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${p}.${sig}`;
  };
  await jwtVerify(ps, keys, { ...options, algorithms: ['PS256'] });
  // The PS256 token pointed at the RS256 key, or re-labelled RS256: no key of the JWKS takes it.
  for (const forged of [relabel(ps, { kid: rsKid }), relabel(ps, { alg: 'RS256' }), relabel(ps, { alg: 'RS256', kid: rsKid })]) {
    await assert.rejects(jwtVerify(forged, keys, options));
    await assert.rejects(verifierFor(s).verify(`Bearer ${forged}`), refusedAs('invalid_token'));
  }
});

/** Where a restarted server finds its keys: a SQLite data directory, or a PostgreSQL schema (its KEK file in the directory). */
const STORES: ReadonlyArray<{ name: string; setUp: (t: import('node:test').TestContext) => Promise<RawConfig | undefined> }> = [
  { name: 'SQLite', setUp: async () => ({}) },
  {
    name: 'PostgreSQL',
    setUp: async (t) => {
      if (!(await needService(t, 'PostgreSQL'))) return undefined;
      const schema = uniqueName('kmps256');
      t.after(() => dropSchema(schema));
      return { databaseUrl: DATABASE_URL, databaseSchema: schema };
    },
  },
];

for (const store of STORES) {
  test(`KEY-05 on ${store.name}: the PS256 key survives a restart, and keys rotate --alg PS256 promotes its next key; tokens signed before keep verifying`, async (t) => {
    const flags = await store.setUp(t);
    if (flags === undefined) return;
    const dir = tempDir('keymint-ps256-');
    dirs.push(dir);
    const start = () => startServer({ alg: 'PS256', issuer: ISSUER, ...flags }, { dataDir: dir });
    const storeArgs = ['--data', dir, ...Object.entries(flags).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)])];
    const keysOf = async () => JSON.parse((await cli(['keys', 'list', '--json', ...storeArgs])).stdout) as Array<{ kid: string; alg: string; state: string; publishUntil: number | null }>;

    let s = await start();
    const app = await s.client();
    const first = String((await s.token(app.id, app.secret)).access_token);
    const kid = decodeProtectedHeader(first).kid;
    await s.close();

    s = await start();
    assert.equal(decodeProtectedHeader(String((await s.token(app.id, app.secret)).access_token)).kid, kid, 'the same active key after a restart');
    await jwtVerify(first, createLocalJWKSet(await jwksOf(s)), { issuer: ISSUER, algorithms: ['PS256'] });
    await s.close();

    const before = await keysOf();
    const next = before.find((k) => k.alg === 'PS256' && k.state === 'next')!;
    assert.deepEqual(before.filter((k) => k.alg === 'PS256').map((k) => [k.kid, k.state]).sort(), [[kid, 'active'], [next.kid, 'next']].sort());

    // Without the servers' --alg, the CLI rotates RS256 only, and says that PS256 was left alone.
    const partial = await cli(['keys', 'rotate', '--json', ...storeArgs]);
    assert.equal(partial.code, 0, partial.stderr);
    assert.equal(partial.stderr, 'keymint: the PS256 keys were not rotated: run keys rotate with the servers\' --alg PS256 (or KEYMINT_ALG) to rotate them\n');
    assert.equal((await keysOf()).find((k) => k.alg === 'PS256' && k.state === 'active')?.kid, kid);

    const rotated = await cli(['keys', 'rotate', '--json', '--alg', 'PS256', ...storeArgs]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.stderr, '');
    const after = (JSON.parse(rotated.stdout) as Awaited<ReturnType<typeof keysOf>>).filter((k) => k.alg === 'PS256');
    assert.equal(after.find((k) => k.state === 'active')?.kid, next.kid);
    const retired = after.find((k) => k.kid === kid)!;
    assert.equal(retired.state, 'retired');
    assert.ok(retired.publishUntil! > Date.now() + 86_400_000, 'published past the longest token lifetime');
    assert.equal(after.filter((k) => k.state === 'next').length, 1);

    s = await start();
    t.after(() => s.close());
    const second = String((await s.token(app.id, app.secret)).access_token);
    assert.deepEqual([decodeProtectedHeader(second).alg, decodeProtectedHeader(second).kid], ['PS256', next.kid]);
    const jwks = createLocalJWKSet(await jwksOf(s));
    for (const token of [first, second]) {
      await jwtVerify(token, jwks, { issuer: ISSUER, algorithms: ['PS256'] });
      assert.equal((await verifierFor(s).verify(`Bearer ${token}`)).client_id, app.id);
    }
  });
}

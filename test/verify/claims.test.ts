/**
 * Header and claim checks on tokens crafted with a local key (what a real issuer never sends): the
 * verifier reads that key's JWKS from a function standing in for fetch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { createVerifier, VerifyError, type VerifierOptions } from '../../src/verify/index.ts';

const ISSUER = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
const jwksFetch = (async () => Response.json({ keys: [jwk] })) as typeof fetch;
const verifier = (extra: Partial<VerifierOptions> = {}) =>
  createVerifier({ issuer: ISSUER, audience: AUD, jwksUri: `${ISSUER}/jwks`, fetch: jwksFetch, ...extra });

const now = () => Math.floor(Date.now() / 1000);
const claims = (): JWTPayload => ({ iss: ISSUER, aud: AUD, sub: 'client:a', client_id: 'a', jti: 'j1', iat: now(), exp: now() + 60 });
const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1', ...header }).sign(privateKey);
const code = (p: Promise<unknown>, expected: string) =>
  assert.rejects(p, (e: unknown) => e instanceof VerifyError && e.code === expected);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('typ must be at+jwt or application/at+jwt (RFC 9068 §4)', async () => {
  assert.equal((await verifier().verify(await sign(claims()))).sub, 'client:a');
  assert.equal((await verifier().verify(await sign(claims(), { typ: 'application/at+jwt' }))).sub, 'client:a');
  await code(verifier().verify(await sign(claims(), { typ: 'JWT' })), 'invalid_token');
  const noTyp = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
  await code(verifier().verify(noTyp), 'invalid_token');
});

test('alg none and HS256 (keyed with the public key, the RS/HS confusion) are refused', async () => {
  const payload = b64(claims());
  await code(verifier().verify(`${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${payload}.`), 'invalid_token');
  const { createHmac } = await import('node:crypto');
  const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${payload}`;
  const mac = createHmac('sha256', JSON.stringify(jwk)).update(input).digest('base64url');
  await code(verifier().verify(`${input}.${mac}`), 'invalid_token');
});

test('a header alg that does not fit the key is refused (ES256 or PS256 under an RS256 kid)', async () => {
  const { privateKey: ec } = await generateKeyPair('ES256');
  const esToken = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }).sign(ec);
  await code(verifier().verify(esToken), 'invalid_token');
  const pssKey = await importJWK(await exportJWK(privateKey), 'PS256'); // the same RSA key, used for PSS
  const psToken = await new SignJWT(claims()).setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: 'k1' }).sign(pssKey);
  await code(verifier({ algorithms: ['RS256', 'PS256'] }).verify(psToken), 'invalid_token');
});

test('exp, sub, client_id, iat and jti are required; nbf in the future is refused', async () => {
  for (const claim of ['exp', 'sub', 'client_id', 'iat', 'jti'] as const) {
    const c = claims();
    delete c[claim];
    await code(verifier().verify(await sign(c)), 'invalid_token');
  }
  await code(verifier().verify(await sign({ ...claims(), nbf: now() + 60 })), 'invalid_token');
  assert.equal((await verifier().verify(await sign({ ...claims(), nbf: now() + 3 }))).jti, 'j1', 'within the 5 s tolerance');
});

test('aud may be an array containing the audience; a tampered payload fails the signature', async () => {
  assert.equal((await verifier().verify(await sign({ ...claims(), aud: ['x', AUD] }))).jti, 'j1');
  const [h, , s] = (await sign(claims())).split('.');
  await code(verifier().verify(`${h}.${b64({ ...claims(), scope: 'admin' })}.${s}`), 'invalid_token');
});

test('header parsing: missing, another scheme, malformed, garbage', async () => {
  await code(verifier().verify(undefined), 'missing_token');
  await code(verifier().verify(''), 'missing_token');
  await code(verifier().verify('Basic YTpi'), 'missing_token');
  await code(verifier().verify('Bearer'), 'malformed_header');
  await code(verifier().verify('Bearer a b'), 'malformed_header');
  await code(verifier().verify('Bearer a"b'), 'malformed_header');
  await code(verifier().verify('not-a-jwt'), 'invalid_token');
  await code(verifier().verify('a.b.c'), 'invalid_token');
  assert.equal((await verifier().verify(`bearer ${await sign(claims())}`)).jti, 'j1', 'the scheme is case-insensitive');
});

test('revocations: a revoked jti is refused after the signature checks, sync or async sources', async () => {
  const token = await sign(claims());
  const asked: string[] = [];
  const sync = { isRevoked: (jti: string) => (asked.push(jti), jti === 'j1') };
  await code(verifier({ revocations: sync }).verify(token), 'revoked');
  assert.deepEqual(asked, ['j1']);
  await code(verifier({ revocations: { isRevoked: async () => true } }).verify(token), 'revoked');
  assert.equal((await verifier({ revocations: { isRevoked: async () => false } }).verify(token)).jti, 'j1');
  // A forged token never reaches the revocation source.
  const [h, , s] = token.split('.');
  await code(verifier({ revocations: sync }).verify(`${h}.${b64({ ...claims(), jti: 'j2' })}.${s}`), 'invalid_token');
  assert.deepEqual(asked, ['j1']);
});

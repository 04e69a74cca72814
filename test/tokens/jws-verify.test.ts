/**
 * src/tokens/jws-verify.ts against jose itself: every token below is judged by `jwtVerify` (with an
 * imported key, the allowed algs and the claim options the callers use) and by parseJwt +
 * jwsVerifyKey + checkJwtClaims; the two must agree, on good tokens of every alg and on tokens that
 * break one rule each.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { checkJwtClaims, JwsError, jwsVerifyKey, parseJwt } from '../../src/tokens/jws-verify.ts';

const NOW = 1_800_000_000_000;
const t = NOW / 1000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

type Alg = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519' | 'RS256' | 'PS256' | 'PS512';
const keys: Record<Alg, { priv: KeyObject; jwk: JWK }> = {} as never;
const pair = (type: 'ec' | 'ed25519' | 'rsa', opts: object) => {
  const { privateKey, publicKey } = (generateKeyPairSync as (t: string, o: object) => { privateKey: KeyObject; publicKey: KeyObject })(type, opts);
  return { priv: privateKey, jwk: publicKey.export({ format: 'jwk' }) as JWK };
};
keys.ES256 = pair('ec', { namedCurve: 'P-256' });
keys.ES384 = pair('ec', { namedCurve: 'P-384' });
keys.ES512 = pair('ec', { namedCurve: 'P-521' });
keys.EdDSA = keys.Ed25519 = pair('ed25519', {});
keys.RS256 = keys.PS256 = keys.PS512 = pair('rsa', { modulusLength: 2048 });

const HASH: Record<Alg, string | null> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null, Ed25519: null, RS256: 'sha256', PS256: 'sha256', PS512: 'sha512' };
function signed(alg: Alg, header: string, payload: string, key: KeyObject = keys[alg].priv): string {
  const input = `${header}.${payload}`;
  const k = alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' as const } : alg.startsWith('PS') ? { key, padding: 6, saltLength: alg === 'PS256' ? 32 : 64 } : key;
  return `${input}.${sign(HASH[alg], Buffer.from(input), k).toString('base64url')}`;
}
const jwt = (alg: Alg, header: object = {}, claims: object = {}) =>
  signed(alg, b64({ alg, typ: 'dpop+jwt', ...header }), b64({ jti: 'j', htm: 'POST', htu: 'https://a.example/t', iat: t, exp: t + 60, ...claims }));

const OPTIONS = { typ: 'dpop+jwt', required: ['jti', 'htm', 'htu', 'iat'], clockToleranceSeconds: 5 };

async function joseSays(token: string, alg: Alg, algorithms: readonly string[]): Promise<boolean> {
  try {
    const key = await importJWK(keys[alg].jwk, alg);
    await jwtVerify(token, key, { algorithms: [...algorithms], typ: OPTIONS.typ, requiredClaims: OPTIONS.required, clockTolerance: 5, currentDate: new Date(NOW) });
    return true;
  } catch {
    return false;
  }
}

function oursSays(token: string, alg: Alg, algorithms: readonly string[]): boolean {
  try {
    const parsed = parseJwt(token);
    if (typeof parsed.header.alg !== 'string' || !algorithms.includes(parsed.header.alg)) return false;
    const key = jwsVerifyKey(keys[alg].jwk as Record<string, unknown>, parsed.header.alg);
    if (!key.verify(parsed.signingInput, parsed.signature)) return false;
    checkJwtClaims(parsed, { ...OPTIONS, nowMs: NOW });
    return true;
  } catch (err) {
    assert.ok(err instanceof JwsError, String(err));
    return false;
  }
}

async function agree(label: string, token: string, alg: Alg, expected: boolean, algorithms: readonly string[] = [alg]) {
  assert.equal(await joseSays(token, alg, algorithms), expected, `jose on ${label}`);
  assert.equal(oursSays(token, alg, algorithms), expected, `jws-verify on ${label}`);
}

test('good tokens of every alg pass both; a signature by another key or of other bytes fails both', async () => {
  for (const alg of Object.keys(keys) as Alg[]) {
    await agree(`${alg} good`, jwt(alg), alg, true);
    const other = alg.startsWith('ES') ? pair('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256'] }) : alg.startsWith('Ed') ? pair('ed25519', {}) : pair('rsa', { modulusLength: 2048 });
    await agree(`${alg} by another key`, signed(alg, b64({ alg, typ: 'dpop+jwt' }), b64({ jti: 'j', htm: 'POST', htu: 'x', iat: t }), other.priv), alg, false);
    const [h, , s] = jwt(alg).split('.');
    await agree(`${alg} payload swapped`, `${h}.${b64({ jti: 'k', htm: 'POST', htu: 'x', iat: t })}.${s}`, alg, false);
  }
});

test('alg: outside the allowed list, or not the one the signature was made with; keys that do not fit the alg are refused', async () => {
  await agree('ES256 not allowed', jwt('ES256'), 'ES256', false, ['EdDSA']);
  await agree('RS256 token, PS256 claimed', signed('RS256', b64({ alg: 'PS256', typ: 'dpop+jwt' }), b64({ jti: 'j', htm: 'POST', htu: 'x', iat: t })), 'PS256', false);
  assert.throws(() => jwsVerifyKey(keys.ES256.jwk as Record<string, unknown>, 'ES384'), JwsError, 'P-256 key for ES384');
  assert.throws(() => jwsVerifyKey(keys.ES256.jwk as Record<string, unknown>, 'HS256'), JwsError);
  assert.throws(() => jwsVerifyKey(keys.ES256.jwk as Record<string, unknown>, 'none'), JwsError);
  assert.throws(() => jwsVerifyKey({ ...keys.ES256.jwk, key_ops: ['sign'] } as Record<string, unknown>, 'ES256'), JwsError, 'key_ops without verify');
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  assert.throws(() => jwsVerifyKey(small as Record<string, unknown>, 'RS256'), JwsError, 'RSA under 2048 bits');
});

test('crit and b64: only b64 is understood, present and true; anything else fails both', async () => {
  await agree('crit unknown', jwt('ES256', { crit: ['exp'], exp: 1 }), 'ES256', false);
  await agree('crit b64 false', jwt('ES256', { crit: ['b64'], b64: false }), 'ES256', false);
  await agree('crit b64 missing', jwt('ES256', { crit: ['b64'] }), 'ES256', false);
  await agree('crit empty', jwt('ES256', { crit: [] }), 'ES256', false);
  await agree('crit not an array', jwt('ES256', { crit: 'b64', b64: true }), 'ES256', false);
  await agree('crit b64 true', jwt('ES256', { crit: ['b64'], b64: true }), 'ES256', true);
});

test('shapes: header and claims JSON objects in strict UTF-8, segments base64url', async () => {
  const claims = b64({ jti: 'j', htm: 'POST', htu: 'x', iat: t });
  await agree('claims an array', signed('ES256', b64({ alg: 'ES256', typ: 'dpop+jwt' }), b64([1])), 'ES256', false);
  await agree('header an array', signed('ES256', b64([{ alg: 'ES256' }]), claims), 'ES256', false);
  await agree('claims not UTF-8', signed('ES256', b64({ alg: 'ES256', typ: 'dpop+jwt' }), Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')), 'ES256', false);
  let padded = { alg: 'ES256', typ: 'dpop+jwt', pad: '' };
  while (b64(padded).length % 4 !== 0) padded = { ...padded, pad: `${padded.pad} ` };
  await agree('header of 4n+1 characters', signed('ES256', `${b64(padded)}A`, claims), 'ES256', false);
  const good = jwt('ES256');
  await agree('signature one byte short', good.slice(0, -3), 'ES256', false);
});

test('claims: typ as jose compares it, required claims, time claims numbers, exp and nbf with tolerance', async () => {
  await agree('typ upper case', jwt('ES256', { typ: 'DPoP+JWT' }), 'ES256', true);
  await agree('typ application/', jwt('ES256', { typ: 'application/dpop+jwt' }), 'ES256', true);
  await agree('typ JWT', jwt('ES256', { typ: 'JWT' }), 'ES256', false);
  await agree('typ missing', signed('ES256', b64({ alg: 'ES256' }), b64({ jti: 'j', htm: 'POST', htu: 'x', iat: t })), 'ES256', false);
  await agree('htu missing', jwt('ES256', {}, { htu: undefined }), 'ES256', false);
  await agree('iat a string', jwt('ES256', {}, { iat: String(t) }), 'ES256', false);
  await agree('exp passed, within tolerance', jwt('ES256', {}, { exp: t - 4 }), 'ES256', true);
  await agree('exp passed', jwt('ES256', {}, { exp: t - 5 }), 'ES256', false);
  await agree('nbf ahead, within tolerance', jwt('ES256', {}, { nbf: t + 5 }), 'ES256', true);
  await agree('nbf ahead', jwt('ES256', {}, { nbf: t + 6 }), 'ES256', false);
  await agree('nbf a string', jwt('ES256', {}, { nbf: 'soon' }), 'ES256', false);
});


test('ECDSA signatures are checked in DER: every one of 400 signatures per curve verifies (r or s with the top bit set, or a leading zero byte)', () => {
  for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
    const key = jwsVerifyKey(keys[alg].jwk as Record<string, unknown>, alg);
    let topBit = 0;
    for (let i = 0; i < 400; i++) {
      const input = `${b64({ alg })}.${b64({ i })}`;
      const signature = sign(HASH[alg], Buffer.from(input), { key: keys[alg].priv, dsaEncoding: 'ieee-p1363' });
      if (signature[0]! & 0x80 || signature[0] === 0) topBit++;
      assert.ok(key.verify(input, signature), `${alg} signature ${i}`);
      assert.equal(key.verify(`${input}x`, signature), false);
    }
    assert.ok(topBit > 0, 'an r with the top bit set or a leading zero was met');
  }
});

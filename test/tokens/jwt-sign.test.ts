/** ES256 signatures as a JWS carries them (RFC 7518 §3.4): r ‖ s, from the DER that OpenSSL signs with. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { compactVerify, exportJWK, importJWK } from 'jose';
import { p1363Signature, signJwt, signJwtAsync } from '../../src/tokens/jwt.ts';
import { derSignature } from '../../src/tokens/jws-verify.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A DER ECDSA signature of two given integers (each as DER writes it: minimal, positive). */
function der(r: Buffer, s: Buffer): Buffer {
  const int = (v: Buffer) => Buffer.concat([Buffer.from([0x02, v.length]), v]);
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

test('p1363Signature: short integers are left-padded, a sign byte is dropped', () => {
  const r = Buffer.from([0x01, 0x02]);
  const s = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(32, 0xff)]);
  const out = p1363Signature(der(r, s), 32);
  assert.equal(out.length, 64);
  assert.deepEqual(out.subarray(0, 32), Buffer.concat([Buffer.alloc(30), r]));
  assert.deepEqual(out.subarray(32), Buffer.alloc(32, 0xff));
});

test('p1363Signature: what OpenSSL signs verifies as ieee-p1363 and turns back into the same DER', () => {
  const data = Buffer.from('header.payload');
  for (let i = 0; i < 500; i++) {
    const signature = sign('sha256', data, privateKey);
    const jws = p1363Signature(signature, 32);
    assert.equal(jws.length, 64);
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jws));
    assert.deepEqual(derSignature(jws), signature);
  }
});

test('ES256 tokens, inline and on the threadpool, verify with jose', async () => {
  const signer = { kid: 'k1', alg: 'ES256' as const, key: privateKey };
  const key = await importJWK({ ...(await exportJWK(publicKey)), alg: 'ES256' }, 'ES256');
  for (const token of [signJwt(signer, 'at+jwt', { sub: 'a' }), await signJwtAsync(signer, 'at+jwt', { sub: 'a' })]) {
    const { payload, protectedHeader } = await compactVerify(token, key);
    assert.deepEqual(protectedHeader, { alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    assert.deepEqual(JSON.parse(Buffer.from(payload).toString()), { sub: 'a' });
  }
});

/**
 * The reference of the sender section: CPU-µs per ES256 verification done the way the server does
 * it, on one core: `node bench/verify-rate.ts SECONDS` prints `{"micros", "joseMicros", "ops"}`.
 *
 * `micros`: the signature check of a DPoP-proof-shaped JWS (header with `jwk`, the claims of a
 * proof) by the server's own code, src/tokens/jws-verify.ts, on a key imported once (`node:crypto`,
 * the signature in DER): the one verification a proof or an assertion cannot do without. `joseMicros`:
 * jose's `jwtVerify` of the same JWS with an imported key, for comparison (what the server paid
 * before it verified on `node:crypto`). CPU time of this process (`process.cpuUsage`), not wall
 * time, so other processes on the core do not count; the fastest of ten slices is reported.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { jwsVerifyKey } from '../src/tokens/jws-verify.ts';

const seconds = Number(process.argv[2] ?? '3');
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const input = `${b64({ alg: 'ES256', typ: 'dpop+jwt', jwk })}.${b64({ jti: 'x'.repeat(16), htm: 'POST', htu: 'http://localhost:8080/oauth2/token', iat: Math.floor(Date.now() / 1000) })}`;
const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
const jwt = `${input}.${signature.toString('base64url')}`;
const joseKey = await importJWK(jwk, 'ES256');

/** CPU-µs per call of `fn`, the fastest of ten slices of `budget` seconds. */
async function cpuMicros(fn: () => unknown, budget: number): Promise<{ micros: number; ops: number }> {
  for (let i = 0; i < 300; i++) await fn();
  let best = Number.POSITIVE_INFINITY;
  let ops = 0;
  for (let slice = 0; slice < 10; slice++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    let n = 0;
    while (performance.now() - start < (budget * 1000) / 10) {
      for (let i = 0; i < 50; i++) await fn();
      n += 50;
    }
    const used = process.cpuUsage(cpu);
    best = Math.min(best, (used.user + used.system) / n);
    ops += n;
  }
  return { micros: best, ops };
}

const key = jwsVerifyKey(jwk as Record<string, unknown>, 'ES256');
const crypto = await cpuMicros(() => {
  if (!key.verify(input, signature)) throw new Error('verification failed');
}, seconds * 0.7);
const jose = await cpuMicros(() => jwtVerify(jwt, joseKey, { typ: 'dpop+jwt' }), seconds * 0.3);
process.stdout.write(`${JSON.stringify({ micros: crypto.micros, joseMicros: jose.micros, ops: crypto.ops })}\n`);

/**
 * Reference (a): the raw `node:crypto` signing rate of one algorithm on one core.
 * `node bench/sign-rate.ts ALG SECONDS` signs the signing input of a realistic RFC 9068 access token
 * (same key sizes and `sign()` options as src/tokens/jwt.ts) in a tight loop for SECONDS (and at most
 * MAX_OPS times), then prints `{"alg", "ops", "seconds", "rate", "cpuUs"}` as one JSON line (`cpuUs`: CPU time
 * per signature).
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const MAX_OPS = 50_000_000;

function keyFor(alg: string): KeyObject {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  throw new Error(`unknown alg ${alg}`);
}

function signingInput(alg: string): Buffer {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const clientId = `sk_live_${randomBytes(24).toString('base64url')}`;
  const header = { alg, typ: 'at+jwt', kid: randomBytes(32).toString('base64url') };
  const payload = {
    iss: 'http://localhost:8080',
    sub: clientId,
    aud: 'http://localhost:8080',
    exp: now + 3600,
    iat: now,
    jti: randomBytes(16).toString('base64url'),
    client_id: clientId,
    scope: 'payments:read payments:write',
  };
  return Buffer.from(`${b64(header)}.${b64(payload)}`);
}

function signOnce(alg: string, data: Buffer, key: KeyObject): Buffer {
  if (alg === 'EdDSA') return sign(null, data, key);
  if (alg === 'ES256') return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  return sign('sha256', data, key);
}

const [alg = 'RS256', secondsArg = '5'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const key = keyFor(alg);
const data = signingInput(alg);
for (let i = 0; i < 200; i++) signOnce(alg, data, key); // warm-up

const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
const limit = start + BigInt(Math.round(seconds * 1e9));
let ops = 0;
let now = start;
while (ops < MAX_OPS) {
  for (let i = 0; i < 16; i++) signOnce(alg, data, key);
  ops += 16;
  now = process.hrtime.bigint();
  if (now >= limit) break;
}
const elapsed = Number(now - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
// CPU time per signature, whatever share of the core this process got.
const cpuUs = (cpu.user + cpu.system) / ops;
process.stdout.write(`${JSON.stringify({ alg, ops, seconds: elapsed, rate: ops / elapsed, cpuUs, bytes: data.length })}\n`);

/**
 * µs per ES256 JWS verification through jose's `jwtVerify` with an imported key, on one core:
 * `node bench/verify-rate.ts SECONDS` prints `{"ops", "seconds", "micros"}`. The floor of what a
 * DPoP proof or a client assertion costs a server (bench/sections/sender.ts compares against it).
 */
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';

const seconds = Number(process.argv[2] ?? '3');
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwt = await new SignJWT({ jti: 'x', htm: 'POST', htu: 'http://localhost:8080/oauth2/token' }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt' }).setIssuedAt().sign(privateKey);
for (let i = 0; i < 500; i++) await jwtVerify(jwt, publicKey);
const start = performance.now();
let ops = 0;
while (performance.now() - start < seconds * 1000) {
  await jwtVerify(jwt, publicKey);
  ops++;
}
const elapsed = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ ops, seconds: elapsed, micros: (elapsed * 1e6) / ops })}\n`);

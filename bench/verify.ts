/**
 * Verifications per second through `createVerifier` next to bare `jose.jwtVerify` with a local key,
 * in the same process and run, for RS256 and EdDSA. Target: verifier ≥ 0.9 × bare.
 *
 *   npx node bench/verify.ts [secondsPerCase=4]
 *
 * Each case alternates the two contenders in short slices (so a noisy neighbour hurts both alike)
 * and reports the totals. The verifier reads its JWKS from an in-process fetch (no network);
 * both check the same things jose can: signature, alg list, typ, iss, aud, exp.
 */
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { createVerifier } from '../src/verify/index.ts';

const ISSUER = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const seconds = Number(process.argv[2] ?? 4);
const SLICE_MS = 250;

async function loop(ms: number, fn: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) await fn();
    n += 16;
  }
  return n;
}

async function bench(alg: 'RS256' | 'EdDSA') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: 'client:a', client_id: 'a', jti: 'j', scope: 'read' })
    .setProtectedHeader({ alg, typ: 'at+jwt', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUD)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUD,
    jwksUri: `${ISSUER}/jwks`,
    fetch: (async () => Response.json({ keys: [jwk] })) as typeof fetch,
    requiredScopes: ['read'],
  });
  const bareOptions = { issuer: ISSUER, audience: AUD, algorithms: [alg], typ: 'at+jwt' };
  const bare = () => jwtVerify(token, publicKey as CryptoKey, bareOptions);
  const ours = () => verifier.verify(`Bearer ${token}`);
  await loop(300, bare); // warm-up, and the verifier's first JWKS load
  await loop(300, ours);
  let bareOps = 0;
  let oursOps = 0;
  let elapsed = 0;
  for (let t = 0; t < seconds * 1000; t += 2 * SLICE_MS) {
    bareOps += await loop(SLICE_MS, bare);
    oursOps += await loop(SLICE_MS, ours);
    elapsed += SLICE_MS / 1000;
  }
  const b = bareOps / elapsed;
  const o = oursOps / elapsed;
  console.log(`${alg.padEnd(6)} bare jose.jwtVerify ${Math.round(b).toString().padStart(7)}/s   createVerifier ${Math.round(o).toString().padStart(7)}/s   ratio ${(o / b).toFixed(2)}`);
  return o / b;
}

console.log(`node ${process.version}, ${seconds} s per case, one verification at a time`);
const ratios = [await bench('RS256'), await bench('EdDSA')];
if (ratios.some((r) => r < 0.9)) console.log('below the 0.9 target');

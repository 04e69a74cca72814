/**
 * Cost of the sender-constraining checks, one at a time in one process: µs per DPoP proof at the
 * token endpoint (src/protocol/dpop.ts), per `private_key_jwt` assertion (src/protocol/client-assertion.ts),
 * and at the resource server a DPoP-bound token with its proof next to a plain Bearer token
 * (keymint/verify). References: the server's own signature check (src/tokens/jws-verify.ts, key
 * imported once), the one verification a proof or an assertion cannot do without, and one bare
 * `jose.jwtVerify` of the same alg. Each item is signed ahead.
 * Items run in 10 chunks and the fastest chunk's mean is reported: on a shared machine the minimum is
 * the figure least spoilt by other processes.
 *
 *   npx node bench/sender.ts [itemsPerCase=3000]
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { clientKeys, CLIENT_KEY_ALGORITHMS } from '../src/credentials/client-keys.ts';
import { JWT_BEARER_ASSERTION_TYPE, verifyClientAssertion } from '../src/protocol/client-assertion.ts';
import { DPOP_ALGORITHMS, verifyDpopProof } from '../src/protocol/dpop.ts';
import { storeReplayGuard } from '../src/protocol/replay-guard.ts';
import { jwsVerifyKey, parseJwt } from '../src/tokens/jws-verify.ts';
import { MemoryReplays } from '../src/storage/memory/replays.ts';
import { createVerifier } from '../src/verify/index.ts';

const N = Number(process.argv[2] ?? 3000);
const URL_ = 'https://auth.example.com/oauth2/token';
const ISSUER = 'https://auth.example.com';
const iat = () => Math.floor(Date.now() / 1000);

async function time(label: string, items: readonly string[], fn: (item: string) => Promise<unknown>): Promise<void> {
  for (const item of items.slice(0, 200)) await fn(item).catch(() => {}); // warm-up (these items are then replays)
  const rest = items.slice(200);
  const size = Math.ceil(rest.length / 10);
  let us = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rest.length; i += size) {
    const chunk = rest.slice(i, i + size);
    const start = performance.now();
    for (const item of chunk) await fn(item);
    us = Math.min(us, ((performance.now() - start) * 1000) / chunk.length);
  }
  console.log(`${label.padEnd(58)} ${us.toFixed(1).padStart(7)} µs`);
}

for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');

  const proofs = await Promise.all(Array.from({ length: N }, () =>
    new SignJWT({ jti: randomBytes(16).toString('base64url'), htm: 'POST', htu: URL_, iat: iat() }).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(privateKey)));
  const settings = { algorithms: DPOP_ALGORITHMS, proofMaxAgeSeconds: 300, clockToleranceSeconds: 5, nonces: undefined, replay: storeReplayGuard(new MemoryReplays(), Date.now), now: Date.now };
  const own = jwsVerifyKey(jwk as Record<string, unknown>, alg);
  const signed = proofs.map((p) => parseJwt(p));
  await time(`${alg} signature check alone (reference)`, signed.map((_, i) => String(i)), async (i) => own.verify(signed[+i]!.signingInput, signed[+i]!.signature));
  await time(`${alg} bare jose.jwtVerify`, proofs, (p) => jwtVerify(p, publicKey));
  await time(`${alg} DPoP proof at the token endpoint`, proofs, (p) => verifyDpopProof({ method: 'POST', url: URL_, proof: p }, settings));

  const keys = clientKeys({ timeoutMs: 1, maxBytes: 1, allowPrivateAddresses: false, allowHttp: false, cacheTtlMs: 1, unknownKidCooldownMs: 1, now: Date.now });
  const source = { jwks: { keys: [{ ...jwk, kid: 'k' }] } };
  const assertions = await Promise.all(Array.from({ length: N }, () =>
    new SignJWT({ iss: 'c', sub: 'c', aud: ISSUER, jti: randomBytes(16).toString('base64url'), iat: iat(), exp: iat() + 60 }).setProtectedHeader({ alg, kid: 'k' }).sign(privateKey)));
  const aSettings = { audiences: [ISSUER], algorithms: CLIENT_KEY_ALGORITHMS, maxLifetimeSeconds: 300, clockToleranceSeconds: 5, replay: storeReplayGuard(new MemoryReplays(), Date.now), now: Date.now };
  await time(`${alg} private_key_jwt assertion`, assertions, (a) =>
    verifyClientAssertion({ clientId: 'c', assertionType: JWT_BEARER_ASSERTION_TYPE, assertion: a, secretPresented: false }, (_id, h) => keys.keyFor(source, h), aSettings));

  const at = await generateKeyPair('RS256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(at.publicKey)), kid: 'at', alg: 'RS256' }] };
  const verifier = createVerifier({ issuer: ISSUER, audience: 'api', jwksUri: `${ISSUER}/jwks`, fetch: (async () => Response.json(jwks)) as typeof fetch, dpop: {} });
  const claims = { iss: ISSUER, aud: 'api', sub: 'c', client_id: 'c', jti: 'j', iat: iat(), exp: iat() + 600, cnf: { jkt } };
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'at' }).sign(at.privateKey);
  const bearer = await new SignJWT({ ...claims, cnf: undefined }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'at' }).sign(at.privateKey);
  const { createHash } = await import('node:crypto');
  const ath = createHash('sha256').update(token).digest('base64url');
  const rsProofs = await Promise.all(Array.from({ length: N }, () =>
    new SignJWT({ jti: randomBytes(16).toString('base64url'), htm: 'GET', htu: 'https://api.example.com/x', iat: iat(), ath }).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(privateKey)));
  await time(`${alg} keymint/verify RS256 Bearer token (reference)`, rsProofs, () => verifier.verify(`Bearer ${bearer}`));
  await time(`${alg} keymint/verify RS256 DPoP token + ${alg} proof`, rsProofs, (p) =>
    verifier.verify(`DPoP ${token}`, { request: { method: 'GET', url: 'https://api.example.com/x', dpop: p } }));
}

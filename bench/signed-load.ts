/**
 * A closed-loop load generator whose every request is signed anew, for what cannot be replayed:
 * `node bench/signed-load.ts SPEC_JSON` with SPEC_JSON `{url, htu, connections, seconds, clientId, auth,
 * clientSecret?, keyPem?, kid?, audience?, dpop}`. `auth` is `client_secret_basic` or
 * `private_key_jwt` (a fresh ES256 assertion per request, new `jti`); `dpop` adds a fresh ES256
 * proof per request (new `jti`). Signing uses node:crypto on this (load) core, so the
 * server's figure is not limited by it (ES256 signs at tens of thousands per second). Prints one
 * JSON line like bench/autocannon-runner.ts.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import autocannon from 'autocannon';

interface Spec {
  readonly url: string;
  /** The token endpoint URL as the server names it (its issuer's), for the proofs' `htu`. */
  readonly htu: string;
  readonly connections: number;
  readonly seconds: number;
  readonly clientId: string;
  readonly auth: 'client_secret_basic' | 'private_key_jwt';
  readonly clientSecret?: string;
  readonly keyPem?: string;
  readonly kid?: string;
  readonly audience?: string;
  readonly dpop: boolean;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const es256 = (key: KeyObject, header: object, payload: object) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};
const jti = () => randomBytes(12).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const clientKey = spec.keyPem ? createPrivateKey(spec.keyPem) : undefined;
/** One proof key for the run, as a client keeps one: the server imports it once (by thumbprint). */
const proofKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const { d: _d, ...proofJwk } = proofKey.export({ format: 'jwk' });

const baseHeaders: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
if (spec.auth === 'client_secret_basic') baseHeaders.authorization = `Basic ${Buffer.from(`${spec.clientId}:${spec.clientSecret}`).toString('base64')}`;

function setupRequest(req: { headers?: Record<string, string>; body?: string }) {
  const headers = { ...baseHeaders };
  let body = 'grant_type=client_credentials';
  if (spec.auth === 'private_key_jwt') {
    const t = now();
    const assertion = es256(clientKey!, { alg: 'ES256', kid: spec.kid }, { iss: spec.clientId, sub: spec.clientId, aud: spec.audience, jti: jti(), iat: t, exp: t + 60 });
    body += `&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${assertion}`;
  }
  if (spec.dpop) headers.dpop = es256(proofKey, { alg: 'ES256', typ: 'dpop+jwt', jwk: proofJwk }, { jti: jti(), htm: 'POST', htu: spec.htu, iat: now() });
  return { ...req, method: 'POST', headers, body };
}

const result = await autocannon({ url: spec.url, method: 'POST', headers: baseHeaders, connections: spec.connections, duration: spec.seconds, timeout: 10, requests: [{ setupRequest }] });
process.stdout.write(
  `${JSON.stringify({
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).filter(([code]) => !code.startsWith('2')).map(([code, v]) => [code, v.count])),
  })}\n`,
);

/**
 * Reference (c): the ceiling of a token endpoint in Node on this core. A hand-written node:http
 * server that only signs: `node bench/minimal-server.ts ALG PORT [inline|threadpool]` answers every
 * POST with a JSON token response carrying an RFC 9068 JWT of the same size as Keymint's (same
 * claims, a fresh jti and iat each time), signed with `node:crypto` (inline by default, or on
 * libuv's threadpool). It reads the body and ignores it: no parsing, no client, no limits, no
 * metrics. Anything Keymint does beyond this is its own overhead.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { p1363Signature } from '../src/tokens/jwt.ts';

const [alg = 'RS256', portArg = '0', mode = 'inline'] = process.argv.slice(2);
if (mode !== 'inline' && mode !== 'threadpool') throw new Error(`mode must be inline or threadpool, not ${mode}`);

const pair =
  alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
const key = pair.privateKey;
// ES256: signed in DER and turned into r ‖ s as Keymint does; Node's `{ key, dsaEncoding }` form costs
// twice the signature (docs/performance.md, "Where to sign"), and a ceiling must not pay for that.
const jws = (signature: Buffer) => (alg === 'ES256' ? p1363Signature(signature, 32) : signature).toString('base64url');
const digest = alg === 'EdDSA' ? null : 'sha256';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const header = b64({ alg, typ: 'at+jwt', kid: randomBytes(32).toString('base64url') });
const issuer = `http://127.0.0.1:${portArg}`;
const clientId = `sk_live_${randomBytes(18).toString('base64url')}`;

function signingInput(): string {
  const iat = Math.floor(Date.now() / 1000);
  const payload = { iss: issuer, sub: clientId, aud: issuer, exp: iat + 3600, iat, jti: randomBytes(16).toString('base64url'), client_id: clientId, mode: 'live', env: 'prod' };
  return `${header}.${b64(payload)}`;
}

const answer = (token: string) => `{"access_token":"${token}","token_type":"Bearer","expires_in":3600,"scope":""}`;
const HEADERS = { 'Content-Type': 'application/json;charset=UTF-8', 'Cache-Control': 'no-store' };

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const input = signingInput();
    const done = (signature: Buffer) => {
      const body = answer(`${input}.${jws(signature)}`);
      res.writeHead(200, { ...HEADERS, 'Content-Length': String(body.length) });
      res.end(body);
    };
    if (mode === 'inline') return done(sign(digest, Buffer.from(input), key));
    sign(digest, Buffer.from(input), key, (err, signature) => {
      if (err) {
        res.writeHead(500).end();
        return;
      }
      done(signature);
    });
  });
});
server.keepAliveTimeout = 5000;
server.listen(Number(portArg), '127.0.0.1');
const shutdown = () => server.close(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

/**
 * The four providers without an official JavaScript SDK (Orum, Tradevest, Fuuffy, Polygon OMS),
 * called by a generic client — curl — exactly as each provider's documentation calls its token
 * endpoint, against `keymint serve` with each dialect at its documented path: the request as the
 * documentation specifies it (Fuuffy's own curl command; for the others the method, path, server
 * base, Content-Type and body their OpenAPI references give), only the server URL and the
 * credentials filled in; the answer
 * checked against the provider's published schema, and the token then used as that documentation
 * says (a bearer token a resource server verifies with `keymint/verify`). One documented error per
 * provider is reproduced the same way. The codecs' full catalogues are in the per-dialect suites.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createVerifier } from '../../src/verify/index.ts';
import { tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';
import { schemaOf } from './support/dialects.ts';
import { validate } from './support/json-schema.ts';

interface CurlAnswer { status: number; headers: Record<string, string>; body: Record<string, any> }

/** Runs curl with `args` (plus -sS -i to read the status and headers) and parses the JSON answer. */
function curl(args: string[]): Promise<CurlAnswer> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-i', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr}`));
      const [head, ...rest] = stdout.split('\r\n\r\n');
      const [statusLine, ...lines] = head!.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, any> });
    });
  });
}

const ISSUER = 'http://localhost:8080';

describe('generic clients as each provider documents its token endpoint', () => {
  const data = tempDir('keymint-provider-clients-');
  let server: ServeProcess;
  let live: { client_id: string; client_secret: string };
  let sandboxKey: { client_id: string; client_secret: string };

  const expectSchema = (dialect: string, answer: CurlAnswer) => {
    assert.equal(answer.headers['content-type'], 'application/json;charset=UTF-8');
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.deepEqual(validate(schemaOf(dialect).$defs[answer.status === 200 ? 'success' : 'error'], answer.body), []);
  };
  /**
   * The resource server's side: the token as a bearer credential, checked by keymint/verify (JWTs
   * against the JWKS; opaque tokens by introspection, where a caller learns only about its own tokens).
   */
  const verifier = (introspectAs = live) => createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    jwksUri: `${server.url}/oauth2/jwks`,
    introspection: { endpoint: `${server.url}/internal/oauth2/introspect`, clientId: introspectAs.client_id, clientSecret: introspectAs.client_secret, cacheTtlMs: 0 },
  });

  before(async () => {
    const create = async (...args: string[]) => {
      const r = await cli(['clients', 'create', '--data', data, '--json', ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { client_id: string; client_secret: string };
    };
    live = await create('--name', 'partner', '--scope', 'payments:read');
    sandboxKey = await create('--name', 'partner (sandbox)', '--mode', 'sandbox');
    // Each provider's dialect at the path its documentation calls; the standard dialect, which
    // introspects Fuuffy's opaque tokens, out of Tradevest's way.
    server = await serve(['--data', data, '--issuer', ISSUER, '--dialect', 'orum', '--dialect', 'tradevest', '--dialect', 'fuuffy',
      '--dialect', 'polygon-oms', '--dialect', 'oauth2=/internal/oauth2/token']);
  });
  after(async () => {
    await stop(server);
    rmSync(data, { recursive: true, force: true });
  });

  test('Orum: POST /oauth/token with the JSON body its API reference specifies (and the form body it also lists)', async () => {
    const answer = await curl(['--request', 'POST', '--url', `${server.url}/oauth/token`, '--header', 'Content-Type: application/json',
      '--data', `{\n  "client_id": "${live.client_id}",\n  "client_secret": "${live.client_secret}"\n}`]);
    assert.equal(answer.status, 200);
    expectSchema('orum', answer);
    assert.deepEqual(Object.keys(answer.body), ['access_token', 'token_type', 'expires_in']);
    assert.equal(answer.body.token_type, 'Bearer');
    assert.equal(answer.body.expires_in, 3600); // "The auth token is valid for one hour."
    const claims = await verifier().verify(`Bearer ${answer.body.access_token}`, { requiredScopes: ['payments:read'] });
    assert.equal(claims.client_id, live.client_id);
    // The same body as form data, which the reference also lists.
    const form = await curl(['--request', 'POST', '--url', `${server.url}/oauth/token`, '--header', 'Content-Type: application/x-www-form-urlencoded',
      '--data', `client_id=${live.client_id}&client_secret=${live.client_secret}`]);
    assert.equal(form.status, 200);
    // A documented field error: client_id missing.
    const missing = await curl(['--request', 'POST', '--url', `${server.url}/oauth/token`, '--header', 'Content-Type: application/json',
      '--data', `{\n  "client_secret": "${live.client_secret}"\n}`]);
    assert.equal(missing.status, 400);
    expectSchema('orum', missing);
    assert.deepEqual(missing.body, { error_code: 'missing_client_id', message: 'client_id is required', details: null });
  });

  test('Tradevest: POST /oauth2/token, the required Content-Type and a form body with grant_type=client_credentials, as its reference specifies', async () => {
    const answer = await curl(['-L', '--request', 'POST', '--url', `${server.url}/oauth2/token`, '--header', 'Content-Type: application/x-www-form-urlencoded',
      '--data', `client_id=${live.client_id}&client_secret=${live.client_secret}&grant_type=client_credentials`]);
    assert.equal(answer.status, 200);
    expectSchema('tradevest', answer);
    assert.deepEqual(Object.keys(answer.body), ['access_token', 'expires_in', 'token_type']);
    assert.equal(answer.body.token_type, 'Bearer');
    assert.equal(answer.body.expires_in, 3600);
    assert.equal((await verifier().verify(`Bearer ${answer.body.access_token}`)).client_id, live.client_id);
    // The documented 400 enum: a wrong secret is invalid_client, in the body, with status 400.
    const wrong = await curl(['-L', '--request', 'POST', '--url', `${server.url}/oauth2/token`, '--header', 'Content-Type: application/x-www-form-urlencoded',
      '--data', `client_id=${live.client_id}&client_secret=${sandboxKey.client_secret}&grant_type=client_credentials`]);
    assert.equal(wrong.status, 400);
    expectSchema('tradevest', wrong);
    assert.deepEqual(wrong.body, { error: 'invalid_client' });
  });

  test('Fuuffy: the documentation\'s curl, with API_URL the server\'s /v1 base', async () => {
    // curl -X POST "${API_URL}/auth/token" -H "Content-Type: application/x-www-form-urlencoded" -d "client_id=…" -d "client_secret=…"
    const apiUrl = `${server.url}/v1`;
    const call = (id: string, secret: string) => curl(['-X', 'POST', `${apiUrl}/auth/token`, '-H', 'Content-Type: application/x-www-form-urlencoded', '-d', `client_id=${id}`, '-d', `client_secret=${secret}`]);
    const answer = await call(live.client_id, live.client_secret);
    assert.equal(answer.status, 200);
    expectSchema('fuuffy', answer);
    assert.deepEqual(Object.keys(answer.body.data), ['access_token', 'token_type', 'expires_in']);
    assert.match(answer.body.data.access_token, /^sk-[0-9a-f]{32}$/); // the sample: sk-418e41a74ca2e7d941fa4456d73dbed7
    assert.equal(answer.body.data.token_type, 'Bearer');
    assert.equal(answer.body.data.expires_in, 3600);
    // An opaque token: introspected, it is active for its own client and for no other.
    const claims = await verifier().verify(`Bearer ${answer.body.data.access_token}`);
    assert.equal(claims.client_id, live.client_id);
    await assert.rejects(verifier(sandboxKey).verify(`Bearer ${answer.body.data.access_token}`), { code: 'invalid_token' });
    // The documented 401 sample, byte for byte.
    const wrong = await call(live.client_id, sandboxKey.client_secret);
    assert.equal(wrong.status, 401);
    expectSchema('fuuffy', wrong);
    assert.deepEqual(wrong.body, { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } });
  });

  test('Polygon OMS: POST /auth/token on the server base ending in /v0.9, JSON {apiKey, apiSecret}, as its API reference specifies', async () => {
    const base = `${server.url}/v0.9`;
    const call = (key: string, secret: string) => curl(['--request', 'POST', '--url', `${base}/auth/token`, '--header', 'Content-Type: application/json',
      '--data', `{\n  "apiKey": "${key}",\n  "apiSecret": "${secret}"\n}`]);
    for (const key of [live, sandboxKey]) {
      const answer = await call(key.client_id, key.client_secret);
      assert.equal(answer.status, 200);
      expectSchema('polygon-oms', answer);
      assert.deepEqual(Object.keys(answer.body), ['accessToken', 'tokenType', 'expiresIn', 'expiresAt']);
      assert.equal(answer.body.tokenType, 'bearer');
      assert.equal(answer.body.expiresIn, 3600); // "a bearer token valid for 60 minutes"
      // "signed by the OMS issuer and must be presented as Authorization Bearer <token>"
      assert.equal(JSON.parse(Buffer.from(answer.body.accessToken.split('.')[0], 'base64url').toString()).alg, 'RS256');
      const claims = await verifier().verify(`Bearer ${answer.body.accessToken}`);
      assert.equal(claims.client_id, key.client_id);
      assert.equal(Date.parse(answer.body.expiresAt) / 1000, claims.exp);
      assert.equal(claims.mode, key === live ? 'live' : 'sandbox'); // sk_live_… / sk_sdbx_…
    }
    const wrong = await call(live.client_id, sandboxKey.client_secret);
    assert.equal(wrong.status, 401);
    expectSchema('polygon-oms', wrong);
    assert.equal(wrong.body.error, 'Unauthorized');
    assert.equal(wrong.body.status, 401);
  });
});

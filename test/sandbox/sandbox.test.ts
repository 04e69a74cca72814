/**
 * `startSandbox` end to end over HTTP: declared clients, faults answered in each dialect's own
 * shape, the clock, the request record, the control API, limits, fixed signing keys; and that
 * `keymint serve` reaches none of it (SB-01).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startSandbox, SandboxInputError, type Sandbox } from '../../src/start-sandbox.ts';
import { createVerifier } from '../../src/verify/index.ts';
import { expectAnswer, PATHS, postJson, type DialectName } from '../dialects/support/dialects.ts';
import { basic, startServer } from '../support/harness.ts';

// One RSA key for the file: a sandbox given a signing key generates none at start.
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    clients: {
      app: { scopes: ['payments:read'] },
      other: {},
    },
    sandbox: { signingKey: PEM, dialects: ['oauth2', 'orum', 'fuuffy', { name: 'tradevest', path: '/connect/token' }, 'polygon-oms'] },
  });
});
after(() => sb.close());

const orumToken = (name = 'app', s = sb) => postJson(s.url, PATHS.orum, { client_id: s.clients[name]!.id, client_secret: s.clients[name]!.secret });
const formToken = (path: string, name = 'app', s = sb) =>
  fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(s.clients[name]!.id, s.clients[name]!.secret!) }, body: 'grant_type=client_credentials' });

test('startSandbox binds a free port and advertises it; declared clients get tokens at every mount', async (t) => {
  t.after(() => sb.reset());
  const port = new URL(sb.url).port;
  assert.notEqual(port, '0');
  assert.equal(sb.issuer, `http://localhost:${port}`);
  assert.equal(sb.port, Number(port));
  const meta = (await (await fetch(`${sb.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
  assert.equal(meta.issuer, sb.issuer);
  assert.deepEqual(sb.mounts.map((m) => m.tokenEndpoint), ['/oauth2/token', '/oauth/token', '/v1/auth/token', '/connect/token', '/v0.9/auth/token'].map((p) => sb.issuer + p));
  assert.deepEqual(Object.keys(sb.clients), ['app', 'other']);
  const res = await orumToken();
  assert.equal(res.status, 200);
  const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token);
  assert.equal(claims.iss, sb.issuer);
  assert.equal(claims.client_id, sb.clients.app!.id);
  assert.equal((await formToken(PATHS.oauth2)).status, 200);
});

test('a faulted 429 is the one the real limit answers: status, headers (Retry-After, X-Retry-In) and body', async (t) => {
  const limited = await startSandbox({ clients: { app: {} }, sandbox: { dialects: ['orum'], signingKey: PEM, limits: { rateLimitClient: 1 } } });
  t.after(() => limited.close());
  assert.equal((await orumToken('app', limited)).status, 200);
  const real = await orumToken('app', limited);
  const realBody = await real.text();
  assert.equal(real.status, 429);
  const retry = Number(real.headers.get('retry-after'));
  sb.fault({ dialect: 'orum', status: 429, retryAfter: retry, times: 1 });
  const faulted = await orumToken();
  assert.equal(faulted.status, 429);
  assert.equal(await faulted.text(), realBody);
  const headers = (r: Response) => Object.fromEntries([...r.headers].filter(([k]) => !['date', 'content-length'].includes(k)));
  assert.deepEqual(headers(faulted), headers(real));
  assert.equal(faulted.headers.get('x-retry-in'), String(retry * 1000));
  // Fired once: the next request is served.
  assert.equal((await orumToken()).status, 200);
  await sb.reset();
});

/** A well-formed client_credentials request in each dialect's own wire form. */
function dialectToken(dialect: DialectName): Promise<Response> {
  const { id, secret } = sb.clients.app!;
  const form = (body: Record<string, string>) => fetch(sb.url + PATHS[dialect], { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
  switch (dialect) {
    case 'orum':
      return orumToken();
    case 'polygon-oms':
      return postJson(sb.url, PATHS[dialect], { apiKey: id, apiSecret: secret });
    case 'oauth2':
      return formToken(PATHS.oauth2);
    default:
      return form({ grant_type: 'client_credentials', client_id: id, client_secret: secret! });
  }
}

test('faults answer in each dialect’s catalogue shape (seed schemas, headers) for 401, 429, 500 and 503', async (t) => {
  t.after(() => sb.reset());
  const dialects: DialectName[] = ['orum', 'fuuffy', 'tradevest', 'polygon-oms', 'oauth2'];
  for (const dialect of dialects) {
    for (const status of [401, 429, 500, 503]) {
      assert.equal((await dialectToken(dialect)).status, 200, `${dialect} serves`);
      sb.fault({ dialect, status, times: 1, ...(status === 429 || status === 503 ? { retryAfter: 2 } : {}) });
      const res = await dialectToken(dialect);
      // Tradevest answers bad credentials sent in the body with 400, as RFC 6749 §5.2 allows without Basic.
      const expected = dialect === 'tradevest' && status === 401 ? 400 : status;
      const extra: Record<string, string> = status === 429 || status === 503 ? { 'Retry-After': '2' } : {};
      if (dialect === 'oauth2') {
        assert.equal(res.status, expected, `${dialect} ${status}`);
        if (status === 429 || status === 503) assert.equal(res.headers.get('retry-after'), '2');
        await res.body?.cancel();
      } else {
        await expectAnswer(dialect, res, { status: expected, headers: { ...extra, ...(dialect === 'orum' && status === 429 ? { 'X-Retry-In': '2000' } : {}) } });
      }
    }
  }
  const kinds = sb.requests().filter((r) => r.faults.length > 0).map((r) => `${r.dialect}:${r.status}:${r.outcome}`);
  assert.equal(kinds.length, 20);
  assert.deepEqual(kinds.slice(0, 4), ['orum:401:invalid_client', 'orum:429:rate_limited', 'orum:500:server_error', 'orum:503:temporarily_unavailable']);
  assert.equal(kinds[8], 'tradevest:400:invalid_client');
});

test('a canonical error by name: invalid_grant in the oauth2 shape', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ dialect: 'oauth2', error: 'invalid_grant', times: 1 });
  const res = await formToken(PATHS.oauth2);
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
});

test('faults match by client name and endpoint; other clients are served', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ client: 'other', status: 503, retryAfter: 4 });
  assert.equal((await orumToken('app')).status, 200);
  const res = await orumToken('other');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '4');
  sb.clearFaults();
  assert.equal((await orumToken('other')).status, 200);
});

test('a dropped connection: the client sees the socket close without an answer; the next request is served', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ drop: true, times: 1 });
  await assert.rejects(orumToken(), (err: Error) => err instanceof TypeError);
  assert.equal((await orumToken()).status, 200);
  const [dropped, served] = sb.requests();
  assert.equal(dropped!.outcome, 'dropped');
  assert.equal(dropped!.status, 0);
  assert.deepEqual(dropped!.faults, ['f1']);
  assert.equal(served!.outcome, 'ok');
});

test('latency: the request waits, then is served; the record names the fault', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ latencyMs: 50, times: 1 });
  assert.equal((await orumToken()).status, 200);
  assert.deepEqual(sb.requests()[0]!.faults, ['f1']);
});

test('a request still held by a latency fault when reset() clears the record is not recorded when it ends', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ latencyMs: 300, times: 1 });
  const held = orumToken();
  // The fault has fired: the request began and waits out its latency.
  const deadline = Date.now() + 10_000;
  while (sb.faults()[0]?.fired !== 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(sb.faults()[0]?.fired, 1, 'hang guard: the fault fired');
  await sb.reset();
  assert.equal((await held).status, 200);
  assert.deepEqual(sb.requests(), [], 'the next test starts from an empty record');
  assert.equal((await orumToken()).status, 200);
  assert.deepEqual(sb.requests().map((r) => r.status), [200]);
});

test('a short token TTL: expires_in and exp say it, for the requests the fault covers', async (t) => {
  t.after(() => sb.reset());
  sb.fault({ client: 'app', tokenTtl: 5, times: 1 });
  const short = (await (await orumToken()).json()) as { access_token: string; expires_in: number };
  assert.equal(short.expires_in, 5);
  const claims = decodeJwt(short.access_token);
  assert.equal(claims.exp! - claims.iat!, 5);
  const normal = (await (await orumToken()).json()) as { expires_in: number };
  assert.equal(normal.expires_in, 3600);
});

test('advancing the clock expires earlier tokens at introspection and in keymint/verify given the sandbox clock', async (t) => {
  t.after(() => sb.reset());
  const { access_token: token } = (await (await formToken(PATHS.oauth2)).json()) as { access_token: string };
  const verifier = createVerifier({ issuer: sb.issuer, audience: sb.issuer, now: sb.now, jwksUri: `${sb.url}/oauth2/jwks` });
  const introspect = async () => {
    const res = await fetch(`${sb.url}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(sb.clients.app!.id, sb.clients.app!.secret!) }, body: `token=${token}` });
    return ((await res.json()) as { active: boolean }).active;
  };
  assert.equal(await introspect(), true);
  assert.equal((await verifier.verify(token)).client_id, sb.clients.app!.id);
  sb.advanceClock(3700_000);
  assert.equal(await introspect(), false);
  await assert.rejects(verifier.verify(token), (err: { code?: string }) => err.code === 'expired');
  // A token issued now lives on the moved clock.
  const fresh = decodeJwt(((await (await formToken(PATHS.oauth2)).json()) as { access_token: string }).access_token);
  assert.ok(Math.abs(fresh.iat! * 1000 - sb.now()) < 5_000);
  await sb.reset();
  assert.equal(await introspect(), true);
});

test('SB-02 the request record: path, dialect, client, grant, outcome; never a secret or a token', async (t) => {
  t.after(() => sb.reset());
  const ok = (await (await orumToken()).json()) as { access_token: string };
  await postJson(sb.url, PATHS.orum, { client_id: sb.clients.app!.id, client_secret: 'wrong-secret' });
  const records = sb.requests();
  assert.equal(records.length, 2);
  assert.deepEqual(
    records.map(({ at: _at, ...r }) => r),
    [
      { method: 'POST', path: '/oauth/token', dialect: 'orum', endpoint: 'token', clientId: sb.clients.app!.id, client: 'app', grant: 'client_credentials', status: 200, outcome: 'ok', faults: [] },
      { method: 'POST', path: '/oauth/token', dialect: 'orum', endpoint: 'token', clientId: sb.clients.app!.id, client: 'app', grant: 'client_credentials', status: 401, outcome: 'invalid_client', faults: [] },
    ],
  );
  const text = JSON.stringify(records) + (await (await fetch(`${sb.url}/_sandbox/requests`)).text());
  assert.ok(!text.includes(sb.clients.app!.secret!));
  assert.ok(!text.includes('wrong-secret'));
  assert.ok(!text.includes(ok.access_token.split('.')[2]!));
  sb.clearRequests();
  assert.deepEqual(sb.requests(), []);
});

test('limits and lockout are off by default: wrong secrets never lock the right one out', async (t) => {
  t.after(() => sb.reset());
  for (let i = 0; i < 8; i++) assert.equal((await postJson(sb.url, PATHS.orum, { client_id: sb.clients.app!.id, client_secret: 'wrong' })).status, 401);
  assert.equal((await orumToken()).status, 200);
});

test('limits turned on in the options: the lockout applies', async (t) => {
  // A ten-minute first lockout: the default second could end before a slow machine sends the third request.
  const limited = await startSandbox({ clients: { app: {} }, sandbox: { dialects: ['orum'], signingKey: PEM, limits: { lockoutThreshold: 2, lockoutBaseMs: 600_000 } } });
  t.after(() => limited.close());
  for (let i = 0; i < 2; i++) assert.equal((await postJson(limited.url, PATHS.orum, { client_id: limited.clients.app!.id, client_secret: 'wrong' })).status, 401);
  const locked = await orumToken('app', limited);
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get('retry-after')) >= 590, `Retry-After ${locked.headers.get('retry-after')}`);
});

test('the control API drives faults, clock, record and reset over HTTP', async (t) => {
  t.after(() => sb.reset());
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${sb.url}/_sandbox${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const added = await call('POST', '/faults', { dialect: 'orum', status: 500, times: 1 });
  assert.equal(added.status, 201);
  assert.deepEqual(await added.json(), { dialect: 'orum', status: 500, times: 1, id: 'f1', remaining: 1, fired: 0 });
  assert.equal((await orumToken()).status, 500);
  assert.deepEqual(((await (await call('GET', '/faults')).json()) as { faults: Array<{ fired: number }> }).faults.map((f) => f.fired), [1]);
  const clock = (await (await call('POST', '/clock', { advanceMs: 60_000 })).json()) as { offsetMs: number };
  assert.equal(clock.offsetMs, 60_000);
  const records = ((await (await call('GET', '/requests')).json()) as { requests: Array<{ status: number }> }).requests;
  assert.deepEqual(records.map((r) => r.status), [500]);
  assert.equal((await call('DELETE', '/requests')).status, 200);
  assert.deepEqual(sb.requests(), []);
  await call('POST', '/faults', { status: 503 });
  assert.equal((await call('DELETE', '/faults/f2')).status, 200);
  assert.equal((await call('DELETE', '/faults/f2')).status, 404);
  const overview = (await (await call('GET', '')).json()) as Record<string, unknown>;
  assert.equal(overview.issuer, sb.issuer);
  assert.deepEqual(overview.clients, [
    { name: 'app', client_id: sb.clients.app!.id },
    { name: 'other', client_id: sb.clients.other!.id },
  ]);
  assert.ok(!JSON.stringify(overview).includes(sb.clients.app!.secret!));
  const reset = (await (await call('POST', '/reset')).json()) as { faults: unknown[]; clock: { offsetMs: number } };
  assert.deepEqual(reset.faults, []);
  assert.equal(reset.clock.offsetMs, 0);
  // Bad input: 400 naming the field, 405 with Allow, 404.
  const bad = await call('POST', '/faults', { status: 418 });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'invalid_request', error_description: 'fault.status: must be one of 400, 401, 403, 404, 429, 500, 503' });
  assert.equal((await fetch(`${sb.url}/_sandbox/faults`, { method: 'POST', body: 'x' })).status, 400);
  assert.equal((await call('POST', '/clock', { advanceMs: 'soon' })).status, 400);
  const wrong = await call('PUT', '/faults');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET, POST, DELETE');
  assert.equal((await call('GET', '/nothing')).status, 404);
  assert.deepEqual(sb.faults(), []);
});

test('faults declared in the options hold from the start and again after reset()', async (t) => {
  const s = await startSandbox({ clients: { app: {} }, sandbox: { dialects: ['orum'], signingKey: PEM, faults: [{ status: 503, times: 1, retryAfter: 9 }] } });
  t.after(() => s.close());
  assert.equal((await orumToken('app', s)).status, 503);
  assert.equal((await orumToken('app', s)).status, 200);
  await s.reset();
  const again = await orumToken('app', s);
  assert.equal(again.status, 503);
  assert.equal(again.headers.get('retry-after'), '9');
});

test('a fixed signing key: the same kid and key in every run, so recorded tokens keep verifying', async (t) => {
  const second = await startSandbox({ clients: { app: {} }, sandbox: { signingKey: PEM } });
  t.after(() => second.close());
  const jwks = async (s: Sandbox) => (await (await fetch(`${s.url}/oauth2/jwks`)).json()) as { keys: Array<{ kid: string; n?: string }> };
  const kids = (await jwks(sb)).keys.map((k) => k.kid);
  assert.deepEqual((await jwks(second)).keys.map((k) => k.kid), kids);
  const { access_token: token } = (await (await formToken(PATHS.oauth2)).json()) as { access_token: string };
  assert.ok(kids.includes(String(decodeProtectedHeader(token).kid)));
  // A token of the first sandbox verifies against the second's keys.
  const verifier = createVerifier({ issuer: sb.issuer, audience: sb.issuer, jwksUri: `${second.url}/oauth2/jwks` });
  assert.equal((await verifier.verify(token)).client_id, sb.clients.app!.id);
});

test('an RSA signing key signs PS256 when alg says PS256 (its own kid, alg PS256 in the JWKS), RS256 otherwise; alg PS256 without a key generates one', async (t) => {
  const ps = await startSandbox({ clients: { app: {} }, sandbox: { signingKey: PEM, alg: 'PS256' } });
  const generated = await startSandbox({ clients: { app: {} }, sandbox: { alg: 'PS256' } });
  t.after(() => Promise.all([ps.close(), generated.close()]));
  const rsKids = (await (await fetch(`${sb.url}/oauth2/jwks`)).json() as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  for (const s of [ps, generated]) {
    const { access_token: token } = (await (await formToken(PATHS.oauth2, 'app', s)).json()) as { access_token: string };
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'PS256');
    assert.match(String(header.kid), /^ps256-/);
    assert.ok(!rsKids.includes(String(header.kid)), 'not the kid the key has as RS256');
    const jwks = (await (await fetch(`${s.url}/oauth2/jwks`)).json()) as { keys: Array<{ kid: string; alg: string }> };
    assert.equal(jwks.keys.find((k) => k.kid === header.kid)?.alg, 'PS256');
    const verifier = createVerifier({ issuer: s.issuer, audience: s.issuer, jwksUri: `${s.url}/oauth2/jwks` });
    assert.equal((await verifier.verify(token)).client_id, s.clients.app!.id);
  }
  const again = await startSandbox({ clients: { app: {} }, sandbox: { signingKey: PEM, alg: 'PS256' } });
  t.after(() => again.close());
  const kidOf = async (s: Sandbox) => decodeProtectedHeader(((await (await formToken(PATHS.oauth2, 'app', s)).json()) as { access_token: string }).access_token).kid;
  assert.equal(await kidOf(again), await kidOf(ps), 'the fixed key keeps its PS256 kid from run to run');
});

test('a key pair generated beforehand (keymint sandbox starts it while loading) is the generated key, with a generated kid; for another algorithm it is left unused', async (t) => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const n = pair.publicKey.export({ format: 'jwk' }).n;
  const jwks = async (s: Sandbox) => ((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as { keys: Array<{ kid: string; n?: string; kty: string }> }).keys;
  const taken = await startSandbox({}, { pairBeingGenerated: { alg: 'RS256', pair: Promise.resolve(pair) } });
  t.after(() => taken.close());
  const [key] = await jwks(taken);
  assert.equal(key!.n, n);
  assert.match(key!.kid, /^rs256-[0-9A-Za-z]{16}$/);
  const other = await startSandbox({ sandbox: { alg: 'ES256' } }, { pairBeingGenerated: { alg: 'RS256', pair: Promise.resolve(pair) } });
  t.after(() => other.close());
  const keys = await jwks(other);
  assert.ok(keys.some((k) => k.kty === 'EC'));
  assert.ok(!keys.some((k) => k.n === n));
});

test('bad options are refused with the field at fault', async () => {
  const cases: Array<[unknown, string]> = [
    [{ colour: 1 }, 'colour'],
    [{ sandbox: { port: -1 } }, 'sandbox.port'],
    [{ clients: { app: { scopes: 'a' } } }, 'clients.app.scopes'],
    [{ clients: { app: { grants: ['magic'] } } }, 'clients.app.grants'],
    [{ clients: { app: { secret: { value: 'x', env: 'Y' } } } }, 'clients.app.secret'],
    [{ clients: { app: { secret: { env: 'KEYMINT_TEST_UNSET_VARIABLE' } } } }, 'clients.app.secret.env'],
    [{ sandbox: { dialects: ['stripe'] } }, 'sandbox.dialects'],
    [{ sandbox: { faults: [{ status: 418 }] } }, 'sandbox.faults[0].status'],
    [{ sandbox: { signingKey: 'not a key' } }, 'sandbox.signingKey'],
    [{ sandbox: { clock: { offsetMs: 1.5 } } }, 'sandbox.clock.offsetMs'],
  ];
  for (const [options, field] of cases) {
    const o = options as { sandbox?: object };
    await assert.rejects(startSandbox({ ...o, sandbox: { signingKey: PEM, ...o.sandbox } } as never), (err: SandboxInputError) => err instanceof SandboxInputError && err.field === field, JSON.stringify(options));
  }
});

test('SB-01 a served Keymint has no sandbox control API: /_sandbox/ answers 404 in the standard shape', async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  for (const [method, path] of [['GET', '/_sandbox'], ['GET', '/_sandbox/faults'], ['POST', '/_sandbox/faults'], ['POST', '/_sandbox/clock'], ['POST', '/_sandbox/reset']] as const) {
    const res = await fetch(s.url + path, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"status":500}' } : {}) });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.deepEqual(await res.json(), { error: 'not_found', error_description: 'No such endpoint.' });
  }
  const { id, secret } = await s.client();
  assert.equal((await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret) })).status, 200);
});

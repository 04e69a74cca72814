/**
 * Each dialect's request and response mapping, against the exact bodies of DIALECTS.md and the seeds
 * (those dialects are merged into the server later; here a function stands in for fetch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTokenSource, TokenSourceError, type TokenSourceOptions } from '../../src/client/index.ts';

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function endpoint(status: number, body: unknown, headers: Record<string, string> = {}) {
  const seen: Seen[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    seen.push({ url, headers: init.headers as Record<string, string>, body: String(init.body) });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }) as typeof fetch;
  return { seen, fetchFn };
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const base = { tokenUrl: 'https://auth.example.com/token', clientId: 'sk_live_abc', clientSecret: 'sec:ret+/', now: () => T0, sleep: async () => {} };
async function fetchWith(options: Partial<TokenSourceOptions>, status: number, body: unknown) {
  const e = endpoint(status, body);
  const source = createTokenSource({ ...base, ...options, fetch: e.fetchFn });
  return { token: await source.getToken(), seen: e.seen, source };
}

test('oauth2: form, client_secret_basic (form-urlencoded halves), scope and resource', async () => {
  const { token, seen } = await fetchWith(
    { scope: ['a', 'b'], audience: 'https://api.example.com' },
    200,
    { access_token: 'at1', token_type: 'Bearer', expires_in: 3600, scope: 'a b' },
  );
  assert.equal(token, 'at1');
  assert.deepEqual(seen[0]!.headers, {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    authorization: `Basic ${Buffer.from('sk_live_abc:sec%3Aret%2B%2F').toString('base64')}`,
  });
  assert.equal(seen[0]!.body, 'grant_type=client_credentials&scope=a+b&resource=https%3A%2F%2Fapi.example.com');
});

test('polygon-oms: JSON {apiKey, apiSecret} → {accessToken, tokenType, expiresIn, expiresAt}; no scope', async () => {
  const at = new Date(T0 + 1800_000).toISOString();
  const { token, seen } = await fetchWith({ dialect: 'polygon-oms' }, 200, { accessToken: 'eyJ.x.y', tokenType: 'bearer', expiresIn: 3600, expiresAt: at });
  assert.equal(token, 'eyJ.x.y');
  assert.deepEqual(seen[0]!.headers, { 'content-type': 'application/json', accept: 'application/json' });
  assert.equal(seen[0]!.body, '{"apiKey":"sk_live_abc","apiSecret":"sec:ret+/"}');
  assert.throws(() => createTokenSource({ ...base, dialect: 'polygon-oms', scope: 'x' }), TypeError);
});

test('expiresAt and expiresIn both understood: the earlier wins; expiresAt alone is enough', async () => {
  let t = T0;
  const calls: number[] = [];
  const mk = (body: unknown) => {
    const fetchFn = (async () => (calls.push(t), Response.json(body))) as unknown as typeof fetch;
    return createTokenSource({ ...base, dialect: 'polygon-oms', fetch: fetchFn, now: () => t, random: () => 0 });
  };
  const both = mk({ accessToken: 'a', tokenType: 'bearer', expiresIn: 3600, expiresAt: new Date(T0 + 1000_000).toISOString() });
  await both.getToken();
  t = T0 + 800_000 - 1;
  await both.getToken();
  assert.equal(calls.length, 1);
  t = T0 + 800_000; // 0.8 × 1000 s, not 0.8 × 3600 s
  await both.getToken();
  assert.equal(calls.length, 2);
  t = T0;
  calls.length = 0;
  const onlyAt = mk({ accessToken: 'a', tokenType: 'bearer', expiresAt: new Date(T0 + 100_000).toISOString() });
  await onlyAt.getToken();
  t = T0 + 80_000;
  await onlyAt.getToken();
  assert.equal(calls.length, 2);
});

test('orum: JSON {client_id, client_secret} → {access_token, token_type, expires_in}', async () => {
  const { token, seen } = await fetchWith({ dialect: 'orum' }, 200, { access_token: 'o1', token_type: 'Bearer', expires_in: 3600 });
  assert.equal(token, 'o1');
  assert.equal(seen[0]!.headers['content-type'], 'application/json');
  assert.equal(seen[0]!.body, '{"client_id":"sk_live_abc","client_secret":"sec:ret+/"}');
});

test('tradevest: form with Content-Type, grant_type=client_credentials, optional scope', async () => {
  const { token, seen } = await fetchWith({ dialect: 'tradevest', scope: 'trade' }, 200, { access_token: 't1', expires_in: 3600, token_type: 'Bearer' });
  assert.equal(token, 't1');
  assert.equal(seen[0]!.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(seen[0]!.body, 'client_id=sk_live_abc&client_secret=sec%3Aret%2B%2F&grant_type=client_credentials&scope=trade');
});

test('fuuffy: form {client_id, client_secret} → {"data": {…}} with an opaque sk- token', async () => {
  const sk = 'sk-0123456789abcdef0123456789abcdef';
  const { token, seen } = await fetchWith({ dialect: 'fuuffy' }, 200, { data: { access_token: sk, token_type: 'Bearer', expires_in: 3600 } });
  assert.equal(token, sk);
  assert.equal(seen[0]!.body, 'client_id=sk_live_abc&client_secret=sec%3Aret%2B%2F');
});

test('polar: no client_credentials; refresh_token rotates and is reported; web grant fields', async () => {
  assert.throws(() => createTokenSource({ ...base, dialect: 'polar' }), /does not offer the client_credentials grant/);
  const rotated: string[] = [];
  const bodies = [
    { access_token: 'polar_at_u_1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'polar_rt_u_2', scope: 'openid', id_token: 'x.y.z' },
    { access_token: 'polar_at_u_2', token_type: 'Bearer', expires_in: 3600, refresh_token: 'polar_rt_u_3', scope: 'openid', id_token: 'x.y.z' },
  ];
  const seen: string[] = [];
  const fetchFn = (async (_u: string, init: RequestInit) => (seen.push(String(init.body)), Response.json(bodies.shift()))) as unknown as typeof fetch;
  const s = createTokenSource({
    ...base,
    dialect: 'polar',
    scope: 'openid',
    grant: { type: 'refresh_token', refreshToken: 'polar_rt_u_1' },
    onRefreshToken: (rt) => rotated.push(rt),
    fetch: fetchFn,
  });
  assert.equal(await s.getToken(), 'polar_at_u_1');
  s.invalidate();
  assert.equal(await s.getToken(), 'polar_at_u_2');
  assert.deepEqual(seen, [
    'grant_type=refresh_token&refresh_token=polar_rt_u_1&client_id=sk_live_abc&client_secret=sec%3Aret%2B%2F&scope=openid',
    'grant_type=refresh_token&refresh_token=polar_rt_u_2&client_id=sk_live_abc&client_secret=sec%3Aret%2B%2F&scope=openid',
  ]);
  assert.deepEqual(rotated, ['polar_rt_u_2', 'polar_rt_u_3']);
  const web = await fetchWith(
    { dialect: 'polar', grant: { type: 'web', sessionToken: 'polar_st_x', subType: 'organization', sub: '3fa85f64-5717-4562-b3fc-2c963f66afa6' } },
    200,
    { access_token: 'polar_at_o_1', token_type: 'Bearer', expires_in: 3600, refresh_token: null, scope: '', id_token: 'x.y.z' },
  );
  assert.equal(web.token, 'polar_at_o_1');
  assert.equal(
    web.seen[0]!.body,
    'grant_type=web&session_token=polar_st_x&sub_type=organization&sub=3fa85f64-5717-4562-b3fc-2c963f66afa6&client_id=sk_live_abc&client_secret=sec%3Aret%2B%2F',
  );
});

test("each dialect's documented error body gives a stable code and the provider's own code", async () => {
  const cases: Array<[TokenSourceOptions['dialect'], number, unknown, string, string]> = [
    ['oauth2', 401, { error: 'invalid_client' }, 'invalid_client', 'invalid_client'],
    ['polygon-oms', 401, { error: 'Unauthorized', code: 1000, msg: 'unauthorized access', status: 401 }, 'invalid_client', 'Unauthorized'],
    ['polygon-oms', 400, { error: 'InvalidArgument', code: 2001, msg: 'invalid argument', cause: 'apiKey', status: 400 }, 'token_request_failed', 'InvalidArgument'],
    ['orum', 400, { error_code: 'missing_client_id', message: 'client_id is required', details: null }, 'token_request_failed', 'missing_client_id'],
    ['orum', 401, { error_code: 'unauthorized', message: 'invalid client credentials', details: null }, 'invalid_client', 'unauthorized'],
    ['tradevest', 400, { error: 'invalid_client' }, 'invalid_client', 'invalid_client'],
    ['fuuffy', 401, { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } }, 'invalid_client', 'invalid_client'],
    ['fuuffy', 400, { error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters', error_trace: { client_id: 'missing' } } }, 'token_request_failed', 'invalid_request'],
  ];
  for (const [dialect, status, body, code, providerCode] of cases) {
    await assert.rejects(fetchWith({ dialect }, status, body), (e: unknown) => {
      assert.ok(e instanceof TokenSourceError);
      assert.deepEqual([e.code, e.status, e.providerCode], [code, status, providerCode], `${dialect} ${status}`);
      return true;
    });
  }
  const polar = { dialect: 'polar' as const, grant: { type: 'refresh_token' as const, refreshToken: 'polar_rt_u_1' } };
  await assert.rejects(fetchWith(polar, 400, { error: 'invalid_grant', error_description: 'x' }), (e: unknown) => (e as TokenSourceError).code === 'invalid_grant');
});

test('a 200 of the wrong shape is invalid_response', async () => {
  for (const [dialect, body] of [
    ['oauth2', { access_token: 'a', token_type: 'mac', expires_in: 3600 }],
    ['oauth2', { token_type: 'Bearer', expires_in: 3600 }],
    ['oauth2', { access_token: 'a', token_type: 'Bearer', expires_in: -1 }],
    ['fuuffy', { access_token: 'sk-1', token_type: 'Bearer', expires_in: 3600 }],
    ['polygon-oms', { accessToken: 'a', tokenType: 'bearer', expiresIn: 3600, expiresAt: 'soon' }],
  ] as const) {
    await assert.rejects(fetchWith({ dialect }, 200, body), (e: unknown) => e instanceof TokenSourceError && e.code === 'invalid_response', JSON.stringify(body));
  }
});

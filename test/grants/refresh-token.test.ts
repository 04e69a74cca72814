import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { polarShapes } from '../../src/dialects/polar.ts';
import { opaqueFormat } from '../../src/tokens/opaque.ts';
import { basic, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

describe('refresh_token grant (SECURITY RT-*)', () => {
  let s: GrantServer;
  let now = Date.parse('2026-11-23T12:00:00Z');
  let a: { id: string; secret: string };
  let b: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ refreshTokenIdleTtl: '120', refreshTokenTtl: '300' }, { now: () => now });
    a = await s.client({ grants: ['refresh_token', 'authorization_code'], scopes: ['openid', 'read', 'write'] });
    b = await s.client({ grants: ['refresh_token'], scopes: ['openid', 'read', 'write'] });
  });
  after(() => s.close());

  const refresh = (token: string, c = a, extra: Record<string, string> = {}, path = '/oauth2/token') =>
    s.postForm(path, { grant_type: 'refresh_token', refresh_token: token, ...extra }, { authorization: basic(c.id, c.secret) });
  const ok = async (res: Response) => {
    const body = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const invalidGrant = async (res: Response) => {
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await s.json(res), { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' });
  };

  test('RT-04 rotation: each use returns a new refresh token with the same family', async () => {
    const { token, familyId } = await seedRefreshToken(s, a.id, { now });
    const body = await ok(await refresh(token));
    assert.match(String(body.refresh_token), /^km_rt_[0-9A-Za-z]{43}$/);
    assert.notEqual(body.refresh_token, token);
    assert.equal(body.scope, 'openid read write');
    assert.equal(typeof body.id_token, 'string'); // openid in scope
    const next = await ok(await refresh(String(body.refresh_token)));
    assert.ok(next.refresh_token);
    assert.equal((await s.keymint.store.tokens.revokeFamily(familyId, now)) >= 1, true);
  });

  test('RT-04 reuse of a rotated token → invalid_grant and the whole family is revoked', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    await invalidGrant(await refresh(token));
    // The successor (and the access token's jti record) died with the family.
    await invalidGrant(await refresh(String(first.refresh_token)));
  });

  test('RT-05 50 parallel uses of one refresh token on SQLite → exactly one 200', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(token)));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    assert.equal(statuses.filter((x) => x === 200).length, 1);
    assert.equal(statuses.filter((x) => x === 400).length, 49);
  });

  test('RT-01 S-02 a refresh token presented by another client → invalid_grant, and stays valid for its owner', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    await invalidGrant(await refresh(token, b));
    await ok(await refresh(token, a));
  });

  test('RT-02 BCP-14 scope may narrow; escalation → invalid_scope; omitted → the original scope', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now, scope: 'read write' });
    const esc = await refresh(token, a, { scope: 'read admin' });
    assert.equal(esc.status, 400);
    assert.deepEqual(await s.json(esc), { error: 'invalid_scope', error_description: 'The requested scope exceeds the scope originally granted.' });
    const narrowed = await ok(await refresh(token, a, { scope: 'read' }));
    assert.equal(narrowed.scope, 'read');
    const again = await ok(await refresh(String(narrowed.refresh_token)));
    assert.equal(again.scope, 'read write');
  });

  test('RT-03 the new refresh token keeps the original scope after a down-scoped access token', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now, scope: 'read write' });
    const narrowed = await ok(await refresh(token, a, { scope: 'write' }));
    const widened = await ok(await refresh(String(narrowed.refresh_token), a, { scope: 'read write' }));
    assert.equal(widened.scope, 'read write');
  });

  test('RT-06 unknown, malformed, access-token, expired and revoked tokens → invalid_grant', async () => {
    const expired = await seedRefreshToken(s, a.id, { now: now - 10_000, expiresAt: now - 1 });
    const revoked = await seedRefreshToken(s, a.id, { now });
    await s.keymint.store.tokens.revokeFamily(revoked.familyId, now);
    for (const token of ['nope', `km_rt_${'A'.repeat(43)}`, 'x'.repeat(5000), expired.token, revoked.token]) await invalidGrant(await refresh(token));
    const missing = await s.postForm('/oauth2/token', { grant_type: 'refresh_token' }, { authorization: basic(a.id, a.secret) });
    assert.equal(missing.status, 400);
    assert.equal((await s.json(missing)).error, 'invalid_request');
  });

  test('RT-07 idle lifetime: a token unused past the idle TTL expires', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const body = await ok(await refresh(token));
    now += 121_000;
    try {
      await invalidGrant(await refresh(String(body.refresh_token)));
    } finally {
      now -= 121_000;
    }
  });

  test('RT-07 absolute lifetime: rotation never extends the family past refresh_token_ttl', async () => {
    const start = now;
    const { token } = await seedRefreshToken(s, a.id, { now, familyExpiresAt: now + 300_000 });
    let current = token;
    try {
      for (let i = 0; i < 3; i++) {
        now += 90_000; // within the 120 s idle TTL each time
        current = String((await ok(await refresh(current))).refresh_token);
      }
      now += 60_000; // 330 s after the family began: idle-fresh (60 s) but past the 300 s absolute lifetime
      await invalidGrant(await refresh(current));
    } finally {
      now = start;
    }
  });

  test('RT-08 disabling the client or rotating its secret revokes its refresh tokens', async () => {
    const c = await s.client({ grants: ['refresh_token'], scopes: ['read'] });
    const one = await seedRefreshToken(s, c.id, { now, scope: 'read' });
    await s.keymint.clients.setStatus(c.id, 'disabled', 'test');
    await s.keymint.clients.setStatus(c.id, 'active', 'test');
    await invalidGrant(await refresh(one.token, c));
    const two = await seedRefreshToken(s, c.id, { now, scope: 'read' });
    const { clientSecret } = await s.keymint.clients.rotateSecret(c.id, 0, 'test');
    await invalidGrant(await refresh(two.token, { id: c.id, secret: clientSecret }));
  });

  test('RT-10 a disabled client cannot refresh', async () => {
    const c = await s.client({ grants: ['refresh_token'], scopes: ['read'] });
    const { token } = await seedRefreshToken(s, c.id, { now, scope: 'read' });
    await s.keymint.clients.setStatus(c.id, 'disabled', 'test');
    const res = await refresh(token, c);
    assert.equal(res.status, 401);
    assert.deepEqual(await s.json(res), { error: 'invalid_client', error_description: 'The client is disabled.' });
  });

  test('BCP-06 a public client refreshes with its id alone and gets a rotated token', async () => {
    const pub = await s.client({ type: 'public', grants: ['refresh_token'], scopes: ['read'] });
    const { token } = await seedRefreshToken(s, pub.id, { now, scope: 'read' });
    const res = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, client_id: pub.id });
    const body = await ok(res);
    assert.notEqual(body.refresh_token, token);
  });

  test('polar dialect: polar_rt_u_ rotates into polar_rt_u_ with all six fields', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now, format: opaqueFormat(polarShapes.refreshUser), scope: 'read' });
    const body = await ok(await refresh(token, a, {}, '/v1/oauth2/token'));
    assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token']);
    assert.match(String(body.access_token), /^polar_at_u_/);
    assert.match(String(body.refresh_token), /^polar_rt_u_/);
    assert.equal(body.scope, 'read');
  });
});

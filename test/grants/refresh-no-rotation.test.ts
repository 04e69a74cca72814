/**
 * RT-11: a confidential client registered with `refresh_token_rotation: false` keeps its refresh
 * token (RFC 9700 §4.14.2: bound to the client's authentication instead of rotated). A refresh
 * answers with an access token and no refresh_token (RFC 6749 §6 "MAY"); the token's idle deadline
 * slides, never past its family's end; narrowing works and leaves the stored grant alone; revocation
 * ends it; parallel uses all succeed (memory and SQLite here, PostgreSQL in postgres-races.test.ts).
 * A public client is refused the setting; a fapi2 client never rotates. openid-client's
 * refreshTokenGrant uses the same token twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openid from 'openid-client';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { storedDigest } from '../../src/tokens/digest.ts';
import { basic, parallelKeptRefreshes as parallel, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const INVALID = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' };

describe('RT-11 refresh without rotation', () => {
  let s: GrantServer;
  let now = T0;
  let keeper: { id: string; secret: string };
  let rotator: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ refreshTokenIdleTtl: '120', refreshTokenTtl: '300' }, { now: () => now });
    keeper = await s.client({ grants: ['refresh_token'], scopes: ['openid', 'read', 'write'], refreshTokenRotation: false });
    rotator = await s.client({ grants: ['refresh_token'], scopes: ['openid', 'read', 'write'] });
  });
  after(() => s.close());

  const refresh = (token: string, c = keeper, extra: Record<string, string> = {}) =>
    s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, ...extra }, { authorization: basic(c.id, c.secret) });
  const ok = async (res: Response) => {
    const body = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const refused = async (res: Response) => {
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await s.json(res), INVALID);
  };
  const stored = async (token: string) => (await s.keymint.store.tokens.find([storedDigest(s.keymint.keyring.pepper(), token)]))!;

  test('RT-11 a refresh answers an access token and no refresh_token; the same token refreshes again', async () => {
    now = T0;
    const { token } = await seedRefreshToken(s, keeper.id, { now, scope: 'read write' });
    const res = await refresh(token);
    const body = await ok(res);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'read write');
    const again = await ok(await refresh(token));
    assert.equal(again.refresh_token, undefined);
    assert.notEqual(again.access_token, body.access_token);
    // Control: a client that rotates still gets a new refresh token, and its old one is spent.
    const r = await seedRefreshToken(s, rotator.id, { now, scope: 'read write' });
    const rotated = await ok(await refresh(r.token, rotator));
    assert.match(String(rotated.refresh_token), /^km_rt_/);
    await refused(await refresh(r.token, rotator));
  });

  test('RT-11 the idle deadline slides on use (in the store), never past the family end; unused past it → invalid_grant', async () => {
    now = T0;
    const { token } = await seedRefreshToken(s, keeper.id, { now, expiresAt: T0 + 120_000, familyExpiresAt: T0 + 300_000 });
    now = T0 + 100_000;
    await ok(await refresh(token));
    assert.equal((await stored(token)).expiresAt, T0 + 220_000);
    now = T0 + 200_000; // past the first idle deadline, within the slid one
    await ok(await refresh(token));
    assert.equal((await stored(token)).expiresAt, T0 + 300_000); // capped at the family's end
    now = T0 + 299_000;
    await ok(await refresh(token));
    now = T0 + 300_000;
    await refused(await refresh(token));
    // Idle: a token left unused for longer than its idle lifetime is dead.
    const idle = await seedRefreshToken(s, keeper.id, { now, expiresAt: now + 120_000 });
    now += 120_000;
    await refused(await refresh(idle.token));
    assert.equal((await stored(idle.token)).expiresAt, now); // a refused use slides nothing
  });

  test('RT-11 RT-02 narrowing on refresh still works and leaves the stored grant unchanged', async () => {
    now = T0;
    const { token } = await seedRefreshToken(s, keeper.id, { now, scope: 'read write' });
    const narrowed = await ok(await refresh(token, keeper, { scope: 'read' }));
    assert.equal(narrowed.scope, 'read');
    const rec = await stored(token);
    assert.equal(rec.scope, 'read write');
    assert.equal(rec.meta?.grantedScope, 'read write');
    assert.equal((await ok(await refresh(token))).scope, 'read write');
    const esc = await refresh(token, keeper, { scope: 'read admin' });
    assert.equal(esc.status, 400);
    assert.deepEqual(await s.json(esc), { error: 'invalid_scope', error_description: 'The requested scope exceeds the scope originally granted.' });
  });

  test('RT-11 RT-01 revoking the refresh token (RFC 7009) or its family ends it; another client cannot use it', async () => {
    now = T0;
    const a = await seedRefreshToken(s, keeper.id, { now });
    await refused(await refresh(a.token, rotator));
    const access = String((await ok(await refresh(a.token))).access_token);
    const revoked = await s.postForm('/oauth2/revoke', { token: a.token, token_type_hint: 'refresh_token' }, { authorization: basic(keeper.id, keeper.secret) });
    assert.equal(revoked.status, 200);
    await refused(await refresh(a.token));
    // The access tokens it gave are of its family: revoked with it.
    const intro = await s.postForm('/oauth2/introspect', { token: access }, { authorization: basic(keeper.id, keeper.secret) });
    assert.deepEqual(await s.json(intro), { active: false });
    const b = await seedRefreshToken(s, keeper.id, { now });
    await ok(await refresh(b.token));
    await s.keymint.store.tokens.revokeFamily(b.familyId, now);
    await refused(await refresh(b.token));
  });

  test('RT-11 20 parallel refreshes with one token on SQLite → 20 access tokens, and the token still works', async () => {
    now = T0;
    await parallel(s, keeper, now);
  });
});

test('RT-11 20 parallel refreshes with one token on the memory store → 20 access tokens, and the token still works', async (t) => {
  const s = await startGrantServer({ dataDir: ':memory:' });
  t.after(() => s.close());
  await parallel(s, await s.client({ grants: ['refresh_token'], scopes: ['read'], refreshTokenRotation: false }));
});

test('RT-11 refresh_token_rotation false is refused for a public client (admin API), taken and shown for a confidential one', async (t) => {
  const s = await startGrantServer();
  t.after(() => s.close());
  const pub = await s.admin('POST', '/clients', { name: 'SPA', type: 'public', grants: ['authorization_code', 'refresh_token'], redirect_uris: ['https://app.example/cb'], refresh_token_rotation: false });
  assert.equal(pub.status, 400);
  assert.deepEqual(await pub.json(), {
    error: 'invalid_request',
    error_description: 'a public client\'s refresh tokens must rotate (RFC 9700 §4.14.2): refresh_token_rotation false is for confidential clients',
    field: 'refresh_token_rotation',
  });
  const bad = await s.admin('POST', '/clients', { name: 'App', refresh_token_rotation: 'no' });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'invalid_request', error_description: 'refresh_token_rotation must be a boolean', field: 'refresh_token_rotation' });
  const created = await s.admin('POST', '/clients', { name: 'App', grants: ['refresh_token'] });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.equal(body.refresh_token_rotation, true);
  const patched = await s.admin('PATCH', `/clients/${String(body.client_id)}`, { refresh_token_rotation: false });
  assert.equal((await s.json(patched)).refresh_token_rotation, false);
  assert.equal((await s.keymint.store.clients.get(String(body.client_id)))?.refreshTokenRotation, false);
});

test('RT-11 openid-client refreshTokenGrant twice with the same refresh token (client_secret_basic, no rotation)', async (t) => {
  const s = await startGrantServer({ issuer: undefined });
  t.after(() => s.close());
  const c = await s.client({ grants: ['refresh_token'], scopes: ['read', 'write'], refreshTokenRotation: false });
  const config = await openid.discovery(new URL(s.keymint.config.issuer), c.id, undefined, openid.ClientSecretBasic(c.secret), { execute: [openid.allowInsecureRequests] });
  const { token } = await seedRefreshToken(s, c.id, { scope: 'read write' });
  const first = await openid.refreshTokenGrant(config, token);
  assert.equal(first.refresh_token, undefined);
  assert.equal(first.scope, 'read write');
  const second = await openid.refreshTokenGrant(config, token, { scope: 'read' });
  assert.equal(second.refresh_token, undefined);
  assert.equal(second.scope, 'read');
  assert.notEqual(second.access_token, first.access_token);
});

describe('RT-11 refresh_token_rotation where the other client settings are made', () => {
  const data = tempDir('keymint-norotate-');
  after(() => rmSync(data, { recursive: true, force: true }));

  test('RT-11 the CLI sets it with --no-refresh-token-rotation and back with --refresh-token-rotation; a public client is refused it', async () => {
    const created = await cli(['clients', 'create', '--data', data, '--name', 'Backend', '--grant', 'refresh_token', '--no-refresh-token-rotation', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(view.refresh_token_rotation, false);
    const back = await cli(['clients', 'update', String(view.client_id), '--data', data, '--refresh-token-rotation', '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal((JSON.parse(back.stdout) as Record<string, unknown>).refresh_token_rotation, true);
    const pub = await cli(['clients', 'create', '--data', data, '--name', 'SPA', '--type', 'public', '--grant', 'authorization_code', '--grant', 'refresh_token',
      '--redirect-uri', 'https://app.example/cb', '--no-refresh-token-rotation']);
    assert.equal(pub.code, 2, pub.stderr);
    assert.equal(pub.stderr.trim(), 'keymint: refresh_token_rotation: a public client\'s refresh tokens must rotate (RFC 9700 §4.14.2): refresh_token_rotation false is for confidential clients');
  });

  test('RT-11 a configuration file sets refreshTokenRotation (export writes it back)', async () => {
    const file = join(data, 'keymint.yaml');
    writeFileSync(file, `version: 1
clients:
  backend:
    name: Backend
    grants: [refresh_token]
    refreshTokenRotation: false
    secret: { file: ${JSON.stringify(join(data, 'backend.secret'))}, generate: true }
`);
    const applied = await cli(['apply', '-f', file, '--data', data]);
    assert.equal(applied.code, 0, applied.stderr);
    const exported = await cli(['export', '--data', data]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^ {4}refreshTokenRotation: false$/m);
    const again = await cli(['apply', '-f', file, '--data', data, '--dry-run']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /refreshTokenRotation/);
  });

  test('RT-11 dynamic registration takes refresh_token_rotation false for a confidential client and echoes it; refuses it for a public one', async (t) => {
    const s = await startServer({ registration: 'token' });
    t.after(() => s.close());
    const register = await registrarOf(s);
    const created = await register({ redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], refresh_token_rotation: false });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.refresh_token_rotation, false);
    assert.equal((await s.keymint.store.clients.get(String(created.body.client_id)))?.refreshTokenRotation, false);
    assert.deepEqual(await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', refresh_token_rotation: false }), {
      status: 400,
      body: { error: 'invalid_client_metadata', error_description: 'a public client must rotate its refresh tokens: refresh_token_rotation false is for confidential clients' },
    });
    assert.deepEqual(await register({ redirect_uris: ['https://app.example/cb'], refresh_token_rotation: 'no' }), {
      status: 400,
      body: { error: 'invalid_client_metadata', error_description: 'refresh_token_rotation is true or false' },
    });
  });
});

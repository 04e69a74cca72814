/**
 * The refresh-reuse grace window (SECURITY RACE-04): off by default; when on, a rotated refresh token
 * presented again within the window gets a new access token and the same successor, which the store
 * holds only sealed and only for the window. The clock is injected and moved, never slept on.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { storedDigest } from '../../src/tokens/digest.ts';
import { basic, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

const GRACE_S = 10;

test('RACE-04 the grace window is off by default', () => {
  assert.equal(loadConfig({}, {}).refreshReuseGrace, 0);
  assert.equal(loadConfig({ refreshReuseGrace: '30' }, {}).refreshReuseGrace, 30);
  assert.throws(() => loadConfig({ refreshReuseGrace: '301' }, {}), /refresh.?reuse.?grace/i);
});

describe('refresh_token grant with --refresh-reuse-grace (RACE-04)', () => {
  let s: GrantServer;
  let now = Date.parse('2026-11-23T12:00:00Z');
  let a: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ refreshReuseGrace: String(GRACE_S), purgeIntervalMs: '0' }, { now: () => now });
    a = await s.client({ grants: ['refresh_token', 'authorization_code'], scopes: ['openid', 'read', 'write'] });
  });
  after(() => s.close());

  const refresh = (token: string) => s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token }, { authorization: basic(a.id, a.secret) });
  const ok = async (res: Response) => {
    const body = await s.json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const refused = async (res: Response) => {
    assert.equal(res.status, 400);
    assert.deepEqual(await s.json(res), { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' });
  };
  const active = async (token: unknown) => {
    const res = await s.postForm('/oauth2/introspect', { token: String(token) }, { authorization: basic(a.id, a.secret) });
    return ((await s.json(res)) as { active: boolean }).active;
  };
  const successorRows = () => {
    const db = new DatabaseSync(join(s.dataDir, 'keymint.db'), { readOnly: true });
    try {
      return db.prepare('SELECT digest, successor, sealed, expires_at FROM refresh_successors').all() as Array<{ digest: string; successor: string; sealed: string; expires_at: number }>;
    } finally {
      db.close();
    }
  };

  test('RACE-04 a retry within the window gets a new access token and the same successor; the family stays alive', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    now += (GRACE_S - 1) * 1000;
    const retry = await ok(await refresh(token));
    assert.equal(retry.refresh_token, first.refresh_token);
    assert.notEqual(retry.access_token, first.access_token);
    assert.equal(retry.scope, 'openid read write');
    assert.equal(await active(first.access_token), true);
    assert.equal(await active(retry.access_token), true);
    assert.equal(await active(first.refresh_token), true);
    const next = await ok(await refresh(String(first.refresh_token)));
    assert.notEqual(next.refresh_token, first.refresh_token);
  });

  test('RACE-04 a retry after the window closed revokes the family, the successor included', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    now += GRACE_S * 1000;
    await refused(await refresh(token));
    assert.equal(await active(first.access_token), false);
    assert.equal(await active(first.refresh_token), false);
    await refused(await refresh(String(first.refresh_token)));
  });

  test('RACE-04 a retry once the successor has been used is reuse: the family is revoked', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    const second = await ok(await refresh(String(first.refresh_token)));
    now += 1000;
    await refused(await refresh(token));
    assert.equal(await active(second.refresh_token), false);
    assert.equal(await active(second.access_token), false);
  });

  test('RACE-04 a token revoked (not rotated) is not retried: presenting it revokes the family', async () => {
    const { token, familyId } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    const revoked = await s.postForm('/oauth2/revoke', { token: String(first.refresh_token) }, { authorization: basic(a.id, a.secret) });
    assert.equal(revoked.status, 200);
    await refused(await refresh(String(first.refresh_token)));
    assert.equal(await active(first.access_token), false, `family ${familyId} revoked`);
  });

  test('RACE-04 the successor is stored only sealed under the KEK, bound to its row, and only for the window', async () => {
    const { token } = await seedRefreshToken(s, a.id, { now });
    const first = await ok(await refresh(token));
    assert.equal((await ok(await refresh(token))).refresh_token, first.refresh_token, 'the window is open');
    const successor = String(first.refresh_token);
    const rows = successorRows().filter((r) => r.successor === storedDigest(s.keymint.keyring.pepper(), successor));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.expires_at, now + GRACE_S * 1000);
    assert.match(rows[0]!.sealed, /^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    for (const file of readdirSync(s.dataDir)) {
      const bytes = readFileSync(join(s.dataDir, file));
      assert.equal(bytes.includes(successor), false, `${file} holds the successor in clear`);
      assert.equal(bytes.includes(successor.slice(6)), false, `${file} holds the successor's secret part`);
    }
    // A sealed successor moved to another consumed token's row does not open there.
    const { token: other } = await seedRefreshToken(s, a.id, { now });
    await ok(await refresh(other));
    const db = new DatabaseSync(join(s.dataDir, 'keymint.db'), { timeout: 5000 }); // waits out the server's own writes and checkpoints, as the server does
    const [x, y] = db.prepare('SELECT digest, sealed FROM refresh_successors ORDER BY rowid DESC LIMIT 2').all() as Array<{ digest: string; sealed: string }>;
    db.prepare('UPDATE refresh_successors SET sealed = ? WHERE digest = ?').run(y!.sealed, x!.digest);
    db.close();
    now += 1000;
    await refused(await refresh(other));
    // When the window closes the purge takes every sealed successor at once, with no grace after it.
    now += GRACE_S * 1000;
    await s.keymint.purger.run();
    assert.deepEqual(successorRows(), []);
  });
});

test('RACE-04 the sealed successor is deleted when its window closes, without waiting for a purge', async (t) => {
  const s = await startGrantServer({ refreshReuseGrace: '1', purgeIntervalMs: '0' });
  t.after(() => s.close());
  const c = await s.client({ grants: ['refresh_token'], scopes: ['read'] });
  const { token } = await seedRefreshToken(s, c.id, { scope: 'read' });
  const count = () => {
    const db = new DatabaseSync(join(s.dataDir, 'keymint.db'), { readOnly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM refresh_successors').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  // setTimeout's clock is the test's from here: the window's end comes when the test says, not when
  // a loaded machine lets a second pass between the answer and the count.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const res = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token }, { authorization: basic(c.id, c.secret) });
  assert.equal(res.status, 200);
  assert.equal(count(), 1);
  t.mock.timers.tick(999);
  await new Promise((r) => setImmediate(r));
  assert.equal(count(), 1, 'kept within the window');
  t.mock.timers.tick(1);
  // The delete is a write that waits for an fsync: turns of the event loop until it lands (hang guard 10 s).
  const deadline = Date.now() + 10_000;
  while (count() !== 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(count(), 0);
});

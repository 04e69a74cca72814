import assert from 'node:assert/strict';
import { jtiDigest, REVOKED_FAMILY_RETENTION_MS, type PurgeBatch, type Store } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { codeRecord, sessionRecord, tokenRecord } from './records.ts';

const inPass = async (s: Store, fn: (batch: PurgeBatch) => Promise<void>) => {
  const ran = await s.purge.exclusive(async (batch) => {
    await fn(batch);
    return true;
  });
  assert.equal(ran, true, 'the pass ran');
};

export function purgeContract(test: StoreTest): void {
  test('GROW-01 a purge batch removes at most its limit of the rows expired before the cutoff, and nothing live', async (s) => {
    for (const d of ['p1:e1', 'p1:e2', 'p1:e3']) await s.tokens.insert(tokenRecord(d, { familyId: null, expiresAt: 100 }));
    await s.tokens.insert(tokenRecord('p1:live', { familyId: null, expiresAt: 5_000 }));
    await s.codes.insert(codeRecord('p1:c-old', { expiresAt: 100 }));
    await s.codes.insert(codeRecord('p1:c-new', { expiresAt: 5_000 }));
    await s.sessions.insert(sessionRecord('ses_old', { digest: 'p1:s1', expiresAt: 100 }));
    await s.sessions.insert(sessionRecord('ses_new', { digest: 'p1:s2', expiresAt: 5_000 }));
    assert.equal(await s.replays.claim('dpop:old', 100, 50), true);
    assert.equal(await s.replays.claim('dpop:new', 5_000, 50), true);
    await inPass(s, async (batch) => {
      assert.equal(await batch('tokens', 1_000, 2), 2);
      assert.equal(await batch('tokens', 1_000, 2), 1);
      assert.equal(await batch('tokens', 1_000, 2), 0);
      assert.equal(await batch('codes', 1_000, 10), 1);
      assert.equal(await batch('sessions', 1_000, 10), 1);
      assert.equal(await batch('replays', 1_000, 10), 1);
      assert.equal(await batch('tokens', 100, 10), 0, 'expired at the cutoff is not before it');
    });
    assert.equal(await s.tokens.find(['p1:e1', 'p1:e2', 'p1:e3']), undefined);
    assert.ok(await s.tokens.find(['p1:live']));
    assert.equal(await s.codes.find(['p1:c-old']), undefined);
    assert.ok(await s.codes.find(['p1:c-new']));
    assert.equal(await s.sessions.get('ses_old'), undefined);
    assert.ok(await s.sessions.get('ses_new'));
    assert.equal(await s.replays.claim('dpop:old', 9_000, 1_000), true, 'purged: claimable again');
    assert.equal(await s.replays.claim('dpop:new', 9_000, 1_000), false, 'live: still refused');
  });

  test('GROW-01 the revocation feed loses entries whose JWT expired; cursors taken before stay valid', async (s) => {
    await s.tokens.insert(tokenRecord(jtiDigest('old'), { kind: 'access_token', familyId: null, expiresAt: 100, revokedAt: 10 }));
    const mid = await s.tokens.revocations(undefined, 10);
    await s.tokens.insert(tokenRecord(jtiDigest('new'), { kind: 'access_token', familyId: null, expiresAt: 5_000, revokedAt: 20 }));
    await inPass(s, async (batch) => {
      assert.equal(await batch('revocation_feed', 1_000, 10), 1);
      assert.equal(await batch('tokens', 1_000, 10), 1);
    });
    assert.deepEqual((await s.tokens.revocations(undefined, 10)).revocations, [{ jti: 'new', expiresAt: 5_000 }]);
    assert.deepEqual((await s.tokens.revocations(mid.cursor, 10)).revocations, [{ jti: 'new', expiresAt: 5_000 }]);
  });

  test('GROW-01 a revoked family keeps its mark until the retention ends, then the mark is purged', async (s) => {
    await s.tokens.revokeFamily('famz', 1_000);
    const kept = 1_000 + REVOKED_FAMILY_RETENTION_MS;
    await inPass(s, async (batch) => assert.equal(await batch('revoked_families', kept, 10), 0));
    await assert.rejects(s.tokens.insert(tokenRecord('p1:z1', { familyId: 'famz' })));
    await inPass(s, async (batch) => assert.equal(await batch('revoked_families', kept + 1, 10), 1));
    await s.tokens.insert(tokenRecord('p1:z2', { familyId: 'famz' }));
  });

  test('GROW-01 console sessions go after their absolute end and sign-in links after their expiry, used or not, in batches', async (s) => {
    const session = (digest: string, expiresAt: number) => ({ digest, user: 'ann', createdAt: 10, expiresAt, seenAt: 10, endedAt: null });
    const link = (digest: string, expiresAt: number) => ({ digest, user: 'ann', createdAt: 10, expiresAt, usedAt: null });
    for (const d of ['cs:old1', 'cs:old2', 'cs:old3']) await s.consoleSessions.insert(session(d, 100));
    await s.consoleSessions.insert(session('cs:live', 5_000));
    await s.consoleLinks.insert(link('cl:old', 100));
    await s.consoleLinks.insert(link('cl:used', 200));
    assert.ok(await s.consoleLinks.consume('cl:used', 150));
    await s.consoleLinks.insert(link('cl:live', 5_000));
    await inPass(s, async (batch) => {
      assert.equal(await batch('console_sessions', 1_000, 2), 2);
      assert.equal(await batch('console_sessions', 1_000, 2), 1);
      assert.equal(await batch('console_sessions', 1_000, 2), 0);
      assert.equal(await batch('console_links', 100, 10), 0, 'expired at the cutoff is not before it');
      assert.equal(await batch('console_links', 1_000, 10), 2);
    });
    for (const d of ['cs:old1', 'cs:old2', 'cs:old3']) assert.equal(await s.consoleSessions.find(d), undefined, d);
    assert.equal((await s.consoleSessions.find('cs:live'))?.user, 'ann');
    assert.equal((await s.consoleLinks.consume('cl:live', 1_000))?.user, 'ann', 'the live link is kept');
  });

  test('GROW-01 purge passes are exclusive: a second pass while one runs does not run', async (s) => {
    let inner: unknown = 'unset';
    await inPass(s, async () => {
      inner = await s.purge.exclusive(async () => true);
    });
    assert.equal(inner, undefined);
    assert.equal(await s.purge.exclusive(async () => 'again'), 'again', 'free again once the first pass ended');
  });
}

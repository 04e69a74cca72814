import assert from 'node:assert/strict';
import { ConflictError, jtiDigest } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { codeRecord, tokenRecord } from './records.ts';

export function codesContract(test: StoreTest): void {
  test('consume is won exactly once, even when raced', async (s) => {
    await s.codes.insert(codeRecord('p1:c'));
    await assert.rejects(s.codes.insert(codeRecord('p1:c')), ConflictError);
    assert.deepEqual(await s.codes.find(['p1:c']), codeRecord('p1:c'));
    const wins = await Promise.all(Array.from({ length: 50 }, () => s.codes.consume('p1:c', 7)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await s.codes.find(['p1:c']))?.consumedAt, 7);
    assert.equal(await s.codes.consume('p1:unknown', 7), false);
  });

  test('DP-06 LOGOUT-10 a code keeps the DPoP key thumbprint it is bound to, its resource and its session id', async (s) => {
    const bound = codeRecord('p1:bound', { dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', resource: 'https://api.example', sessionId: 'ses_0123456789abcdef' });
    await s.codes.insert(bound);
    assert.deepEqual(await s.codes.find(['p1:bound']), bound);
    assert.equal((await s.codes.find(['p1:unknown', 'p1:bound']))?.dpopJkt, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  test('C-06 RACE-01 redeem: the code is consumed in the write that stores its tokens, won exactly once', async (s) => {
    await s.codes.insert(codeRecord('p1:c'));
    const issued = (i: number) => [tokenRecord(`jti:a${i}`, { kind: 'access_token', familyId: 'fam' }), tokenRecord(`p1:r${i}`, { familyId: 'fam' })];
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.codes.redeem('p1:c', 7, issued(i))));
    assert.equal(wins.filter(Boolean).length, 1);
    const winner = wins.indexOf(true);
    assert.equal((await s.codes.find(['p1:c']))?.consumedAt, 7);
    for (let i = 0; i < 20; i++) {
      const stored = await Promise.all(issued(i).map((t) => s.tokens.find([t.digest])));
      assert.equal(stored.every((t) => t !== undefined), i === winner, `tokens of attempt ${i}`);
      assert.equal(stored.some((t) => t !== undefined), i === winner);
    }
    assert.equal(await s.codes.redeem('p1:c', 8, issued(99)), false, 'consumed');
    assert.equal(await s.codes.redeem('p1:unknown', 8, issued(98)), false, 'unknown');
    assert.equal(await s.tokens.find(['p1:r99']), undefined);
  });

  test('RACE-03 redeem into a revoked family writes nothing', async (s) => {
    await s.codes.insert(codeRecord('p1:c', { familyId: 'famx' }));
    await s.tokens.revokeFamily('famx', 5);
    assert.equal(await s.codes.redeem('p1:c', 7, [tokenRecord('p1:r', { familyId: 'famx' })]), false);
    assert.equal(await s.tokens.find(['p1:r']), undefined);
  });

  test('RACE-01 a losing redemption revokes the family the winner wrote, whatever order the two land in (30 rounds)', async (s) => {
    // After the winner's write: the loser's revocation reaches the tokens it stored.
    await s.codes.insert(codeRecord('p1:won', { familyId: 'fam-after' }));
    const won = [tokenRecord(jtiDigest('won'), { kind: 'access_token', familyId: 'fam-after' }), tokenRecord('p1:won-r', { familyId: 'fam-after' })];
    assert.equal(await s.codes.redeem('p1:won', 7, won), true);
    assert.equal(await s.codes.redeem('p1:won', 8, [tokenRecord('p1:lost-r', { familyId: 'fam-after' })]), false);
    assert.equal(await s.tokens.revokeFamily('fam-after', 8), 2);
    for (const t of won) assert.equal((await s.tokens.find([t.digest]))?.revokedAt, 8, t.digest);
    // Raced: the loser's revocation (a loser that found the code consumed) lands before, between or
    // after the redemptions; a redemption after it must fail, one before it must be revoked by it.
    for (let round = 0; round < 30; round++) {
      const family = `fam-code-${round}`;
      await s.codes.insert(codeRecord(`p1:code${round}`, { familyId: family }));
      const issued = (i: number) => [tokenRecord(jtiDigest(`c${round}-${i}`), { kind: 'access_token', familyId: family }), tokenRecord(`p1:c${round}-${i}`, { familyId: family })];
      const writes: Array<Promise<unknown>> = [s.codes.redeem(`p1:code${round}`, 10, issued(0)), s.codes.redeem(`p1:code${round}`, 10, issued(1))];
      writes.splice(round % 3, 0, s.tokens.revokeFamily(family, 11));
      await Promise.all(writes);
      for (const t of [...issued(0), ...issued(1)]) {
        const stored = await s.tokens.find([t.digest]);
        assert.ok(stored === undefined || stored.revokedAt !== null, `round ${round}: ${t.digest} is live`);
      }
    }
  });

  test('redeem: a duplicate token digest fails the whole write, the code stays unconsumed', async (s) => {
    await s.codes.insert(codeRecord('p1:c'));
    await s.tokens.insert(tokenRecord('p1:taken', { familyId: null }));
    await assert.rejects(s.codes.redeem('p1:c', 7, [tokenRecord('p1:new', { familyId: 'fam' }), tokenRecord('p1:taken', { familyId: 'fam' })]), ConflictError);
    assert.equal((await s.codes.find(['p1:c']))?.consumedAt, null);
    assert.equal(await s.tokens.find(['p1:new']), undefined);
  });
}

import assert from 'node:assert/strict';
import { ConflictError, jtiDigest, RevokedFamilyError } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { tokenRecord } from './records.ts';

export function tokensContract(test: StoreTest): void {
  test('insert, find by candidate digests; a duplicate digest conflicts', async (store) => {
    await store.tokens.insert(tokenRecord('p1:aa'));
    assert.deepEqual(await store.tokens.find(['p2:aa', 'p1:aa']), tokenRecord('p1:aa'));
    assert.equal(await store.tokens.find(['p9:zz']), undefined);
    assert.equal(await store.tokens.find([]), undefined);
    await assert.rejects(store.tokens.insert(tokenRecord('p1:aa')), ConflictError);
  });

  test('revoke is single-use under concurrency; revokeFamily', async (store) => {
    await store.tokens.insert(tokenRecord('d1'));
    await store.tokens.insert(tokenRecord('d2'));
    await store.tokens.insert(tokenRecord('d3', { familyId: 'other', expiresAt: 100 }));
    const wins = await Promise.all(Array.from({ length: 20 }, () => store.tokens.revoke('d1', 777)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await store.tokens.find(['d1']))?.revokedAt, 777);
    assert.equal(await store.tokens.revoke('missing', 1), false);
    assert.equal(await store.tokens.revokeFamily('fam1', 888), 1);
    assert.equal((await store.tokens.find(['d2']))?.revokedAt, 888);
    assert.equal(await store.tokens.revokeFamily('fam1', 999), 0);
  });

  test('rotate: consume and successors in one write, won exactly once', async (s) => {
    const meta = { subjectType: 'user', authTime: 3, familyExpiresAt: 9, grantedScope: 'a b' };
    await s.tokens.insert(tokenRecord('p1:old', { meta }));
    assert.deepEqual((await s.tokens.find(['p1:old']))?.meta, meta);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.tokens.rotate('p1:old', 5, [tokenRecord(`p1:new${i}`)])));
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.ok(await s.tokens.find([`p1:new${winner}`]));
    for (let i = 0; i < 50; i++) if (i !== winner) assert.equal(await s.tokens.find([`p1:new${i}`]), undefined);
    assert.equal((await s.tokens.find(['p1:old']))?.revokedAt, 5);
  });

  test('rotate: a failing successor insert leaves the old token live', async (s) => {
    await s.tokens.insert(tokenRecord('p1:a'));
    await s.tokens.insert(tokenRecord('p1:taken'));
    await assert.rejects(s.tokens.rotate('p1:a', 5, [tokenRecord('p1:taken')]), ConflictError);
    assert.equal((await s.tokens.find(['p1:a']))?.revokedAt, null);
  });

  test('RT-11 extend: 20 concurrent keep-alives of one live token all succeed, each storing its access token; the idle deadline slides, never back', async (s) => {
    await s.tokens.insert(tokenRecord('p1:kept', { familyId: 'famk', expiresAt: 2_000 }));
    const access = (i: number) => tokenRecord(jtiDigest(`k${i}`), { kind: 'access_token', familyId: 'famk' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.tokens.extend('p1:kept', 1_500, 3_000 + i, [access(i)])));
    assert.deepEqual(results, Array(20).fill(true));
    for (let i = 0; i < 20; i++) assert.ok(await s.tokens.find([jtiDigest(`k${i}`)]), `access ${i}`);
    const kept = await s.tokens.find(['p1:kept']);
    assert.equal(kept?.expiresAt, 3_019);
    assert.equal(kept?.revokedAt, null);
    assert.equal(await s.tokens.extend('p1:kept', 1_600, 2_500, []), true);
    assert.equal((await s.tokens.find(['p1:kept']))?.expiresAt, 3_019, 'never moved back');
  });

  test('RT-11 extend: an expired, revoked or unknown token, or a revoked family, writes nothing', async (s) => {
    await s.tokens.insert(tokenRecord('p1:idle', { familyId: 'fami', expiresAt: 2_000 }));
    assert.equal(await s.tokens.extend('p1:idle', 2_000, 5_000, [tokenRecord(jtiDigest('i1'), { kind: 'access_token', familyId: 'fami' })]), false);
    assert.equal((await s.tokens.find(['p1:idle']))?.expiresAt, 2_000);
    assert.equal(await s.tokens.find([jtiDigest('i1')]), undefined);
    await s.tokens.insert(tokenRecord('p1:rev', { familyId: 'famv' }));
    await s.tokens.revoke('p1:rev', 10);
    assert.equal(await s.tokens.extend('p1:rev', 20, 20_000_000, []), false);
    assert.equal((await s.tokens.find(['p1:rev']))?.expiresAt, 10_000_000);
    assert.equal(await s.tokens.extend('p1:none', 20, 5_000, []), false);
    await s.tokens.insert(tokenRecord('p1:fam', { familyId: 'famx' }));
    await s.tokens.revokeFamily('famx', 30);
    assert.equal(await s.tokens.extend('p1:fam', 40, 20_000_000, [tokenRecord(jtiDigest('x1'), { kind: 'access_token', familyId: 'famx' })]), false);
    assert.equal(await s.tokens.find([jtiDigest('x1')]), undefined);
  });

  test('revokeClient revokes every live token of that client only', async (s) => {
    await s.tokens.insert(tokenRecord('p1:x'));
    await s.tokens.insert(tokenRecord('p1:y', { clientId: 'c2' }));
    assert.equal(await s.tokens.revokeClient('c1', 9), 1);
    assert.equal((await s.tokens.find(['p1:y']))?.revokedAt, null);
  });

  test('revocations: revoked jti records in order, by cursor', async (s) => {
    assert.deepEqual(await s.tokens.revocations(undefined, 10), { revocations: [], cursor: (await s.tokens.revocations(undefined, 10)).cursor });
    await s.tokens.insert(tokenRecord(jtiDigest('j1'), { kind: 'access_token', familyId: 'fa', expiresAt: 111 }));
    await s.tokens.insert(tokenRecord(jtiDigest('j2'), { kind: 'access_token', familyId: null, expiresAt: 222, revokedAt: 4 }));
    await s.tokens.insert(tokenRecord('p1:opaque', { familyId: 'fa' }));
    await s.tokens.revokeFamily('fa', 5);
    const first = await s.tokens.revocations(undefined, 1);
    assert.deepEqual(first.revocations, [{ jti: 'j2', expiresAt: 222 }]);
    const second = await s.tokens.revocations(first.cursor, 10);
    assert.deepEqual(second.revocations, [{ jti: 'j1', expiresAt: 111 }]);
    const third = await s.tokens.revocations(second.cursor, 10);
    assert.deepEqual(third, { revocations: [], cursor: second.cursor });
  });

  test('RACE-03 a revoked family refuses every later insert and rotation, and keeps its mark', async (s) => {
    await s.tokens.insert(tokenRecord('p1:r', { familyId: 'famr' }));
    assert.equal(await s.tokens.revokeFamily('famr', 5), 1);
    await assert.rejects(s.tokens.insert(tokenRecord('p1:late', { familyId: 'famr' })), RevokedFamilyError);
    assert.equal(await s.tokens.find(['p1:late']), undefined);
    // Revoked before any of its tokens exists (a code's loser ahead of its winner): the same.
    assert.equal(await s.tokens.revokeFamily('famq', 6), 0);
    await assert.rejects(s.tokens.insert(tokenRecord(jtiDigest('jq'), { kind: 'access_token', familyId: 'famq' })), RevokedFamilyError);
    await s.tokens.insert(tokenRecord('p1:q-old', { familyId: 'famp' }));
    assert.equal(await s.tokens.rotate('p1:q-old', 7, [tokenRecord('p1:q-new', { familyId: 'famq' })]), false);
    assert.equal((await s.tokens.find(['p1:q-old']))?.revokedAt, null, 'nothing written');
    assert.equal(await s.tokens.find(['p1:q-new']), undefined);
    await s.tokens.insert(tokenRecord('p1:free', { familyId: null }));
  });

  test('RACE-03 revokeFamily racing rotations and inserts into the family: nothing of it stays live (30 rounds)', async (s) => {
    for (let round = 0; round < 30; round++) {
      const family = `fam-race-${round}`;
      await s.tokens.insert(tokenRecord(`p1:old${round}`, { familyId: family }));
      const writes: Array<Promise<unknown>> = [
        s.tokens.rotate(`p1:old${round}`, 10, [tokenRecord(`p1:new${round}`, { familyId: family }), tokenRecord(jtiDigest(`a${round}`), { kind: 'access_token', familyId: family })]),
        s.tokens.insert(tokenRecord(jtiDigest(`b${round}`), { kind: 'access_token', familyId: family })).catch((err: unknown) => {
          if (!(err instanceof RevokedFamilyError)) throw err;
        }),
      ];
      // The revocation lands before, between or after the writes.
      const order = round % 3;
      if (order === 0) writes.unshift(s.tokens.revokeFamily(family, 11));
      else if (order === 1) writes.splice(1, 0, s.tokens.revokeFamily(family, 11));
      else writes.push(s.tokens.revokeFamily(family, 11));
      await Promise.all(writes);
      for (const digest of [`p1:old${round}`, `p1:new${round}`, jtiDigest(`a${round}`), jtiDigest(`b${round}`)]) {
        const t = await s.tokens.find([digest]);
        assert.ok(t === undefined || t.revokedAt !== null, `round ${round}: ${digest} is live`);
      }
    }
  });
}

export function successorContract(test: StoreTest): void {
  test('RACE-04 rotate stores the sealed successor in the winning write only; successor() while the window is open; forgetSuccessor', async (s) => {
    await s.tokens.insert(tokenRecord('p1:g0'));
    const sealed = (i: number) => ({ digest: `p1:g${i}`, sealed: `v2.iv.body${i}`, expiresAt: 5_000 });
    const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => s.tokens.rotate('p1:g0', 1_000, [tokenRecord(`p1:g${i + 1}`)], sealed(i + 1))));
    assert.equal(wins.filter(Boolean).length, 1);
    const winner = wins.indexOf(true) + 1;
    assert.deepEqual(await s.tokens.successor('p1:g0', 4_999), sealed(winner));
    assert.equal(await s.tokens.successor('p1:g0', 5_000), undefined, 'closed at its expiry');
    assert.equal(await s.tokens.successor('p1:other', 1_000), undefined);
    await s.tokens.forgetSuccessor('p1:g0');
    assert.equal(await s.tokens.successor('p1:g0', 1_000), undefined);
  });
}

import assert from 'node:assert/strict';
import { ConflictError, ConsentMissingError, type DeviceCodeRecord } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { tokenRecord } from './records.ts';

export const deviceRecord = (digest: string, over: Partial<DeviceCodeRecord> = {}): DeviceCodeRecord => ({
  digest,
  userCode: `u:${digest}`,
  clientId: 'sk_test_dev',
  scope: 'read',
  issuedAt: 1_000,
  expiresAt: 10_000,
  interval: 5,
  polledAt: null,
  status: 'pending',
  subject: null,
  subjectType: null,
  authTime: null,
  decidedAt: null,
  sessionId: null,
  familyId: `fam-${digest}`,
  ...over,
});

const approval = { subject: 'user-1', subjectType: 'user' as const, authTime: 1, sessionId: 'ses_1' };

export function deviceCodesContract(test: StoreTest): void {
  test('insert and find by either digest; a duplicate device code or user code is a ConflictError', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:d'));
    assert.deepEqual(await s.deviceCodes.find(['p0:x', 'p1:d']), deviceRecord('p1:d'));
    assert.deepEqual(await s.deviceCodes.findByUserCode(['u:p0', 'u:p1:d']), deviceRecord('p1:d'));
    assert.equal(await s.deviceCodes.find(['p1:none']), undefined);
    assert.equal(await s.deviceCodes.findByUserCode(['u:none']), undefined);
    await assert.rejects(s.deviceCodes.insert(deviceRecord('p1:d', { userCode: 'u:other' })), ConflictError);
    await assert.rejects(s.deviceCodes.insert(deviceRecord('p1:e', { userCode: 'u:p1:d' })), ConflictError);
  });

  test('decide is won exactly once while pending and unexpired', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:d'));
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.deviceCodes.decide('p1:d', 2_000, i % 2 === 0 ? approval : undefined)));
    assert.equal(wins.filter(Boolean).length, 1);
    const rec = await s.deviceCodes.find(['p1:d']);
    assert.equal(rec?.decidedAt, 2_000);
    assert.ok(rec?.status === 'approved' || rec?.status === 'denied');
    // BCL-09: an approval keeps the session it was made in (its ID tokens' sid); a denial none.
    assert.equal(rec?.sessionId, rec?.status === 'approved' ? 'ses_1' : null);
    await s.deviceCodes.insert(deviceRecord('p1:late'));
    assert.equal(await s.deviceCodes.decide('p1:late', 10_000, approval), false, 'expired');
    assert.equal(await s.deviceCodes.decide('p1:unknown', 2_000, approval), false);
  });

  test('poll: sooner than the interval is too fast and adds 5 s; every poll is the previous one', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:d'));
    assert.equal(await s.deviceCodes.poll('p1:unknown', 1_000), undefined);
    const first = await s.deviceCodes.poll('p1:d', 1_000);
    assert.deepEqual([first?.tooFast, first?.record.interval, first?.record.polledAt], [false, 5, 1_000]);
    const fast = await s.deviceCodes.poll('p1:d', 5_999);
    assert.deepEqual([fast?.tooFast, fast?.record.interval, fast?.record.polledAt], [true, 10, 5_999]);
    const ok = await s.deviceCodes.poll('p1:d', 15_999);
    assert.deepEqual([ok?.tooFast, ok?.record.interval], [false, 10]);
    assert.deepEqual((await s.deviceCodes.find(['p1:d']))?.interval, 10);
  });

  test('DEV-08 redeem: an approved request is redeemed in the write that stores its tokens, won exactly once', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:d', { familyId: 'famd' }));
    const issued = (i: number) => [tokenRecord(`jti:d${i}`, { kind: 'access_token', familyId: 'famd' }), tokenRecord(`p1:dr${i}`, { familyId: 'famd' })];
    assert.equal(await s.deviceCodes.redeem('p1:d', 1_500, issued(90)), false, 'pending');
    assert.equal(await s.deviceCodes.decide('p1:d', 2_000, approval), true);
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.deviceCodes.redeem('p1:d', 3_000, issued(i))));
    assert.equal(wins.filter(Boolean).length, 1);
    const winner = wins.indexOf(true);
    for (let i = 0; i < 20; i++) {
      const stored = await Promise.all(issued(i).map((t) => s.tokens.find([t.digest])));
      assert.equal(stored.every((t) => t !== undefined), i === winner, `tokens of attempt ${i}`);
      assert.equal(stored.some((t) => t !== undefined), i === winner);
    }
    assert.equal((await s.deviceCodes.find(['p1:d']))?.status, 'redeemed');
    assert.equal(await s.deviceCodes.redeem('p1:d', 4_000, issued(99)), false, 'redeemed');
  });

  test('DEV-09 redeem with a consent check: without a covering consent nothing is written', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:d'));
    await s.deviceCodes.decide('p1:d', 2_000, approval);
    const check = { clientId: 'sk_test_dev', subjectType: 'user' as const, subject: 'user-1', scopes: ['read'] };
    await assert.rejects(s.deviceCodes.redeem('p1:d', 3_000, [tokenRecord('p1:r', { familyId: 'fam-p1:d' })], check), ConsentMissingError);
    assert.equal(await s.tokens.find(['p1:r']), undefined);
    await s.consents.grant('sk_test_dev', 'user', 'user-1', ['read'], 2_500);
    assert.equal(await s.deviceCodes.redeem('p1:d', 3_000, [tokenRecord('p1:r', { familyId: 'fam-p1:d' })], check), true);
    assert.ok(await s.tokens.find(['p1:r']));
  });

  test('GROW-01 purge removes expired requests, and their user codes with them', async (s) => {
    await s.deviceCodes.insert(deviceRecord('p1:old', { expiresAt: 100 }));
    await s.deviceCodes.insert(deviceRecord('p1:new', { expiresAt: 5_000 }));
    const n = await s.purge.exclusive((batch) => batch('device_codes', 1_000, 10));
    assert.equal(n, 1);
    assert.equal(await s.deviceCodes.find(['p1:old']), undefined);
    assert.equal(await s.deviceCodes.findByUserCode(['u:p1:old']), undefined);
    assert.ok(await s.deviceCodes.find(['p1:new']));
    await s.deviceCodes.insert(deviceRecord('p1:again', { userCode: 'u:p1:old' }));
  });
}

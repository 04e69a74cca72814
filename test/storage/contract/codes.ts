import assert from 'node:assert/strict';
import { ConflictError } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { codeRecord } from './records.ts';

export function codesContract(test: StoreTest): void {
  test('consume is won exactly once, even when raced; purgeExpired', async (s) => {
    await s.codes.insert(codeRecord('p1:c'));
    await assert.rejects(s.codes.insert(codeRecord('p1:c')), ConflictError);
    assert.deepEqual(await s.codes.find(['p1:c']), codeRecord('p1:c'));
    const wins = await Promise.all(Array.from({ length: 50 }, () => s.codes.consume('p1:c', 7)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await s.codes.find(['p1:c']))?.consumedAt, 7);
    assert.equal(await s.codes.consume('p1:unknown', 7), false);
    assert.equal(await s.codes.purgeExpired(61_001), 1);
  });
}

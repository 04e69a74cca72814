import assert from 'node:assert/strict';
import { ConflictError } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { sessionRecord } from './records.ts';

export function sessionsContract(test: StoreTest): void {
  test('insert, find by any candidate digest, get, end once; a duplicate digest conflicts', async (s) => {
    const rec = sessionRecord('ses_1');
    await s.sessions.insert(rec);
    await assert.rejects(s.sessions.insert({ ...rec, id: 'ses_2' }), ConflictError);
    assert.deepEqual(await s.sessions.find(['p0:zz', 'p1:aa']), rec);
    assert.deepEqual(await s.sessions.get('ses_1'), rec);
    assert.equal(await s.sessions.find(['p9:none']), undefined);
    assert.equal(await s.sessions.end('ses_1', 5), true);
    assert.equal(await s.sessions.end('ses_1', 6), false);
    assert.equal((await s.sessions.get('ses_1'))?.endedAt, 5);
  });
}

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

  test('BCL-03 addClient records each client once, however many calls race, in the order first recorded; nothing for an unknown session', async (s) => {
    await s.sessions.insert(sessionRecord('ses_1'));
    await s.sessions.insert(sessionRecord('ses_2', { digest: 'p1:bb' }));
    assert.deepEqual(await s.sessions.clients('ses_1'), []);
    await s.sessions.addClient('ses_1', 'client-a');
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.sessions.addClient('ses_1', i % 2 === 0 ? 'client-b' : 'client-a')));
    await s.sessions.addClient('ses_2', 'client-c');
    await s.sessions.addClient('ses_unknown', 'client-a');
    assert.deepEqual(await s.sessions.clients('ses_1'), ['client-a', 'client-b']);
    assert.deepEqual(await s.sessions.clients('ses_2'), ['client-c']);
    assert.deepEqual(await s.sessions.clients('ses_unknown'), []);
    // Ending keeps them (the end is when they are read) and the record reads as before.
    assert.equal(await s.sessions.end('ses_1', 5), true);
    assert.deepEqual(await s.sessions.clients('ses_1'), ['client-a', 'client-b']);
    assert.deepEqual(await s.sessions.get('ses_2'), sessionRecord('ses_2', { digest: 'p1:bb' }));
  });
}

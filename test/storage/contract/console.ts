import assert from 'node:assert/strict';
import { ConflictError, type ConsoleLinkRecord, type ConsoleSessionRecord, type ConsoleUserRecord } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';

const user = (name: string, over: Partial<ConsoleUserRecord> = {}): ConsoleUserRecord => ({
  name,
  role: 'admin',
  passwordHash: 'scrypt$32768$8$1$c2FsdA$aGFzaA',
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});
const session = (digest: string, over: Partial<ConsoleSessionRecord> = {}): ConsoleSessionRecord => ({
  digest,
  user: 'ann',
  createdAt: 1000,
  expiresAt: 9000,
  seenAt: 1000,
  endedAt: null,
  ...over,
});
const link = (digest: string, over: Partial<ConsoleLinkRecord> = {}): ConsoleLinkRecord => ({
  digest,
  user: 'ann',
  createdAt: 1000,
  expiresAt: 2000,
  usedAt: null,
  ...over,
});

export function consoleContract(test: StoreTest): void {
  test('users: insert, get, list by name; a duplicate name conflicts', async (s) => {
    await s.consoleUsers.insert(user('bob', { role: 'viewer' }));
    await s.consoleUsers.insert(user('ann'));
    await assert.rejects(s.consoleUsers.insert(user('ann', { role: 'viewer' })), ConflictError);
    assert.deepEqual(await s.consoleUsers.get('bob'), user('bob', { role: 'viewer' }));
    assert.equal(await s.consoleUsers.get('nobody'), undefined);
    assert.deepEqual((await s.consoleUsers.list()).map((u) => `${u.name}:${u.role}`), ['ann:admin', 'bob:viewer']);
    assert.equal(await s.consoleUsers.setPassword('ann', 'scrypt$new', 2000), true);
    assert.deepEqual(await s.consoleUsers.get('ann'), user('ann', { passwordHash: 'scrypt$new', updatedAt: 2000 }));
    assert.equal(await s.consoleUsers.setPassword('nobody', 'scrypt$new', 2000), false);
    assert.equal(await s.consoleUsers.get('nobody'), undefined);
  });

  test('users: delete takes the user’s sessions and links with it, and no one else’s', async (s) => {
    await s.consoleUsers.insert(user('ann'));
    await s.consoleUsers.insert(user('bob'));
    await s.consoleSessions.insert(session('s-ann'));
    await s.consoleSessions.insert(session('s-bob', { user: 'bob' }));
    await s.consoleLinks.insert(link('l-ann'));
    await s.consoleLinks.insert(link('l-bob', { user: 'bob' }));
    assert.equal(await s.consoleUsers.delete('ann'), true);
    assert.equal(await s.consoleUsers.delete('ann'), false);
    assert.equal(await s.consoleUsers.get('ann'), undefined);
    assert.equal(await s.consoleSessions.find('s-ann'), undefined);
    assert.equal(await s.consoleLinks.consume('l-ann', 1500), undefined);
    assert.equal((await s.consoleSessions.find('s-bob'))?.user, 'bob');
    assert.equal((await s.consoleLinks.consume('l-bob', 1500))?.user, 'bob');
  });

  test('sessions: insert, find, touch, end once, purge by absolute end; a duplicate digest conflicts', async (s) => {
    await s.consoleSessions.insert(session('d1'));
    await s.consoleSessions.insert(session('d2', { expiresAt: 3000 }));
    await assert.rejects(s.consoleSessions.insert(session('d1')), ConflictError);
    assert.deepEqual(await s.consoleSessions.find('d1'), session('d1'));
    await s.consoleSessions.touch('d1', 1500);
    assert.equal((await s.consoleSessions.find('d1'))?.seenAt, 1500);
    assert.equal(await s.consoleSessions.end('d1', 1600), true);
    assert.equal(await s.consoleSessions.end('d1', 1700), false);
    assert.equal((await s.consoleSessions.find('d1'))?.endedAt, 1600);
    assert.equal(await s.consoleSessions.purgeExpired(4000), 1);
    assert.equal(await s.consoleSessions.find('d2'), undefined);
    assert.equal((await s.consoleSessions.find('d1'))?.user, 'ann');
  });

  test('links: consumed once, never after expiry; of 10 concurrent consumers exactly one wins', async (s) => {
    await s.consoleLinks.insert(link('l1'));
    await assert.rejects(s.consoleLinks.insert(link('l1')), ConflictError);
    assert.equal(await s.consoleLinks.consume('l1', 2000), undefined, 'expired at expiresAt');
    assert.deepEqual(await s.consoleLinks.consume('l1', 1999), link('l1', { usedAt: 1999 }));
    assert.equal(await s.consoleLinks.consume('l1', 1999), undefined);
    assert.equal(await s.consoleLinks.consume('unknown', 1500), undefined);
    await s.consoleLinks.insert(link('race'));
    const results = await Promise.all(Array.from({ length: 10 }, () => s.consoleLinks.consume('race', 1500)));
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    await s.consoleLinks.insert(link('old', { expiresAt: 1200 }));
    assert.equal(await s.consoleLinks.purgeExpired(1900), 1);
  });
}

/**
 * Storage contract for issue 4 (sessions, codes, refresh rotation, revocation feed), parameterised
 * by backend: `runGrantsContract('postgres', makeStore)` plugs in another store after the merge.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { ConflictError, jtiDigest, type CodeRecord, type Store, type TokenRecord } from '../../src/storage/types.ts';

const token = (digest: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
  digest,
  kind: 'refresh_token',
  clientId: 'c1',
  subject: 'u1',
  scope: 'a b',
  audience: ['https://api'],
  issuedAt: 1000,
  expiresAt: 10_000_000,
  revokedAt: null,
  familyId: 'f1',
  jti: `j-${digest}`,
  ...over,
});

const code = (digest: string): CodeRecord => ({
  digest,
  clientId: 'c1',
  redirectUri: 'https://app/cb',
  scope: 'openid',
  codeChallenge: 'x'.repeat(43),
  codeChallengeMethod: 'S256',
  nonce: 'n',
  subject: 'u1',
  subjectType: 'user',
  authTime: 1,
  issuedAt: 1000,
  expiresAt: 61_000,
  consumedAt: null,
  familyId: 'fam',
});

/** `makeStore` may skip the test (`t.skip`) and resolve undefined, e.g. when its service is down. */
export function runGrantsContract(name: string, makeStore: (t: TestContext) => Promise<Store | undefined> | Store | undefined): void {
  describe(`grants storage contract: ${name}`, () => {
    const withStore = (fn: (s: Store) => Promise<void>) => async (t: TestContext) => {
      const store = await makeStore(t);
      if (!store) return;
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    test('sessions: insert, find by any candidate digest, get, end once', withStore(async (s) => {
      const rec = { id: 'ses_1', digest: 'p1:aa', subject: 'u1', subjectType: 'user' as const, organizations: ['o1'], createdAt: 1, expiresAt: 2, endedAt: null };
      await s.sessions.insert(rec);
      await assert.rejects(s.sessions.insert({ ...rec, id: 'ses_2' }), ConflictError);
      assert.deepEqual(await s.sessions.find(['p0:zz', 'p1:aa']), rec);
      assert.deepEqual(await s.sessions.get('ses_1'), rec);
      assert.equal(await s.sessions.find(['p9:none']), undefined);
      assert.equal(await s.sessions.end('ses_1', 5), true);
      assert.equal(await s.sessions.end('ses_1', 6), false);
      assert.equal((await s.sessions.get('ses_1'))?.endedAt, 5);
    }));

    test('codes: consume is won exactly once, even when raced', withStore(async (s) => {
      await s.codes.insert(code('p1:c'));
      await assert.rejects(s.codes.insert(code('p1:c')), ConflictError);
      assert.deepEqual(await s.codes.find(['p1:c']), code('p1:c'));
      const wins = await Promise.all(Array.from({ length: 50 }, () => s.codes.consume('p1:c', 7)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal((await s.codes.find(['p1:c']))?.consumedAt, 7);
      assert.equal(await s.codes.consume('p1:unknown', 7), false);
      assert.equal(await s.codes.purgeExpired(61_001), 1);
    }));

    test('tokens.rotate: consume and successors in one write, won exactly once', withStore(async (s) => {
      await s.tokens.insert(token('p1:old', { meta: { subjectType: 'user', authTime: 3, familyExpiresAt: 9, grantedScope: 'a b' } }));
      assert.deepEqual((await s.tokens.find(['p1:old']))?.meta, { subjectType: 'user', authTime: 3, familyExpiresAt: 9, grantedScope: 'a b' });
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.tokens.rotate('p1:old', 5, [token(`p1:new${i}`)])));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.ok(await s.tokens.find([`p1:new${winner}`]));
      for (let i = 0; i < 50; i++) if (i !== winner) assert.equal(await s.tokens.find([`p1:new${i}`]), undefined);
      assert.equal((await s.tokens.find(['p1:old']))?.revokedAt, 5);
    }));

    test('tokens.rotate: a failing successor insert leaves the old token live', withStore(async (s) => {
      await s.tokens.insert(token('p1:a'));
      await s.tokens.insert(token('p1:taken'));
      await assert.rejects(s.tokens.rotate('p1:a', 5, [token('p1:taken')]));
      assert.equal((await s.tokens.find(['p1:a']))?.revokedAt, null);
    }));

    test('tokens.revokeClient revokes every live token of that client only', withStore(async (s) => {
      await s.tokens.insert(token('p1:x'));
      await s.tokens.insert(token('p1:y', { clientId: 'c2' }));
      assert.equal(await s.tokens.revokeClient('c1', 9), 1);
      assert.equal((await s.tokens.find(['p1:y']))?.revokedAt, null);
    }));

    test('tokens.revocations: revoked jti records in order, by cursor', withStore(async (s) => {
      assert.deepEqual(await s.tokens.revocations(undefined, 10), { revocations: [], cursor: (await s.tokens.revocations(undefined, 10)).cursor });
      await s.tokens.insert(token(jtiDigest('j1'), { kind: 'access_token', familyId: 'fa', expiresAt: 111 }));
      await s.tokens.insert(token(jtiDigest('j2'), { kind: 'access_token', familyId: null, expiresAt: 222, revokedAt: 4 }));
      await s.tokens.insert(token('p1:opaque', { familyId: 'fa' }));
      await s.tokens.revokeFamily('fa', 5);
      const first = await s.tokens.revocations(undefined, 1);
      assert.deepEqual(first.revocations, [{ jti: 'j2', expiresAt: 222 }]);
      const second = await s.tokens.revocations(first.cursor, 10);
      assert.deepEqual(second.revocations, [{ jti: 'j1', expiresAt: 111 }]);
      const third = await s.tokens.revocations(second.cursor, 10);
      assert.deepEqual(third, { revocations: [], cursor: second.cursor });
    }));
  });
}

import assert from 'node:assert/strict';
import { ConsentMissingError, jtiDigest, RevokedFamilyError, type TokenRecord } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';
import { deviceRecord } from './device-codes.ts';
import { codeRecord, tokenRecord } from './records.ts';

/** A token of `subject` (a user unless said) for `clientId`, in `familyId`. */
const tokenOf = (digest: string, clientId: string, subject: string, familyId: string | null, over: Partial<TokenRecord> = {}): TokenRecord =>
  tokenRecord(digest, { clientId, subject, familyId, meta: { subjectType: 'user' }, ...over });

export function consentsContract(test: StoreTest): void {
  test('grant adds scopes in the order first approved; get is per (client, subject type, subject); revoke once', async (s) => {
    assert.equal(await s.consents.get('c1', 'user', 'alice'), undefined);
    assert.deepEqual(await s.consents.grant('c1', 'user', 'alice', ['openid', 'a'], 10),
      { clientId: 'c1', subject: 'alice', subjectType: 'user', scope: 'openid a', grantedAt: 10 });
    assert.deepEqual(await s.consents.grant('c1', 'user', 'alice', ['b', 'a'], 20),
      { clientId: 'c1', subject: 'alice', subjectType: 'user', scope: 'openid a b', grantedAt: 20 });
    assert.deepEqual(await s.consents.get('c1', 'user', 'alice'),
      { clientId: 'c1', subject: 'alice', subjectType: 'user', scope: 'openid a b', grantedAt: 20 });
    // Another subject, subject type or client has none of it.
    assert.equal(await s.consents.get('c1', 'user', 'bob'), undefined);
    assert.equal(await s.consents.get('c1', 'organization', 'alice'), undefined);
    assert.equal(await s.consents.get('c2', 'user', 'alice'), undefined);
    await s.consents.grant('c1', 'user', 'bob', ['openid'], 30);
    assert.equal(await s.consents.revoke('c1', 'user', 'alice'), true);
    assert.equal(await s.consents.revoke('c1', 'user', 'alice'), false);
    assert.equal(await s.consents.get('c1', 'user', 'alice'), undefined);
    assert.equal((await s.consents.get('c1', 'user', 'bob'))?.scope, 'openid');
  });

  test('revokeClient removes every consent of that client and no other client\'s', async (s) => {
    await s.consents.grant('c1', 'user', 'alice', ['a'], 1);
    await s.consents.grant('c1', 'organization', '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09', ['a'], 1);
    await s.consents.grant('c2', 'user', 'alice', ['a'], 1);
    assert.equal(await s.consents.revokeClient('c1', 5), 2);
    assert.equal(await s.consents.get('c1', 'user', 'alice'), undefined);
    assert.equal(await s.consents.get('c1', 'organization', '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09'), undefined);
    assert.equal((await s.consents.get('c2', 'user', 'alice'))?.scope, 'a');
    assert.equal(await s.consents.revokeClient('c1', 6), 0);
  });

  test('CON-04 RT-08 revokeClient also ends the client\'s unredeemed codes and approved, unpolled device requests of every subject, and its tokens: they issue nothing later; another client\'s redeem', async (s) => {
    const approved = { status: 'approved' as const, subjectType: 'user' as const, authTime: 1, decidedAt: 2 };
    await s.codes.insert(codeRecord('p1:c1-code', { clientId: 'c1', subject: 'alice', familyId: 'fc1' }));
    await s.codes.insert(codeRecord('p1:c2-code', { clientId: 'c2', subject: 'alice', familyId: 'fc2' }));
    await s.deviceCodes.insert(deviceRecord('p1:c1-dev', { ...approved, clientId: 'c1', subject: 'bob', familyId: 'fd1' }));
    await s.deviceCodes.insert(deviceRecord('p1:c2-dev', { ...approved, clientId: 'c2', subject: 'bob', familyId: 'fd2' }));
    await s.tokens.insert(tokenOf('p1:c1-rt', 'c1', 'carol', 'fr1'));
    assert.equal(await s.consents.revokeClient('c1', 100), 0);
    assert.equal((await s.tokens.find(['p1:c1-rt']))?.revokedAt, 100);
    assert.equal(await s.codes.redeem('p1:c1-code', 101, [tokenOf('p1:from-c1-code', 'c1', 'alice', 'fc1')]), false);
    assert.equal(await s.deviceCodes.redeem('p1:c1-dev', 101, [tokenOf('p1:from-c1-dev', 'c1', 'bob', 'fd1')]), false);
    for (const digest of ['p1:from-c1-code', 'p1:from-c1-dev']) assert.equal(await s.tokens.find([digest]), undefined, digest);
    assert.equal(await s.codes.redeem('p1:c2-code', 101, [tokenOf('p1:from-c2-code', 'c2', 'alice', 'fc2')]), true);
    assert.equal(await s.deviceCodes.redeem('p1:c2-dev', 101, [tokenOf('p1:from-c2-dev', 'c2', 'bob', 'fd2')]), true);
  });

  test('concurrent grants for one (client, subject) keep every grant\'s scopes', async (s) => {
    const scopes = Array.from({ length: 10 }, (_, i) => `s${i}`);
    await Promise.all(scopes.map((scope, i) => s.consents.grant('c1', 'user', 'alice', [scope], i)));
    const stored = (await s.consents.get('c1', 'user', 'alice'))?.scope.split(' ').sort();
    assert.deepEqual(stored, [...scopes].sort());
  });

  test('CON-05 list: the consents of the subject by client id, each with whether a refresh token of it is live', async (s) => {
    await s.consents.grant('c2', 'user', 'alice', ['a'], 5);
    await s.consents.grant('c1', 'user', 'alice', ['b'], 7);
    await s.consents.grant('c3', 'user', 'alice', ['c'], 9);
    await s.consents.grant('c1', 'user', 'bob', ['a'], 1);
    await s.consents.grant('c1', 'organization', 'alice', ['a'], 1);
    await s.tokens.insert(tokenOf('p1:live', 'c1', 'alice', 'f1', { expiresAt: 1_000 }));
    await s.tokens.insert(tokenOf('p1:revoked', 'c2', 'alice', 'f2', { revokedAt: 3 }));
    await s.tokens.insert(tokenOf('p1:access', 'c2', 'alice', 'f2', { kind: 'access_token' }));
    await s.tokens.insert(tokenOf('p1:org', 'c3', 'alice', 'f3', { meta: { subjectType: 'organization' } }));
    assert.deepEqual(await s.consents.list('user', 'alice', 999), [
      { clientId: 'c1', subject: 'alice', subjectType: 'user', scope: 'b', grantedAt: 7, liveGrants: true },
      { clientId: 'c2', subject: 'alice', subjectType: 'user', scope: 'a', grantedAt: 5, liveGrants: false },
      { clientId: 'c3', subject: 'alice', subjectType: 'user', scope: 'c', grantedAt: 9, liveGrants: false },
    ]);
    assert.equal((await s.consents.list('user', 'alice', 1_000))[0]?.liveGrants, false, 'expired at 1000');
    assert.deepEqual(await s.consents.list('user', 'carol', 0), []);
  });

  test('CON-05 withdraw: the consent, and the families of the subject for the client (tokens and unredeemed codes) marked and revoked; nothing of another subject or client', async (s) => {
    await s.consents.grant('c1', 'user', 'alice', ['a'], 1);
    await s.consents.grant('c1', 'user', 'bob', ['a'], 1);
    await s.consents.grant('c2', 'user', 'alice', ['a'], 1);
    await s.tokens.insert(tokenOf('p1:a-rt', 'c1', 'alice', 'fa'));
    await s.tokens.insert(tokenOf(jtiDigest('a-at'), 'c1', 'alice', 'fa', { kind: 'access_token' }));
    await s.tokens.insert(tokenOf('p1:a-web', 'c1', 'alice', null));
    await s.tokens.insert(tokenOf('p1:b-rt', 'c1', 'bob', 'fb'));
    await s.tokens.insert(tokenOf('p1:a2-rt', 'c2', 'alice', 'fa2'));
    await s.tokens.insert(tokenOf('p1:a-org', 'c1', 'alice', 'forg', { meta: { subjectType: 'organization' } }));
    await s.codes.insert(codeRecord('p1:code', { clientId: 'c1', subject: 'alice', familyId: 'fcode' }));
    assert.deepEqual(await s.consents.withdraw('c1', 'user', 'alice', 100), { consent: true, tokens: 3 });
    for (const digest of ['p1:a-rt', jtiDigest('a-at'), 'p1:a-web']) assert.equal((await s.tokens.find([digest]))?.revokedAt, 100, digest);
    for (const digest of ['p1:b-rt', 'p1:a2-rt', 'p1:a-org']) assert.equal((await s.tokens.find([digest]))?.revokedAt, null, digest);
    assert.equal(await s.consents.get('c1', 'user', 'alice'), undefined);
    assert.equal((await s.consents.get('c1', 'user', 'bob'))?.scope, 'a');
    assert.equal((await s.consents.get('c2', 'user', 'alice'))?.scope, 'a');
    // The marks: nothing more is written into the families, the code's included.
    await assert.rejects(s.tokens.insert(tokenOf('p1:late', 'c1', 'alice', 'fa')), RevokedFamilyError);
    assert.equal(await s.codes.redeem('p1:code', 101, [tokenOf('p1:from-code', 'c1', 'alice', 'fcode')]), false);
    await s.tokens.insert(tokenOf('p1:b-more', 'c1', 'bob', 'fb'));
    assert.deepEqual(await s.consents.withdraw('c1', 'user', 'alice', 200), { consent: false, tokens: 0 });
  });

  test('CON-05 DEV-09 withdraw marks the families of the subject approved, unredeemed device requests of the client: they redeem nothing, even under a new consent; another subject is untouched', async (s) => {
    const approved = { status: 'approved' as const, clientId: 'c1', subjectType: 'user' as const, authTime: 1, decidedAt: 2 };
    await s.deviceCodes.insert(deviceRecord('p1:da', { ...approved, subject: 'alice', familyId: 'fda' }));
    await s.deviceCodes.insert(deviceRecord('p1:db', { ...approved, subject: 'bob', familyId: 'fdb' }));
    await s.consents.grant('c1', 'user', 'alice', ['read'], 1);
    assert.deepEqual(await s.consents.withdraw('c1', 'user', 'alice', 100), { consent: true, tokens: 0 });
    await s.consents.grant('c1', 'user', 'alice', ['read'], 101);
    assert.equal(await s.deviceCodes.redeem('p1:da', 102, [tokenOf('p1:from-da', 'c1', 'alice', 'fda')]), false);
    assert.equal((await s.deviceCodes.find(['p1:da']))?.status, 'approved');
    assert.equal(await s.tokens.find(['p1:from-da']), undefined, 'nothing stored');
    assert.equal(await s.deviceCodes.redeem('p1:db', 102, [tokenOf('p1:from-db', 'c1', 'bob', 'fdb')]), true);
  });

  test('CON-05 RACE-03 withdraw racing rotations in the families of the subject: nothing of them stays live (30 rounds)', async (s) => {
    for (let round = 0; round < 30; round++) {
      const subject = `racer-${round}`;
      for (let f = 0; f < 3; f++) await s.tokens.insert(tokenOf(`p1:w${round}-${f}-0`, 'c1', subject, `wf-${round}-${f}`));
      const rotations = [0, 1, 2].map(async (f) => {
        const family = `wf-${round}-${f}`;
        for (let i = 0; i < 3; i++) {
          const next = [tokenOf(`p1:w${round}-${f}-${i + 1}`, 'c1', subject, family), tokenOf(jtiDigest(`w${round}-${f}-${i + 1}`), 'c1', subject, family, { kind: 'access_token' })];
          if (!(await s.tokens.rotate(`p1:w${round}-${f}-${i}`, 10, next))) return;
        }
      });
      await Promise.all([...rotations, s.consents.withdraw('c1', 'user', subject, 11)]);
      for (let f = 0; f < 3; f++) {
        for (let i = 0; i <= 3; i++) {
          for (const digest of [`p1:w${round}-${f}-${i}`, jtiDigest(`w${round}-${f}-${i}`)]) {
            const t = await s.tokens.find([digest]);
            assert.ok(t === undefined || t.revokedAt !== null, `round ${round}: ${digest} is live`);
          }
        }
      }
    }
  });
  test('CON-06 a redemption that must find a consent: none, or a narrower one, rejects and writes nothing; a covering one redeems', async (s) => {
    const check = { clientId: 'c1', subjectType: 'user' as const, subject: 'alice', scopes: ['openid', 'a'] };
    await s.codes.insert(codeRecord('p1:code', { clientId: 'c1', subject: 'alice', familyId: 'fc' }));
    const issued = [tokenOf('p1:rt', 'c1', 'alice', 'fc')];
    await assert.rejects(s.codes.redeem('p1:code', 10, issued, check), ConsentMissingError);
    await s.consents.grant('c1', 'user', 'alice', ['openid'], 11);
    await s.consents.grant('c1', 'organization', 'alice', ['openid', 'a'], 11);
    await s.consents.grant('c2', 'user', 'alice', ['openid', 'a'], 11);
    await assert.rejects(s.codes.redeem('p1:code', 12, issued, check), ConsentMissingError);
    assert.equal((await s.codes.find(['p1:code']))?.consumedAt, null, 'not consumed');
    assert.equal(await s.tokens.find(['p1:rt']), undefined, 'nothing stored');
    await s.consents.grant('c1', 'user', 'alice', ['a'], 13);
    assert.equal(await s.codes.redeem('p1:code', 14, issued, check), true);
    assert.equal((await s.tokens.find(['p1:rt']))?.revokedAt, null);
  });

  test('CON-06 RACE-03 a redemption racing a withdrawal that cannot see its code: it lands before and is revoked, or fails (30 rounds)', async (s) => {
    for (let round = 0; round < 30; round++) {
      const subject = `redeemer-${round}`;
      await s.consents.grant('c1', 'user', subject, ['a'], 1);
      // Expired for the withdrawal (at 11), so only the consent stands between them.
      await s.codes.insert(codeRecord(`p1:rc${round}`, { clientId: 'c1', subject, familyId: `rf-${round}`, expiresAt: 5 }));
      const issued = [tokenOf(`p1:rr${round}`, 'c1', subject, `rf-${round}`), tokenOf(jtiDigest(`ra${round}`), 'c1', subject, `rf-${round}`, { kind: 'access_token' })];
      const check = { clientId: 'c1', subjectType: 'user' as const, subject, scopes: ['a'] };
      const [won] = await Promise.all([
        s.codes.redeem(`p1:rc${round}`, 10, issued, check).catch((err: unknown) => (err instanceof ConsentMissingError ? false : Promise.reject(err))),
        s.consents.withdraw('c1', 'user', subject, 11),
      ]);
      for (const t of issued) {
        const found = await s.tokens.find([t.digest]);
        assert.ok(found === undefined || found.revokedAt !== null, `round ${round}: ${t.digest} is live`);
        assert.equal(found !== undefined, won, `round ${round}: stored iff redeemed`);
      }
    }
  });
}

import assert from 'node:assert/strict';
import type { StoreTest } from './index.ts';

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
    assert.equal(await s.consents.revokeClient('c1'), 2);
    assert.equal(await s.consents.get('c1', 'user', 'alice'), undefined);
    assert.equal(await s.consents.get('c1', 'organization', '3c2f8d4a-9e1b-4f6c-8a7d-5b4e3f2a1c09'), undefined);
    assert.equal((await s.consents.get('c2', 'user', 'alice'))?.scope, 'a');
    assert.equal(await s.consents.revokeClient('c1'), 0);
  });

  test('concurrent grants for one (client, subject) keep every grant\'s scopes', async (s) => {
    const scopes = Array.from({ length: 10 }, (_, i) => `s${i}`);
    await Promise.all(scopes.map((scope, i) => s.consents.grant('c1', 'user', 'alice', [scope], i)));
    const stored = (await s.consents.get('c1', 'user', 'alice'))?.scope.split(' ').sort();
    assert.deepEqual(stored, [...scopes].sort());
  });
}

/**
 * Token reuse for client_credentials (per client, off by default; docs/performance.md): a repeated
 * request gets the same token back while enough of its lifetime is left; any change to the client
 * or a revocation of the token ends that; DPoP-bound tokens are never reused; the kept tokens live
 * in process memory only, in a bounded map.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { TokenReuse } from '../../src/protocol/token-reuse.ts';
import type { TokenResult } from '../../src/protocol/token-request.ts';
import { basic, startServer, tempDir, type TestServer } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { dpopProof, keyPair } from '../support/sender.ts';
import { clientRecord } from '../storage/contract/records.ts';

const RS = 'https://rs.example';
const RS2 = 'https://rs2.example';

describe('client_credentials token reuse', () => {
  let s: TestServer;
  let now = Date.parse('2026-11-23T12:00:00Z');
  let plain: { id: string; secret: string };
  let reusing: { id: string; secret: string };
  before(async () => {
    s = await startServer({ dialects: ['oauth2', 'fuuffy'], tokenTtl: '600', resources: [RS, RS2], purgeIntervalMs: '0' }, { now: () => now });
    plain = await s.client({ scopes: ['read', 'write'] });
    reusing = await s.client({ scopes: ['read', 'write'], tokenReuse: true, audiences: [RS, RS2] });
  });
  after(() => s.close());

  const token = async (c: { id: string; secret: string }, form: Record<string, string> = {}) => {
    const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(c.id, c.secret) });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };

  test('off by default: every request is a new token; the client view says so', async () => {
    assert.notEqual((await token(plain)).access_token, (await token(plain)).access_token);
    assert.equal((await s.keymint.clients.show(plain.id)).token_reuse, false);
    assert.equal((await s.keymint.clients.show(reusing.id)).token_reuse, true);
  });

  test('the same client, endpoint, scopes and audience get the same token, its expires_in counted down; any other request a new one', async () => {
    now += 3_600_000;
    const first = await token(reusing, { scope: 'read', resource: RS });
    now += 60_000;
    const again = await token(reusing, { scope: 'read', resource: RS });
    assert.equal(again.access_token, first.access_token);
    assert.equal(first.expires_in, 600);
    assert.equal(again.expires_in, 540);
    assert.notEqual((await token(reusing, { scope: 'read write', resource: RS })).access_token, first.access_token, 'other scopes');
    assert.notEqual((await token(reusing, { scope: 'read', resource: RS2 })).access_token, first.access_token, 'another audience');
    const fuuffy = async () => {
      const res = await s.postForm('/v1/auth/token', { client_id: reusing.id, client_secret: reusing.secret });
      return ((await res.json()) as { data: { access_token: string } }).data.access_token;
    };
    const opaque = await fuuffy();
    assert.match(opaque, /^sk-/, 'another endpoint mints its own format');
    const rows = () => {
      const db = new DatabaseSync(join(s.dataDir, 'keymint.db'), { readOnly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const before = rows();
    assert.equal(await fuuffy(), opaque);
    assert.equal(rows(), before, 'a reused token writes nothing to the store');
  });

  test('once no more than the set fraction (50%) of its lifetime is left, a new token', async () => {
    now += 3_600_000;
    const first = await token(reusing);
    now += 299_000;
    assert.equal((await token(reusing)).access_token, first.access_token);
    now += 1_000;
    assert.notEqual((await token(reusing)).access_token, first.access_token);
  });

  test('a change to the client (update, secret rotation, disable and enable) drops its kept tokens', async () => {
    now += 3_600_000;
    const first = await token(reusing);
    await s.keymint.store.clients.update(reusing.id, (c) => ({ ...c, name: 'renamed', updatedAt: now }));
    const afterUpdate = await token(reusing);
    assert.notEqual(afterUpdate.access_token, first.access_token);
    assert.equal((await token(reusing)).access_token, afterUpdate.access_token);
    await s.keymint.clients.setStatus(reusing.id, 'disabled', 'test');
    await s.keymint.clients.setStatus(reusing.id, 'active', 'test');
    const afterStatus = await token(reusing);
    assert.notEqual(afterStatus.access_token, afterUpdate.access_token);
    const { clientSecret } = await s.keymint.clients.rotateSecret(reusing.id, 0, 'test');
    reusing = { id: reusing.id, secret: clientSecret };
    assert.notEqual((await token(reusing)).access_token, afterStatus.access_token);
  });

  test('a revoked token is never handed out again: revoked here, or recorded revoked by another node', async () => {
    now += 3_600_000;
    const first = await token(reusing);
    const revoked = await s.postForm('/oauth2/revoke', { token: String(first.access_token) }, { authorization: basic(reusing.id, reusing.secret) });
    assert.equal(revoked.status, 200);
    const second = await token(reusing);
    assert.notEqual(second.access_token, first.access_token);
    // Another node's revocation reaches the store, not this process's feed.
    const jti = JSON.parse(Buffer.from(String(second.access_token).split('.')[1]!, 'base64url').toString()).jti as string;
    await s.keymint.store.tokens.insert({ digest: `jti:${jti}`, kind: 'access_token', clientId: reusing.id, subject: reusing.id, scope: '', audience: [], issuedAt: now, expiresAt: now + 600_000, revokedAt: now, familyId: null, jti });
    assert.notEqual((await token(reusing)).access_token, second.access_token);
  });
});

test('DPoP-bound tokens are never reused', async (t) => {
  const s = await startServer({ purgeIntervalMs: '0' });
  t.after(() => s.close());
  const c = await s.client({ scopes: ['read'], tokenReuse: true });
  const key = await keyPair('ES256');
  const htu = `${s.keymint.config.issuer}/oauth2/token`;
  const bound = async () => {
    const res = await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret), dpop: await dpopProof(key, { htu }) });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'DPoP');
    return body.access_token;
  };
  assert.notEqual(await bound(), await bound());
  const bearer = await s.token(c.id, c.secret);
  assert.equal((await s.token(c.id, c.secret)).access_token, bearer.access_token, 'bearer tokens of the same client are reused');
});

test('the kept tokens are bounded: past the limit the oldest goes', async () => {
  const reuse = new TokenReuse({ minRemaining: 0.5, maxEntries: 2 }, { find: async () => undefined });
  const client = clientRecord('c1', { tokenReuse: true });
  const result = (n: number): TokenResult => ({ accessToken: `t${n}`, tokenType: 'Bearer', expiresIn: 600, expiresAt: new Date(600_000), issuedAt: new Date(0), scope: '', clientId: 'c1' });
  for (const n of [1, 2, 3]) reuse.keep(`k${n}`, client, result(n), `jti:${n}`);
  assert.equal(reuse.size, 2);
  assert.equal(await reuse.take('k1', client, 1_000), undefined);
  assert.equal((await reuse.take('k3', client, 1_000))?.accessToken, 't3');
  assert.equal((await reuse.take('k3', client, 1_000))?.expiresIn, 599);
  assert.equal(await reuse.take('k3', { ...client, updatedAt: client.updatedAt + 1 }, 1_000), undefined, 'the client changed');
  assert.equal(reuse.size, 0, 'every kept token of the changed client is dropped');
});

test('the CLI registers a client with token reuse (--token-reuse); without it, off', async (t) => {
  const data = tempDir();
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const on = await cli(['clients', 'create', '--data', data, '--name', 'poller', '--token-reuse', '--json']);
  assert.equal(on.code, 0, on.stderr);
  assert.equal(JSON.parse(on.stdout).token_reuse, true);
  const off = await cli(['clients', 'create', '--data', data, '--name', 'cacher', '--json']);
  assert.equal(JSON.parse(off.stdout).token_reuse, false);
});

/** The admin API: the same ClientService as the CLI, behind a keymint:admin bearer token (RFC 6750 answers). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from './support/harness.ts';

let server: TestServer;
let adminToken: string;
let plainToken: string;
before(async () => {
  server = await startServer({ issuer: 'http://localhost:8080' });
  const admin = await server.client({ admin: true });
  adminToken = String((await server.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
  const plain = await server.client({ scopes: ['read'] });
  plainToken = String((await server.token(plain.id, plain.secret)).access_token);
});
after(() => server.close());

const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
  fetch(`${server.url}/admin/v1/${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

test('B-02 no token → 401 with a bare Bearer challenge; bad token or another audience\'s → invalid_token', async () => {
  const none = await call('GET', 'clients', undefined);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="keymint-admin"');
  const bad = await call('GET', 'clients', `${adminToken.slice(0, -4)}AAAA`);
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_token"');
  // A token for another resource is invalid here (RFC 9068 §4, ADM-03); 403 is for a client that lost keymint:admin since.
  const weak = await call('GET', 'clients', plainToken);
  assert.equal(weak.status, 401);
  assert.equal(weak.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_token"');
  const malformed = await fetch(`${server.url}/admin/v1/clients`, { headers: { authorization: 'Bearer a b' } });
  assert.equal(malformed.status, 400);
});

test('create → show → rotate → disable → enable → delete, with the audit trail naming the actor', async () => {
  const created = await call('POST', 'clients', adminToken, { name: 'svc', scopes: ['x:read'], mode: 'sandbox' });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  const c = (await created.json()) as { client_id: string; client_secret: string; mode: string };
  assert.match(c.client_id, /^sk_sdbx_/);
  assert.match(c.client_secret, /^ks_/);
  assert.equal((await server.token(c.client_id, c.client_secret)).scope, 'x:read');

  const shown = (await (await call('GET', `clients/${c.client_id}`, adminToken)).json()) as Record<string, unknown>;
  assert.equal(shown.client_id, c.client_id);
  assert.equal('client_secret' in shown, false);
  assert.ok(!JSON.stringify(shown).includes(c.client_secret));

  const rotated = (await (await call('POST', `clients/${c.client_id}/rotate-secret`, adminToken, { expire_old_in: 0 })).json()) as { client_secret: string };
  await assert.rejects(server.token(c.client_id, c.client_secret));
  await server.token(c.client_id, rotated.client_secret);

  assert.equal(((await (await call('POST', `clients/${c.client_id}/disable`, adminToken)).json()) as { status: string }).status, 'disabled');
  await assert.rejects(server.token(c.client_id, rotated.client_secret));
  assert.equal((await call('POST', `clients/${c.client_id}/enable`, adminToken)).status, 200);
  assert.equal((await call('DELETE', `clients/${c.client_id}`, adminToken)).status, 204);
  assert.equal((await call('GET', `clients/${c.client_id}`, adminToken)).status, 404);

  const events = ((await (await call('GET', 'audit?limit=10', adminToken)).json()) as { events: Array<{ action: string; actor: string; target: string }> }).events;
  const mine = events.filter((e) => e.target === c.client_id).map((e) => e.action);
  assert.deepEqual(mine, ['client.delete', 'client.enable', 'client.disable', 'client.rotate_secret', 'client.create']);
  assert.ok(events.every((e) => !JSON.stringify(e).includes(rotated.client_secret)));
  assert.match(events[0]!.actor, /^admin:sk_live_/);
});

test('bad input is a 400 naming the field, never a 500, never a change', async () => {
  const before = ((await (await call('GET', 'clients', adminToken)).json()) as { clients: unknown[] }).clients.length;
  for (const body of [{ name: '' }, { name: 'x', scopes: 'read' }, { name: 'x', scopes: ['a"b'] }, { name: 'x', grants: ['password'] }, { name: 'x', ttl: -5 }, { name: 5 }]) {
    const res = await call('POST', 'clients', adminToken, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  }
  const notJson = await fetch(`${server.url}/admin/v1/clients`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{' });
  assert.equal(notJson.status, 400);
  const after = ((await (await call('GET', 'clients', adminToken)).json()) as { clients: unknown[] }).clients.length;
  assert.equal(after, before);
});

test('keys: list shows no private material; rotate promotes the published next key', async () => {
  const keys = ((await (await call('GET', 'keys', adminToken)).json()) as { keys: Array<Record<string, unknown>> }).keys;
  assert.ok(keys.every((k) => !('sealed' in k)));
  const next = keys.find((k) => k.use === 'sig' && k.state === 'next' && k.alg === 'RS256')!;
  const after = ((await (await call('POST', 'keys/rotate', adminToken)).json()) as { keys: Array<Record<string, unknown>> }).keys;
  assert.equal(after.find((k) => k.kid === next.kid)!.state, 'active');
});

test('a token of a client that was disabled since stops working for the admin API', async () => {
  const admin = await server.client({ admin: true });
  const t = String((await server.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
  assert.equal((await call('GET', 'keys', t)).status, 200);
  await server.keymint.clients.setStatus(admin.id, 'disabled', 'test');
  assert.equal((await call('GET', 'keys', t)).status, 401);
});

/** The admin API: the same ClientService as the CLI, behind a keymint:admin bearer token (RFC 6750 answers). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from './support/harness.ts';
import { send } from './support/hostile.ts';

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
  assert.equal(malformed.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_request"');
  assert.deepEqual(await malformed.json(), { error: 'invalid_request', error_description: 'The Authorization header is malformed.' });
  const twice = await send(`${server.url}/admin/v1/clients`, { method: 'GET', headers: { authorization: [`Bearer ${adminToken}`, `Bearer ${adminToken}`] } });
  assert.equal(twice.status, 400);
  assert.equal(twice.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_request"');
  // The scheme is case-insensitive (RFC 9110 §11.1).
  assert.equal((await fetch(`${server.url}/admin/v1/clients`, { headers: { authorization: `bEARER ${adminToken}` } })).status, 200);
  // Another scheme is no bearer token: the bare challenge, without an error code (RFC 6750 §3.1).
  for (const authorization of ['Basic YTpi', 'DPoP abc']) {
    const other = await fetch(`${server.url}/admin/v1/clients`, { headers: { authorization } });
    assert.equal(other.status, 401, authorization);
    assert.equal(other.headers.get('www-authenticate'), 'Bearer realm="keymint-admin"', authorization);
    assert.deepEqual(await other.json(), { error: 'invalid_token', error_description: 'A bearer token is required.' });
  }
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

test('CE-01 PATCH /clients/{id} changes settings, answers the view, and the token endpoint follows', async () => {
  const created = (await (await call('POST', 'clients', adminToken, { name: 'partner', scopes: ['payments:read'] })).json()) as { client_id: string; client_secret: string };
  const res = await call('PATCH', `clients/${created.client_id}`, adminToken, {
    scopes: ['payments:read', 'payments:write'],
    rate_limit: 120,
    access_token_ttl: 300,
    metadata: { partner: 'acme' },
    claims: { tenant: 'acme' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const view = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(view.scopes, ['payments:read', 'payments:write']);
  assert.equal(view.rate_limit, 120);
  assert.equal(view.access_token_ttl, 300);
  assert.deepEqual(view.metadata, { partner: 'acme' });
  assert.deepEqual(view.claims, { tenant: 'acme' });
  assert.equal('client_secret' in view, false);
  const token = await server.token(created.client_id, created.client_secret, { scope: 'payments:write' });
  assert.equal(token.scope, 'payments:write');
  assert.equal(token.expires_in, 300);
  // list and show carry the metadata too.
  const listed = ((await (await call('GET', 'clients', adminToken)).json()) as { clients: Array<Record<string, unknown>> }).clients.find((c) => c.client_id === created.client_id)!;
  assert.deepEqual(listed.metadata, { partner: 'acme' });
  // null resets to the default.
  const reset = (await (await call('PATCH', `clients/${created.client_id}`, adminToken, { rate_limit: null, access_token_ttl: null })).json()) as Record<string, unknown>;
  assert.equal(reset.rate_limit, null);
  assert.equal(reset.access_token_ttl, null);
  const events = ((await (await call('GET', 'audit?limit=5', adminToken)).json()) as { events: Array<{ action: string; actor: string; target: string; detail: Record<string, unknown> }> }).events;
  const update = events.find((e) => e.target === created.client_id && e.action === 'client.update')!;
  assert.match(update.actor, /^admin:sk_live_/);
  assert.equal(update.detail.changed, 'access_token_ttl,rate_limit');
});

test('CE-01 PATCH refuses what cannot change, unknown fields and bad values with 400 naming the field; nothing changes', async () => {
  const created = (await (await call('POST', 'clients', adminToken, { name: 'fixed', scopes: ['a'] })).json()) as { client_id: string };
  const before = await (await call('GET', `clients/${created.client_id}`, adminToken)).json();
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ client_id: 'other' }, 'client_id'],
    [{ mode: 'sandbox' }, 'mode'],
    [{ type: 'public' }, 'type'],
    [{ client_secret: 'x'.repeat(20) }, 'client_secret'],
    [{ scopse: ['a'] }, 'scopse'],
    [{ scopes: 'a' }, 'scopes'],
    [{ name: 7 }, 'name'],
    [{ rate_limit: '5' }, 'rate_limit'],
    [{ trusted: 'yes' }, 'trusted'],
    [{ claims: { iss: 'me' } }, 'claims'],
    [{ claims: { client_id: 'me' } }, 'claims'],
    [{ metadata: ['a'] }, 'metadata'],
    [{ name: 'ok', ttl: 10 ** 9 }, 'ttl'],
  ];
  for (const [body, field] of cases) {
    const res = await call('PATCH', `clients/${created.client_id}`, adminToken, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const problem = (await res.json()) as { error: string; field: string };
    assert.equal(problem.error, 'invalid_request');
    assert.equal(problem.field, field, JSON.stringify(body));
  }
  assert.deepEqual(await (await call('GET', `clients/${created.client_id}`, adminToken)).json(), before);
  assert.equal((await call('PATCH', 'clients/sk_live_000000000000000000000000', adminToken, { name: 'x' })).status, 404);
});

test('CE-06 POST /clients with client_id and client_secret imports a client; the secret is not echoed in any view; a duplicate is 409', async () => {
  const secret = 'imported-secret-from-vault-0001';
  const res = await call('POST', 'clients', adminToken, { name: 'imported', client_id: 'partner-7', client_secret: secret, scopes: ['a'] });
  assert.equal(res.status, 201);
  const body = (await res.json()) as { client_id: string };
  assert.equal(body.client_id, 'partner-7');
  assert.equal((await server.token('partner-7', secret)).scope, 'a');
  const shown = await (await call('GET', 'clients/partner-7', adminToken)).text();
  assert.ok(!shown.includes(secret));
  const dup = await call('POST', 'clients', adminToken, { name: 'again', client_id: 'partner-7', client_secret: 'another-secret-0000000' });
  assert.equal(dup.status, 409);
  assert.deepEqual(await dup.json(), { error: 'conflict', error_description: 'a client with this client_id exists already', field: 'client_id' });
  const short = await call('POST', 'clients', adminToken, { name: 'short', client_id: 'partner-8', client_secret: 'too-short' });
  assert.equal(short.status, 400);
  assert.equal(((await short.json()) as { field: string }).field, 'client_secret');
  assert.equal((await call('GET', 'clients/partner-8', adminToken)).status, 404);
});

test('S-08 a rotation overlap past a year (2^53 s, 1e308 s) is 400 naming expire_old_in, and the client is left as it was', async () => {
  const admin = server.keymint.clients;
  const { client } = await admin.create({ name: 'overlap', scopes: ['read'] }, 'test');
  const before = await server.keymint.store.clients.get(client.client_id);
  for (const overlap of [2 ** 53, 1e308, 31_536_001]) {
    const res = await call('POST', `clients/${client.client_id}/rotate-secret`, adminToken, { expire_old_in: overlap });
    assert.equal(res.status, 400, `expire_old_in ${overlap}`);
    assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'the overlap must be a whole number of seconds in 0..31536000', field: 'expire_old_in' });
  }
  assert.deepEqual(await server.keymint.store.clients.get(client.client_id), before, 'no secret rotated');
  assert.equal((await call('GET', `clients/${client.client_id}`, adminToken)).status, 200);
  assert.equal((await call('POST', `clients/${client.client_id}/rotate-secret`, adminToken, { expire_old_in: 31_536_000 })).status, 200, 'a year is accepted');
  assert.equal((await call('GET', 'clients', adminToken)).status, 200, 'the list still renders');
});

test('a method a path does not take is 405 with Allow, and changes nothing; HEAD reads like GET; unknown paths stay 404', async () => {
  const { client } = await server.keymint.clients.create({ name: 'methods', scopes: ['read'] }, 'test');
  const cases: Array<[string, string, string]> = [
    ['PUT', 'clients', 'GET, HEAD, POST'],
    ['DELETE', 'clients', 'GET, HEAD, POST'],
    ['POST', `clients/${client.client_id}`, 'GET, HEAD, PATCH, DELETE'],
    ['GET', `clients/${client.client_id}/disable`, 'POST'],
    ['DELETE', `clients/${client.client_id}/rotate-secret`, 'POST'],
    ['GET', 'sessions', 'POST'],
    ['PATCH', 'keys', 'GET, HEAD'],
    ['GET', 'keys/rotate', 'POST'],
    ['POST', 'audit', 'GET, HEAD'],
  ];
  const before = JSON.stringify(await server.keymint.clients.list());
  for (const [method, path, allow] of cases) {
    const res = await call(method, path, adminToken, method === 'GET' ? undefined : { name: 'x' });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    assert.deepEqual(await res.json(), { error: 'method_not_allowed', error_description: `This endpoint accepts only ${allow}.` });
  }
  assert.equal(JSON.stringify(await server.keymint.clients.list()), before);
  const head = await call('HEAD', `clients/${client.client_id}`, adminToken);
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  for (const path of ['nope', 'clients//disable', `clients/${client.client_id}/nope`, 'keys/x', 'audit/x', 'clients//']) assert.equal((await call('POST', path, adminToken, {})).status, 404, path);
  // One trailing slash names the same endpoint, for reading and for a 405 alike.
  for (const path of ['clients/', `clients/${client.client_id}/`, 'keys/', 'audit/']) assert.equal((await call('GET', path, adminToken)).status, 200, path);
  assert.equal((await call('PUT', 'keys/', adminToken, {})).headers.get('allow'), 'GET, HEAD');
});

test('S-08 audit: a limit that is not one whole number in 1..1000 is 400 naming limit, not the default in disguise', async () => {
  for (const q of ['limit=0', 'limit=-1', 'limit=1.5', 'limit=abc', 'limit=1001', 'limit=1e3', 'limit=%zz', 'limit=', 'limit=10&limit=20', 'limit=0x10', 'limit=%201']) {
    const res = await call('GET', `audit?${q}`, adminToken);
    assert.equal(res.status, 400, q);
    assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'limit must be a whole number in 1..1000', field: 'limit' }, q);
  }
  for (const [q, most] of [['limit=1', 1], ['limit=1000', 1000], ['', 100]] as const) {
    const res = await call('GET', `audit?${q}`, adminToken);
    assert.equal(res.status, 200, q);
    assert.ok(((await res.json()) as { events: unknown[] }).events.length <= most, q);
  }
});

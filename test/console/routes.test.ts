/**
 * The console's pages over HTTP against a real server: an admin creates a client and reads its
 * secret once, gets a token with it, rotates it, disables it (its token requests then refused) and
 * deletes it; keys rotate; the audit log filters and pages; the traffic page and JSON follow traffic.
 * Every page answered is checked for an error page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { Browser, signedIn } from './support.ts';

async function consoleServer(t: { after(fn: () => Promise<void>): void }): Promise<TestServer> {
  const server = await startServer({ console: 'true', dialects: ['oauth2', 'orum'] });
  t.after(() => server.close());
  return server;
}

/** A page that rendered without an error. */
async function page(b: Browser, path: string, status = 200): Promise<string> {
  const res = await b.get(path);
  const body = await res.text();
  assert.equal(res.status, status, `${path}: ${body.slice(0, 300)}`);
  if (status < 400) assert.doesNotMatch(body, /data-error=/, path);
  else assert.match(body, new RegExp(`data-error="${status}"`), path);
  return body;
}

const tokenRequest = (server: TestServer, id: string, secret: string) =>
  fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) }, body: 'grant_type=client_credentials' });

test('create a client and read its secret once, get a token, rotate, disable (tokens refused), enable, delete; all audited under the user', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  await page(ann, '/console/clients/new');
  const csrf = await ann.csrf('/console/clients/new');
  // A refused form comes back with the field named and nothing created.
  const bad = await ann.post('/console/clients/new', { csrf, name: 'Billing', mode: 'live', type: 'confidential', scopes: 'bad"scope', grants: 'client_credentials' });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /a scope contains characters outside RFC 6749/);
  assert.equal((await server.keymint.clients.list()).length, 0);

  const created = await ann.post('/console/clients/new', { csrf, name: 'Billing <b>', mode: 'live', type: 'confidential', scopes: 'payments:read payments:write', grants: 'client_credentials', ttl: '600' });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  const html = await created.text();
  const secret = /id="secret-value" value="(ks_[A-Za-z0-9]+)"/.exec(html)?.[1];
  const [client] = await server.keymint.clients.list();
  assert.ok(secret && client);
  assert.match(html, /Billing &lt;b&gt;/);
  assert.deepEqual(client.scopes, ['payments:read', 'payments:write']);
  assert.equal(client.access_token_ttl, 600);
  const id = client.client_id;
  // The secret is shown once: the detail page never has it.
  const detail = await page(ann, `/console/clients/${id}`);
  assert.ok(!detail.includes(secret));
  assert.equal((await tokenRequest(server, id, secret)).status, 200);

  await page(ann, `/console/clients/${id}/rotate`);
  const rotated = await ann.post(`/console/clients/${id}/rotate`, { csrf, overlap: '0' });
  assert.equal(rotated.status, 200);
  const second = /id="secret-value" value="(ks_[A-Za-z0-9]+)"/.exec(await rotated.text())?.[1];
  assert.ok(second && second !== secret);
  assert.equal((await tokenRequest(server, id, secret)).status, 401, 'overlap 0: the old secret ends at once');
  assert.equal((await tokenRequest(server, id, second)).status, 200);

  await page(ann, `/console/clients/${id}/disable`);
  const disabled = await ann.post(`/console/clients/${id}/disable`, { csrf });
  assert.equal(disabled.status, 303);
  assert.match(await page(ann, disabled.headers.get('location')!), /The client is disabled; its tokens were revoked\./);
  assert.equal((await tokenRequest(server, id, second)).status, 401);
  assert.equal((await ann.post(`/console/clients/${id}/enable`, { csrf })).status, 303);
  assert.equal((await tokenRequest(server, id, second)).status, 200);

  await page(ann, `/console/clients/${id}/delete`);
  const deleted = await ann.post(`/console/clients/${id}/delete`, { csrf });
  assert.equal(deleted.headers.get('location'), '/console/clients?done=deleted');
  await page(ann, `/console/clients/${id}`, 404);
  assert.equal((await ann.post(`/console/clients/${id}/disable`, { csrf })).status, 404);

  const audit = (await server.keymint.store.audit.query({ target: id }, 20)).events.map((e) => `${e.actor} ${e.action}`);
  assert.deepEqual(audit, ['console:ann client.delete', 'console:ann client.enable', 'console:ann client.disable', 'console:ann client.rotate_secret', 'console:ann client.create']);
});

test('the clients list filters by search, dialect, mode and status', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const a = await server.client({ name: 'Alpha', dialects: ['orum'] });
  const b = await server.client({ name: 'Beta', mode: 'sandbox' });
  const c = await server.client({ name: 'Gamma', dialects: ['oauth2'] });
  await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
  const shown = async (q: string) => {
    const body = await page(ann, `/console/clients?${q}`);
    return [a, b, c].filter((x) => body.includes(x.id)).map((x) => x.id);
  };
  assert.deepEqual(await shown(''), [a.id, b.id, c.id]);
  assert.deepEqual(await shown('q=alp'), [a.id]);
  assert.deepEqual(await shown('dialect=orum'), [a.id, b.id]);
  assert.deepEqual(await shown('mode=sandbox'), [b.id]);
  assert.deepEqual(await shown('status=disabled'), [c.id]);
});

test('keys: current, next and retired per algorithm; an admin rotates them (audited), a viewer cannot', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const before = server.keymint.keyring.describe().filter((k) => k.use === 'sig' && k.state === 'next').map((k) => k.kid);
  const keys = await page(ann, '/console/keys');
  for (const kid of before) assert.ok(keys.includes(kid), kid);
  const res = await ann.post('/console/keys/rotate', { csrf: await ann.csrf('/console/keys') });
  assert.equal(res.headers.get('location'), '/console/keys?done=keys-rotated');
  const active = server.keymint.keyring.describe().filter((k) => k.use === 'sig' && k.state === 'active').map((k) => k.kid);
  assert.deepEqual(active.sort(), before.sort(), 'the next keys sign now');
  assert.match(await page(ann, '/console/keys'), /retired/);
  const audit = await server.keymint.store.audit.query({ action: 'key.rotate' }, 5);
  assert.equal(audit.events[0]?.actor, 'console:ann');
  const vic = await signedIn(server, 'vic', 'viewer');
  const viewerPage = await page(vic, '/console/keys');
  assert.doesNotMatch(viewerPage, /action="\/console\/keys\/rotate"/, 'no rotate control for a viewer');
  assert.equal((await vic.post('/console/keys/rotate', { csrf: await vic.csrf('/console/keys') })).status, 403);
  assert.equal((await server.keymint.store.audit.query({ action: 'key.rotate' }, 5)).events.length, 1);
});

test('audit: filters by client, actor and action (client. for all client actions) and pages by keyset', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) ids.push((await server.client({ name: `c${i}` })).id);
  await server.keymint.clients.setStatus(ids[0]!, 'disabled', 'console:bob');
  const first = await page(ann, '/console/audit?action=client.create');
  assert.equal((first.match(/<code>client\.create<\/code>/g) ?? []).length, 50);
  assert.match(first, /rel="next"/);
  const second = await page(ann, '/console/audit?action=client.create&page=2');
  assert.equal((second.match(/<code>client\.create<\/code>/g) ?? []).length, 10);
  assert.doesNotMatch(second, /rel="next"/);
  assert.ok(second.includes(ids[0]!) && !second.includes(ids[59]!), 'page 2 holds the oldest');
  const byClient = await page(ann, `/console/audit?client=${ids[0]}&action=client.`);
  assert.equal((byClient.match(/<code>client\.(create|disable)<\/code>/g) ?? []).length, 2);
  const byActor = await page(ann, '/console/audit?actor=console%3Abob');
  assert.equal((byActor.match(/<code>client\.disable<\/code>/g) ?? []).length, 1);
});

test('traffic: the JSON and the page follow tokens issued and refused', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const c = await server.client({ name: 'Busy' });
  for (let i = 0; i < 5; i++) await server.token(c.id, c.secret);
  assert.equal((await tokenRequest(server, c.id, `${c.secret.slice(0, -1)}${c.secret.endsWith('x') ? 'y' : 'x'}`)).status, 401);
  await new Promise((r) => setTimeout(r, 1100)); // the figures end at the last complete second
  const res = await ann.get('/console/api/traffic');
  assert.equal(res.status, 200);
  const v = (await res.json()) as { nodes: number; totals: { tokens: number }; topClients: Array<{ client_id: string; tokens: number }>; refusals: Record<string, number>; seconds: Array<{ tokens: Record<string, number> }> };
  assert.equal(v.nodes, 1);
  assert.equal(v.totals.tokens, 5);
  assert.deepEqual(v.topClients, [{ client_id: c.id, tokens: 5 }]);
  assert.equal(v.refusals.invalid_client, 1);
  assert.equal(v.seconds.reduce((n, s) => n + (s.tokens.oauth2 ?? 0), 0), 5);
  const body = await page(ann, '/console/traffic');
  assert.match(body, /Busy/);
});

test('edit: the scopes, claims and metadata change from the form; the next token carries the new scopes; a refused form names its field', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  const c = await server.client({ name: 'Editable', scopes: ['a:read'] });
  const form = await page(ann, `/console/clients/${c.id}/edit`);
  assert.match(form, /a:read/);
  const csrf = await ann.csrf(`/console/clients/${c.id}/edit`);
  const fields = { csrf, name: 'Edited', scopes: 'a:read b:write', grants: 'client_credentials', redirect_uris: '', audiences: '', ttl: '', rate_limit: '', claims: '{"org_id": "acme"}', metadata: 'team=payments' };
  const bad = await ann.post(`/console/clients/${c.id}/edit`, { ...fields, scopes: 'bad"scope' });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /a scope contains characters outside RFC 6749/);
  const res = await ann.post(`/console/clients/${c.id}/edit`, fields);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `/console/clients/${c.id}?done=updated`);
  const shown = await server.keymint.clients.show(c.id);
  assert.equal(shown.name, 'Edited');
  assert.deepEqual(shown.scopes, ['a:read', 'b:write']);
  const token = await server.token(c.id, c.secret, { scope: 'b:write' });
  assert.equal(token.scope, 'b:write');
  const [event] = (await server.keymint.store.audit.query({ target: c.id, action: 'client.update' }, 1)).events;
  assert.equal(event?.actor, 'console:ann');
});

test('OBJ-01 ?done= names only the console\'s own notices: toString, __proto__, constructor show none', async (t) => {
  const server = await consoleServer(t);
  const ann = await signedIn(server, 'ann', 'admin');
  for (const done of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    const body = await page(ann, `/console/clients?done=${done}`);
    assert.doesNotMatch(body, /class="notice notice-/, done);
    assert.doesNotMatch(body, /undefined|function/, done);
  }
  assert.match(await page(ann, '/console/clients?done=updated'), /<div class="notice notice-ok" role="status">The client was saved\.<\/div>/);
});

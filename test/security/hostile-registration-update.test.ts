/**
 * Red team of RFC 7592 update (`PUT` at `registration_client_uri`, RG-05) and the management calls
 * beside it, as an attacker holding a registration access token and a careless operator would meet
 * them: requests racing the registration's deletion, members the registration rules do not read
 * (operator settings, prototype keys), a `client_secret` used as an oracle, a disabled client, and a
 * client registered behind an initial access token managed while the server runs open registration.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, tempDir, type TestServer } from '../support/harness.ts';
import { capturingLog, send } from '../support/hostile.ts';

const API = 'https://api.example/v1';
const FLAGS = { registration: 'token', resources: [`${API}=api:read,api:write`] };
let s: TestServer;
const logged = capturingLog();
let initial: string;

before(async () => {
  s = await startServer(FLAGS, { log: logged.log });
  const registrar = await s.client({ scopes: ['keymint:register'] });
  initial = String((await s.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
});
after(() => s.close());

type Registered = { client_id: string; client_secret: string; registration_access_token: string; registration_client_uri: string };

async function register(server: TestServer, body: unknown): Promise<Registered> {
  const res = await send(`${server.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${initial}` }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, res.text);
  return JSON.parse(res.text) as Registered;
}

const manage = (server: TestServer, r: Registered, method: string, body?: unknown) =>
  send(`${server.url}${new URL(r.registration_client_uri).pathname}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${r.registration_access_token}` },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

const GONE = { error: 'invalid_token', error_description: 'The access token is invalid.' };

test('RG-06 GET, PUT and DELETE racing the registration\'s DELETE are 401 invalid_token, as an unknown client is, never a 5xx, and nothing is logged as an error', async () => {
  const errorsBefore = logged.lines.filter((l) => l.includes('"level":"error"')).length;
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const r = await register(s, { grant_types: ['client_credentials'], scope: 'api:read' });
    const racer = (['GET', 'PUT', 'DELETE'] as const)[i % 3]!;
    const [raced, deleted] = await Promise.all([
      manage(s, r, racer, racer === 'PUT' ? { client_id: r.client_id, client_name: `Renamed ${i}`, grant_types: ['client_credentials'], scope: 'api:read' } : undefined),
      manage(s, r, 'DELETE'),
    ]);
    // Of two DELETEs exactly one deletes; the other request either came first or finds the client gone.
    assert.equal(deleted.status, racer === 'DELETE' && raced.status === 204 ? 401 : 204, `${racer} ${i}: the DELETE → ${deleted.status} ${deleted.text}`);
    const won = racer === 'DELETE' ? 204 : 200;
    assert.ok(raced.status === won || raced.status === 401, `${racer} ${i} → ${raced.status} ${raced.text}`);
    for (const [what, res] of [[racer, raced], ['DELETE', deleted]] as const) {
      seen.add(`${what} ${res.status}`);
      if (res.status !== 401) continue;
      assert.deepEqual(JSON.parse(res.text), GONE, `${what} ${i}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint", error="invalid_token"', `${what} ${i}`);
      assert.equal(res.headers.get('cache-control'), 'no-store', `${what} ${i}`);
    }
    await assert.rejects(s.keymint.clients.show(r.client_id), /no such client/, 'the client is gone');
  }
  assert.ok([...seen].some((x) => x.endsWith('401')), `some request lost the race: ${[...seen].join(', ')}`);
  assert.equal(logged.lines.filter((l) => l.includes('"level":"error"')).length, errorsBefore, 'no error logged');
});

test('RG-05 a PUT cannot reach what only the operator sets: trusted, metadata, claims, audiences, lifetime, rate limit and an admin scope are not read, and a __proto__ member sets nothing', async () => {
  const r = await register(s, { client_name: 'Kept apart', grant_types: ['client_credentials'], scope: 'api:read' });
  await s.keymint.clients.update(r.client_id, { metadata: { team: 'billing' }, claims: { tier: 'gold' }, ttl: 600, rateLimit: 30 }, 'operator');
  const body = `{"client_id":${JSON.stringify(r.client_id)},"client_name":"Smuggler","grant_types":["client_credentials"],"scope":"api:read",`
    + '"trusted":true,"metadata":{"team":"evil"},"claims":{"admin":true},"audiences":["https://evil.example"],"access_token_ttl":31536000,"ttl":31536000,"rate_limit":0,"rateLimit":0,'
    + '"admin":true,"managed_by":"evil","status":"active","mode":"sandbox","type":"public","dialects":["orum"],"exchange_scopes":["api:write"],"pkce_required":false,'
    + '"__proto__":{"token_endpoint_auth_method":"none","scope":"api:read api:write keymint:admin","trusted":true}}';
  const res = await manage(s, r, 'PUT', body);
  assert.equal(res.status, 200, res.text);
  const answer = JSON.parse(res.text) as Record<string, unknown>;
  assert.deepEqual([answer.client_name, answer.scope, answer.token_endpoint_auth_method, answer.trusted, answer.metadata, answer.claims], ['Smuggler', 'api:read', 'client_secret_basic', undefined, undefined, undefined]);
  const v = await s.keymint.clients.show(r.client_id);
  assert.deepEqual(
    [v.name, v.type, v.mode, v.status, v.trusted, v.scopes, v.audiences, v.dialects, v.access_token_ttl, v.rate_limit, v.pkce_required, v.exchange_scopes, v.managed_by],
    ['Smuggler', 'confidential', 'live', 'active', false, ['api:read'], [API], ['oauth2'], 600, 30, true, [], undefined],
  );
  assert.deepEqual([(v as { metadata?: unknown }).metadata, (v as { claims?: unknown }).claims], [{ team: 'billing' }, { tier: 'gold' }], 'the operator\'s metadata and claims kept as they were');
  const admin = await manage(s, r, 'PUT', { client_id: r.client_id, grant_types: ['client_credentials'], scope: 'api:read keymint:admin' });
  assert.deepEqual([admin.status, JSON.parse(admin.text).error], [400, 'invalid_client_metadata'], 'the admin scope is outside every registration policy');
  assert.deepEqual((await s.keymint.clients.show(r.client_id)).scopes, ['api:read']);
});

test('RG-05 a client_secret in a PUT is no oracle: a wrong secret of the generated shape, a malformed one, another client\'s and a number get the same 400, byte for byte, and change nothing', async () => {
  const r = await register(s, { client_name: 'Oracle', grant_types: ['client_credentials'], scope: 'api:read' });
  const other = await register(s, { grant_types: ['client_credentials'], scope: 'api:read' });
  const last = r.client_secret.at(-8) === 'A' ? 'B' : 'A';
  const guesses: unknown[] = [`${r.client_secret.slice(0, -8)}${last}${r.client_secret.slice(-7)}`, r.client_secret.slice(0, -1), 'ks_', 'x'.repeat(300), other.client_secret, 7, null, [r.client_secret], ''];
  const answers = new Set<string>();
  for (const guess of guesses) {
    const res = await manage(s, r, 'PUT', { client_id: r.client_id, client_secret: guess, client_name: 'Guessed', grant_types: ['client_credentials'], scope: 'api:read' });
    assert.equal(res.status, 400, `${JSON.stringify(guess)} → ${res.text}`);
    answers.add(`${res.headers.get('content-type')} ${res.headers.get('cache-control')} ${res.text}`);
  }
  assert.deepEqual([...answers], ['application/json;charset=UTF-8 no-store {"error":"invalid_client_metadata","error_description":"client_secret is not the secret this client holds; a client cannot choose its secret"}']);
  assert.equal((await s.keymint.clients.show(r.client_id)).name, 'Oracle');
  const right = await manage(s, r, 'PUT', { client_id: r.client_id, client_secret: r.client_secret, client_name: 'Proven', grant_types: ['client_credentials'], scope: 'api:read' });
  assert.equal(right.status, 200, right.text);
  assert.equal(JSON.parse(right.text).client_secret, undefined, 'the secret is not echoed');
});

test('RG-05 a disabled client is not managed by its registration access token: GET, PUT and DELETE are 401 invalid_token, the client stays disabled and unchanged, its tokens stay refused', async () => {
  const r = await register(s, { client_name: 'Switched off', grant_types: ['client_credentials'], scope: 'api:read' });
  await s.keymint.clients.setStatus(r.client_id, 'disabled', 'operator');
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const res = await manage(s, r, method, method === 'PUT' ? { client_id: r.client_id, client_name: 'Back on', grant_types: ['client_credentials'], scope: 'api:read api:write' } : undefined);
    assert.deepEqual([res.status, JSON.parse(res.text)], [401, GONE], method);
  }
  const v = await s.keymint.clients.show(r.client_id);
  assert.deepEqual([v.status, v.name, v.scopes], ['disabled', 'Switched off', ['api:read']]);
  const token = await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${r.client_id}:${r.client_secret}`).toString('base64')}` });
  assert.equal(token.status, 401);
});

test('RG-05 a confidential client registered behind an initial access token, managed after the server moved to open registration: a PUT is refused as the open rules say and changes nothing; GET and DELETE still work', async () => {
  const dataDir = tempDir();
  const first = await startServer({ ...FLAGS, issuer: 'http://localhost:8080' }, { dataDir });
  const registrar = await first.client({ scopes: ['keymint:register'] });
  const own = String((await first.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
  const created = await send(`${first.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${own}` }, body: JSON.stringify({ client_name: 'Token era', grant_types: ['client_credentials'], scope: 'api:read' }) });
  const r = JSON.parse(created.text) as Registered;
  await first.close();
  const open = await startServer({ registration: 'open', issuer: 'http://localhost:8080', resources: [`${API}=api:read,api:write`] }, { dataDir });
  try {
    for (const body of [
      { client_id: r.client_id, client_name: 'Open era', grant_types: ['client_credentials'], scope: 'api:read' },
      { client_id: r.client_id, client_name: 'Open era', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb'], scope: 'api:read' },
    ]) {
      const res = await manage(open, r, 'PUT', body);
      assert.equal(res.status, 400, res.text);
      assert.equal(JSON.parse(res.text).error, 'invalid_client_metadata');
    }
    const v = await open.keymint.clients.show(r.client_id);
    assert.deepEqual([v.name, v.type, v.grants, v.token_endpoint_auth_method], ['Token era', 'confidential', ['client_credentials'], 'client_secret_basic']);
    assert.equal((await open.token(r.client_id, r.client_secret)).token_type, 'Bearer', 'its secret still works');
    assert.equal((await manage(open, r, 'GET')).status, 200);
    assert.equal((await manage(open, r, 'DELETE')).status, 204);
  } finally {
    await open.close();
  }
});

/** A signed-in user's authorization request for `r`, without following the answer. */
async function authorize(server: TestServer, clientId: string, redirectUri: string, cookie: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'api:read', state: 's1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...extra });
  return send(`${server.url}/oauth2/authorize?${query}`, { method: 'GET', headers: { cookie: `keymint_session=${cookie}` } });
}

test('RG-07 a PUT that adds a redirect URI ends every user\'s remembered consent: prompt=none no longer sends a code there, and the consent page names the new destination; a PUT that adds none keeps it', async () => {
  const home = 'https://app.example/cb';
  const r = await register(s, { client_name: 'Photo app', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [home], scope: 'api:read' });
  const { sessionToken } = await s.keymint.sessions.create({ subject: 'user-7', subjectType: 'user' }, 'test');
  await s.keymint.store.consents.grant(r.client_id, 'user', 'user-7', ['api:read'], Date.now());
  const silent = await authorize(s, r.client_id, home, sessionToken, { prompt: 'none' });
  assert.equal(silent.status, 302, silent.text);
  assert.match(silent.headers.get('location') ?? '', /^https:\/\/app\.example\/cb\?code=/, 'remembered consent: a code without a page');
  const renamed = await manage(s, r, 'PUT', { client_id: r.client_id, client_name: 'Photo app 2', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [home], scope: 'api:read' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.match((await authorize(s, r.client_id, home, sessionToken, { prompt: 'none' })).headers.get('location') ?? '', /\?code=/, 'no new destination: the consent stays');
  const moved = await manage(s, r, 'PUT', { client_id: r.client_id, client_name: 'Photo app 2', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [home, 'https://elsewhere.example/cb'], scope: 'api:read' });
  assert.equal(moved.status, 200, moved.text);
  for (const uri of [home, 'https://elsewhere.example/cb']) {
    const none = await authorize(s, r.client_id, uri, sessionToken, { prompt: 'none' });
    assert.equal(none.status, 302, none.text);
    const location = new URL(none.headers.get('location') ?? '');
    assert.deepEqual([`${location.origin}${location.pathname}`, location.searchParams.get('error'), location.searchParams.get('code')], [uri, 'consent_required', null], uri);
  }
  const page = await authorize(s, r.client_id, 'https://elsewhere.example/cb', sessionToken);
  assert.equal(page.status, 200);
  assert.match(page.text, /You will be sent back to <code>https:\/\/elsewhere\.example<\/code>\./);
  const audit = (await s.keymint.store.audit.list(1000)).find((e) => e.target === r.client_id && e.action === 'client.update' && String(e.detail.changed).includes('redirect_uris'));
  assert.equal(audit?.detail.consents_revoked, 1, JSON.stringify(audit));
});

test('RG-07 a client the operator trusts (no consent page) gets no new redirect URI by PUT: 400 invalid_redirect_uri, nothing changed; the operator adds it, and a PUT that keeps or drops its URIs works', async () => {
  const home = 'https://app.example/cb';
  const r = await register(s, { client_name: 'First party', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [home, 'https://app.example/cb2'], scope: 'api:read' });
  await s.keymint.clients.update(r.client_id, { trusted: true }, 'operator');
  const body = (uris: string[]) => ({ client_id: r.client_id, client_name: 'First party', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: uris, scope: 'api:read' });
  const refused = await manage(s, r, 'PUT', body([home, 'https://evil.example/cb']));
  assert.equal(refused.status, 400, refused.text);
  assert.deepEqual(JSON.parse(refused.text), { error: 'invalid_redirect_uri', error_description: 'a client the operator trusts skips the consent page: its redirect URIs are added by the operator, not here' });
  assert.deepEqual((await s.keymint.clients.show(r.client_id)).redirect_uris, [home, 'https://app.example/cb2']);
  const { sessionToken } = await s.keymint.sessions.create({ subject: 'user-8', subjectType: 'user' }, 'test');
  assert.equal((await authorize(s, r.client_id, 'https://evil.example/cb', sessionToken)).status, 400, 'no code goes there');
  const kept = await manage(s, r, 'PUT', body([home]));
  assert.equal(kept.status, 200, kept.text);
  assert.deepEqual(JSON.parse(kept.text).redirect_uris, [home]);
  assert.equal((await s.keymint.clients.show(r.client_id)).trusted, true);
});

/**
 * Red team of RFC 7592 update (`PUT` at `registration_client_uri`, RG-05) and the management calls
 * beside it, as an attacker holding a registration access token and a careless operator would meet
 * them: requests racing the registration's deletion, members the registration rules do not read
 * (operator settings, prototype keys), a `client_secret` used as an oracle, a disabled client, and a
 * client registered behind an initial access token managed while the server runs open registration.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/harness.ts';
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

/**
 * Claims per client and per test: `sandbox.setClaims` and `PUT /_sandbox/clients/{id}/claims`
 * replace a client's static claims for its next tokens, a token kept for reuse is not handed out
 * with the old ones, and `reset()` puts back the claims the options declared. Over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { decodeJwt, type JWTPayload } from 'jose';
import { startSandbox, SandboxInputError, type Sandbox } from '../../src/start-sandbox.ts';
import { PATHS, postJson } from '../dialects/support/dialects.ts';

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    clients: {
      app: { dialects: ['orum'], claims: { tier: 'gold', tenant: 't-1' } },
      // Any printable id: the control API takes it percent-encoded in the path.
      plain: { id: 'orum/app+1', secret: { value: 'a-secret-of-the-test-config' }, dialects: ['orum'] },
    },
  });
});
afterEach(() => sb.reset());
after(() => sb.close());

async function tokenClaims(name: string): Promise<JWTPayload & { access_token: string }> {
  const c = sb.clients[name]!;
  const res = await postJson(sb.url, PATHS.orum, { client_id: c.id, client_secret: c.secret });
  assert.equal(res.status, 200);
  const { access_token } = (await res.json()) as { access_token: string };
  return { ...decodeJwt(access_token), access_token };
}

/** The claims a client set: the token's own (iss, exp, client_id, …) left out. */
const custom = (t: JWTPayload, names = ['tier', 'tenant', 'region', 'beta']) => Object.fromEntries(Object.entries(t).filter(([k]) => names.includes(k)));

test('setClaims replaces the claims of the next token; by name or id; reset() restores the declared ones', async () => {
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'gold', tenant: 't-1' });
  assert.deepEqual(await sb.setClaims('app', { tier: 'silver', region: 'eu' }), { tier: 'silver', region: 'eu' });
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'silver', region: 'eu' });
  assert.deepEqual(await sb.setClaims(sb.clients.plain!.id, { beta: true }), { beta: true });
  assert.deepEqual(custom(await tokenClaims('plain')), { beta: true });
  assert.deepEqual(await sb.setClaims('app', null), {});
  assert.deepEqual(custom(await tokenClaims('app')), {});
  await sb.reset();
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'gold', tenant: 't-1' });
  assert.deepEqual(custom(await tokenClaims('plain')), {});
});

test('a token kept for reuse is not handed out again once the claims change, nor after reset()', async () => {
  await sb.keymint.clients.update(sb.clients.app!.id, { tokenReuse: true }, 'test');
  const first = await tokenClaims('app');
  assert.equal((await tokenClaims('app')).access_token, first.access_token, 'the client reuses its token');
  await sb.setClaims('app', { tier: 'silver' });
  const silver = await tokenClaims('app');
  assert.notEqual(silver.access_token, first.access_token);
  assert.deepEqual(custom(silver), { tier: 'silver' });
  // Twice in a row, with a token kept in between: the second set is the one the next token carries.
  await sb.setClaims('app', { tier: 'bronze' });
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'bronze' });
  await sb.setClaims('app', { tier: 'platinum' });
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'platinum' });
  await sb.reset();
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'gold', tenant: 't-1' });
  await sb.keymint.clients.update(sb.clients.app!.id, { tokenReuse: false }, 'test');
});

test('bad claims and unknown clients are refused by name, and change nothing', async () => {
  await assert.rejects(sb.setClaims('app', { sub: 'someone-else' }), (err: unknown) => {
    assert.ok(err instanceof SandboxInputError);
    assert.equal(err.field, 'claims');
    assert.equal(err.message, 'claims: sub is a registered or protocol claim that Keymint sets itself');
    return true;
  });
  await assert.rejects(sb.setClaims('app', ['tier'] as never), { name: 'SandboxInputError', message: 'claims: must be an object of claim names and values (or null for none)' });
  await assert.rejects(sb.setClaims('nobody', { tier: 'gold' }), { name: 'SandboxInputError', message: 'client: no client is named or has the id "nobody"' });
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'gold', tenant: 't-1' });
});

test('the control API reads and replaces claims (PUT /_sandbox/clients/{id}/claims); 400 names the field', async () => {
  const call = (method: string, client: string, body?: string, type = 'application/json') =>
    fetch(`${sb.url}/_sandbox/clients/${encodeURIComponent(client)}/claims`, { method, ...(body === undefined ? {} : { headers: { 'content-type': type }, body }) });
  const id = sb.clients.app!.id;
  const read = await call('GET', 'app');
  assert.equal(read.status, 200);
  assert.equal(read.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await read.json(), { client_id: id, claims: { tier: 'gold', tenant: 't-1' } });

  const put = await call('PUT', id, JSON.stringify({ tier: 'silver', region: 'eu' }));
  assert.equal(put.status, 200);
  assert.deepEqual(await put.json(), { client_id: id, claims: { tier: 'silver', region: 'eu' } });
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'silver', region: 'eu' });

  // An id with a slash and a plus, percent-encoded in the path.
  const plain = await call('PUT', 'orum/app+1', JSON.stringify({ beta: true }));
  assert.deepEqual([plain.status, await plain.json()], [200, { client_id: 'orum/app+1', claims: { beta: true } }]);
  assert.deepEqual(custom(await tokenClaims('plain')), { beta: true });

  const problem = async (res: Response) => [res.status, await res.json()];
  assert.deepEqual(await problem(await call('PUT', 'app', JSON.stringify({ exp: 1 }))), [400, { error: 'invalid_request', error_description: 'claims: exp is a registered or protocol claim that Keymint sets itself' }]);
  assert.deepEqual(await problem(await call('PUT', 'app', JSON.stringify({ tier: { nested: 1 } }))), [400, { error: 'invalid_request', error_description: 'claims: claim tier must be a string (≤ 256 characters), a number, a boolean, or an array of at most 32 of those' }]);
  assert.deepEqual(await problem(await call('PUT', 'app', '[1]')), [400, { error: 'invalid_request', error_description: 'claims: the body must be a JSON object' }]);
  assert.deepEqual(await problem(await call('PUT', 'app', 'tier=gold', 'application/x-www-form-urlencoded')), [400, { error: 'invalid_request', error_description: 'claims: the body must be application/json' }]);
  assert.deepEqual(await problem(await call('PUT', 'nobody', '{}')), [404, { error: 'not_found', error_description: 'No such client.' }]);
  assert.deepEqual(await problem(await call('GET', 'nobody')), [404, { error: 'not_found', error_description: 'No such client.' }]);
  const wrong = await call('POST', 'app', '{}');
  assert.deepEqual([wrong.status, wrong.headers.get('allow')], [405, 'GET, PUT']);
  // Refused bodies changed nothing.
  assert.deepEqual(custom(await tokenClaims('app')), { tier: 'silver', region: 'eu' });

  const reset = await fetch(`${sb.url}/_sandbox/reset`, { method: 'POST' });
  assert.equal(reset.status, 200);
  assert.deepEqual(await (await call('GET', 'app')).json(), { client_id: id, claims: { tier: 'gold', tenant: 't-1' } });
  assert.deepEqual(await (await call('GET', 'orum/app+1')).json(), { client_id: 'orum/app+1', claims: {} });
});

/** A sandbox client declared with `introspectionAudiences` is a resource server at the sandbox's introspection endpoint (I-17, I-19). Over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSandbox, SandboxInputError, type Sandbox } from '../../src/start-sandbox.ts';
import { basic } from '../support/harness.ts';

const API = 'https://orders.example.com';
let sb: Sandbox;
before(async () => {
  sb = await startSandbox({ clients: { customer: { audiences: [API] }, api: { introspectionAudiences: [API] } } });
});
after(() => sb.close());

const post = (path: string, body: string, c: { id: string; secret: string | null }) =>
  fetch(`${sb.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.id, c.secret ?? '') }, body });

test('I-19 I-17 a sandbox client declared with introspectionAudiences introspects another client\'s token for that audience', async () => {
  const issued = await post('/oauth2/token', 'grant_type=client_credentials', sb.clients.customer!);
  assert.equal(issued.status, 200);
  const { access_token } = (await issued.json()) as { access_token: string };
  const res = await post('/oauth2/introspect', `token=${access_token}`, sb.clients.api!);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual([body.active, body.client_id, body.aud], [true, sb.clients.customer!.id, API]);
});

test('I-19 a sandbox declaration\'s bad introspectionAudiences is refused naming the field', async () => {
  await assert.rejects(startSandbox({ clients: { api: { introspectionAudiences: [`${API}#f`] } } }), (e: unknown) => {
    assert.ok(e instanceof SandboxInputError, String(e));
    assert.match(e.message, /introspectionAudiences/);
    return true;
  });
});

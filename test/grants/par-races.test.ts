/**
 * PAR-03 on PostgreSQL: a pushed request is used once however many authorization requests race for
 * it (a trusted client: each would issue a code at once) and however many consent decisions are
 * posted for it, over a pool of real connections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { authorizeGet, basic, formFields, pkce, startGrantServer } from './support.ts';

const CB = 'https://app.example/cb';

test('PAR-03 on PostgreSQL: 30 parallel uses of one request_uri give one code; 30 parallel approvals of its consent page give one code', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmpar');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema, dbPoolSize: '16' });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  const base = { grants: ['authorization_code'], scopes: ['read'], redirectUris: [CB] };
  const trusted = await s.client({ ...base, trusted: true });
  const app = await s.client({ ...base });
  const push = async (c: { id: string; secret: string }) => {
    const res = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, scope: 'read', code_challenge: pkce().challenge, code_challenge_method: 'S256' }, { authorization: basic(c.id, c.secret) });
    assert.equal(res.status, 201);
    return String(((await res.json()) as { request_uri: string }).request_uri);
  };
  const outcome = (r: Response) => {
    const back = new URL(String(r.headers.get('location')));
    return back.searchParams.get('code') ? 'code' : back.searchParams.get('error');
  };
  const cookie = `keymint_session=${(await s.session()).session_token}`;

  const requestUri = await push(trusted);
  const uses = (await Promise.all(Array.from({ length: 30 }, () => authorizeGet(s, { client_id: trusted.id, request_uri: requestUri }, cookie)))).map(outcome);
  assert.equal(uses.filter((o) => o === 'code').length, 1, JSON.stringify(uses));
  assert.equal(uses.filter((o) => o === 'invalid_request_uri').length, 29);

  const pending = await push(app);
  const page = await authorizeGet(s, { client_id: app.id, request_uri: pending }, cookie);
  assert.equal(page.status, 200);
  const form = new URLSearchParams({ ...formFields(await page.text()), decision: 'approve' }).toString();
  const approvals = await Promise.all(Array.from({ length: 30 }, () =>
    fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: form })));
  const decided = approvals.map(outcome);
  assert.equal(decided.filter((o) => o === 'code').length, 1, JSON.stringify(decided));
  assert.equal(decided.filter((o) => o === 'invalid_request_uri').length, 29);
});

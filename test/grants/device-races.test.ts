/**
 * DEV-08 over HTTP: concurrent polls of one approved device authorization request issue exactly once,
 * on the memory store, SQLite and PostgreSQL (a pool of real connections).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import type { RawConfig } from '../../src/config/index.ts';
import { basic, formFields, startGrantServer, type GrantServer } from './support.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const POLLS = 30;

async function race(t: TestContext, s: GrantServer): Promise<void> {
  const app = await s.client({ grants: [GRANT, 'refresh_token'], scopes: ['read'] });
  const auth = { authorization: basic(app.id, app.secret) };
  const started = (await (await s.postForm('/oauth2/device_authorization', { scope: 'read' }, auth)).json()) as { device_code: string; user_code: string };
  const cookie = `keymint_session=${(await s.session()).session_token}`;
  const shown = await fetch(`${s.url}/oauth2/device?user_code=${started.user_code}`, { headers: { cookie } });
  const decided = await fetch(`${s.url}/oauth2/device`, {
    method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...formFields(await shown.text()), decision: 'approve' }).toString(),
  });
  assert.equal(decided.status, 200);
  const responses = await Promise.all(Array.from({ length: POLLS }, () => s.postForm('/oauth2/token', { grant_type: GRANT, device_code: started.device_code }, auth)));
  const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));
  const won = bodies.filter((b) => b.status === 200);
  assert.equal(won.length, 1, JSON.stringify(bodies.map((b) => b.status)));
  for (const b of bodies.filter((x) => x.status !== 200)) {
    assert.deepEqual(b, { status: 400, body: { error: 'invalid_grant', error_description: 'The device code is invalid, expired or already used.' } });
  }
  // Exactly the winner's tokens are stored: one refresh token of the family.
  const refresh = String(won[0]!.body.refresh_token);
  const r = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: refresh }, auth);
  assert.equal(r.status, 200);
  t.diagnostic(`${POLLS} parallel polls: ${won.length} × 200, ${POLLS - won.length} × invalid_grant`);
}

const run = (flags: RawConfig) => async (t: TestContext) => {
  const s = await startGrantServer(flags);
  t.after(() => s.close());
  await race(t, s);
};

test('DEV-08 concurrent polls after approval issue once: memory', run({ dataDir: ':memory:' }));
test('DEV-08 concurrent polls after approval issue once: SQLite', run({}));
test('DEV-08 concurrent polls after approval issue once: PostgreSQL', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmd');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema, dbPoolSize: '16' });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  await race(t, s);
});

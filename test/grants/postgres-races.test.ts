/**
 * C-06 and RT-05 over HTTP on PostgreSQL: 50 parallel redemptions of one code and 50 parallel uses
 * of one refresh token (RT-11: 20 of one kept token) against a server whose store is a pool of real connections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';
import { basic, obtainCode, parallelKeptRefreshes, seedRefreshToken, startGrantServer } from './support.ts';

test('C-06 RT-05 on PostgreSQL: 50 parallel redemptions of a code, 50 parallel refreshes → exactly one 200 each', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmr');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema, dbPoolSize: '16' });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  const app = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'], trusted: true });
  const statuses = async (form: Record<string, string>) => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => s.postForm('/oauth2/token', form, { authorization: basic(app.id, app.secret) })));
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    return responses.map((r) => r.status);
  };
  const { code, verifier } = await obtainCode(s, app);
  const codeRuns = await statuses({ grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier });
  assert.equal(codeRuns.filter((x) => x === 200).length, 1, JSON.stringify(codeRuns));
  assert.equal(codeRuns.filter((x) => x === 400).length, 49);
  const { token } = await seedRefreshToken(s, app.id, { scope: 'read' });
  const refreshRuns = await statuses({ grant_type: 'refresh_token', refresh_token: token });
  assert.equal(refreshRuns.filter((x) => x === 200).length, 1, JSON.stringify(refreshRuns));
  assert.equal(refreshRuns.filter((x) => x === 400).length, 49);
});

test('RT-11 on PostgreSQL: 20 parallel refreshes with one kept token (refresh_token_rotation false) → 20 access tokens, and the token still works', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmr');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema, dbPoolSize: '16' });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  await parallelKeptRefreshes(s, await s.client({ grants: ['refresh_token'], scopes: ['read'], refreshTokenRotation: false }));
});

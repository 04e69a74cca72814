/**
 * A client's `post_logout_redirect_uris` (OIDC RP-Initiated Logout §3.1) where every other per-client
 * setting is made: the CLI (`--post-logout-redirect-uri`, `--clear post-logout-redirect-uri`), a
 * configuration file (`postLogoutRedirectUris`, export writes it back), the admin API and dynamic
 * registration; each refuses what a redirect URI may not be. The endpoint's answers are in logout.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { startGrantServer } from './support.ts';

const data = tempDir('keymint-logout-settings-');
after(() => rmSync(data, { recursive: true, force: true }));
const CB = 'https://app.example/cb';

test('LOGOUT-04 the CLI sets post-logout redirect URIs, clears them, and refuses one a redirect URI may not be', async () => {
  const created = await cli(['clients', 'create', '--data', data, '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', CB, '--post-logout-redirect-uri', 'https://app.example/bye', '--post-logout-redirect-uri', 'http://127.0.0.1:9000/bye', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.deepEqual(view.post_logout_redirect_uris, ['https://app.example/bye', 'http://127.0.0.1:9000/bye']);
  const cleared = await cli(['clients', 'update', String(view.client_id), '--data', data, '--clear', 'post-logout-redirect-uri', '--json']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.deepEqual((JSON.parse(cleared.stdout) as Record<string, unknown>).post_logout_redirect_uris, []);
  const refused = await cli(['clients', 'create', '--data', data, '--name', 'bad', '--post-logout-redirect-uri', 'http://app.example/bye']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stderr.trim(), 'keymint: post_logout_redirect_uri: an http redirect URI must be on a loopback IP literal (127.0.0.1 or [::1], RFC 8252 section 7.3); use https');
});

test('LOGOUT-04 a configuration file sets postLogoutRedirectUris (export writes it back)', async () => {
  const file = join(data, 'keymint.yaml');
  writeFileSync(file, `version: 1
clients:
  reports:
    name: Reports
    type: public
    grants: [authorization_code]
    redirectUris: [${CB}]
    postLogoutRedirectUris: [https://app.example/signed-out]
`);
  const applied = await cli(['apply', '-f', file, '--data', data]);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', data]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}postLogoutRedirectUris: \[https:\/\/app\.example\/signed-out\]$/m);
});

test('LOGOUT-04 the admin API takes post_logout_redirect_uris on create and PATCH, and refuses javascript: naming the field', async (t) => {
  const s = await startGrantServer();
  t.after(() => s.close());
  const created = await s.admin('POST', '/clients', { name: 'App', grants: ['authorization_code'], redirect_uris: [CB], post_logout_redirect_uris: ['https://app.example/bye'] });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.deepEqual(body.post_logout_redirect_uris, ['https://app.example/bye']);
  const patched = await s.admin('PATCH', `/clients/${String(body.client_id)}`, { post_logout_redirect_uris: ['com.example.app:/bye'] });
  assert.deepEqual((await s.json(patched)).post_logout_redirect_uris, ['com.example.app:/bye']);
  const refused = await s.admin('POST', '/clients', { name: 'Bad', post_logout_redirect_uris: ['javascript:alert(1)'] });
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'the javascript: scheme is not allowed in a redirect URI', field: 'post_logout_redirect_uri' });
});

test('LOGOUT-04 dynamic registration takes post_logout_redirect_uris and echoes them; refuses one a redirect URI may not be', async (t) => {
  const s = await startServer({ registration: 'token' });
  t.after(() => s.close());
  const register = await registrarOf(s);
  const created = await register({ redirect_uris: [CB], post_logout_redirect_uris: ['https://app.example/bye'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.post_logout_redirect_uris, ['https://app.example/bye']);
  assert.deepEqual((await s.keymint.store.clients.get(String(created.body.client_id)))?.postLogoutRedirectUris, ['https://app.example/bye']);
  for (const [uris, description] of [
    [['https://app.example/bye#x'], 'post_logout_redirect_uris: a redirect URI must not have a fragment (RFC 6749 section 3.1.2)'],
    [['data:text/html,hi'], 'post_logout_redirect_uris: the data: scheme is not allowed in a redirect URI'],
    ['https://app.example/bye', 'post_logout_redirect_uris is an array of strings'],
  ] as const) {
    assert.deepEqual(await register({ redirect_uris: [CB], post_logout_redirect_uris: uris }), { status: 400, body: { error: 'invalid_redirect_uri', error_description: description } }, description);
  }
});

test('LOGOUT-04 a sandbox file sets postLogoutRedirectUris (the end-session endpoint follows it); a bad one is refused naming the field', async (t) => {
  const { startSandbox, SandboxInputError } = await import('../../src/start-sandbox.ts');
  const app = { dialects: ['oauth2'], grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB] };
  const sb = await startSandbox({ clients: { app: { ...app, postLogoutRedirectUris: ['http://127.0.0.1:3000/bye'] } } });
  t.after(() => sb.close());
  const res = await fetch(`${sb.url}/oauth2/logout?${new URLSearchParams({ client_id: sb.clients.app!.id, post_logout_redirect_uri: 'http://127.0.0.1:3000/bye', state: 's' })}`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), 'http://127.0.0.1:3000/bye?state=s');
  await assert.rejects(
    startSandbox({ clients: { app: { ...app, postLogoutRedirectUris: ['javascript:alert(1)'] } } }),
    (err: InstanceType<typeof SandboxInputError>) => err instanceof SandboxInputError && err.field === 'clients.app.postLogoutRedirectUris',
  );
});

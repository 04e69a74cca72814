/**
 * A client's `backchannel_logout_uri` and `backchannel_logout_session_required` (OIDC Back-Channel
 * Logout 1.0 §2.2) where every other per-client setting is made: the CLI, a configuration file (export
 * writes them back), the admin API and dynamic registration; each refuses a URI that is neither https
 * nor http where a redirect URI may be. Discovery says back-channel logout is supported (BCL-02). The
 * delivery of logout tokens is in backchannel-logout.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { startGrantServer } from './support.ts';

const data = tempDir('keymint-bcl-settings-');
after(() => rmSync(data, { recursive: true, force: true }));
const CB = 'https://app.example/cb';

test('BCL-01 the CLI sets the back-channel logout URI and session_required, clears them, and refuses a URI that is not https', async () => {
  const created = await cli(['clients', 'create', '--data', data, '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', CB, '--backchannel-logout-uri', 'https://app.example/backchannel', '--backchannel-logout-session-required', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.equal(view.backchannel_logout_uri, 'https://app.example/backchannel');
  assert.equal(view.backchannel_logout_session_required, true);
  const loopback = await cli(['clients', 'update', String(view.client_id), '--data', data, '--backchannel-logout-uri', 'http://127.0.0.1:9000/bc', '--json']);
  assert.equal(loopback.code, 0, loopback.stderr);
  assert.equal((JSON.parse(loopback.stdout) as Record<string, unknown>).backchannel_logout_uri, 'http://127.0.0.1:9000/bc');
  const cleared = await cli(['clients', 'update', String(view.client_id), '--data', data, '--clear', 'backchannel-logout-uri', '--no-backchannel-logout-session-required', '--json']);
  assert.equal(cleared.code, 0, cleared.stderr);
  const after = JSON.parse(cleared.stdout) as Record<string, unknown>;
  assert.equal('backchannel_logout_uri' in after, false);
  assert.equal(after.backchannel_logout_session_required, false);
  const refused = await cli(['clients', 'create', '--data', data, '--name', 'bad', '--backchannel-logout-uri', 'http://app.example/bc']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stderr.trim(), 'keymint: backchannel_logout_uri: an http backchannel_logout_uri must be on a loopback IP literal (127.0.0.1 or [::1], RFC 8252 section 7.3); use https');
});

test('BCL-01 a configuration file sets backchannelLogoutUri and backchannelLogoutSessionRequired (export writes them back)', async () => {
  const file = join(data, 'keymint.yaml');
  writeFileSync(file, `version: 1
clients:
  reports:
    name: Reports
    type: public
    grants: [authorization_code]
    redirectUris: [${CB}]
    backchannelLogoutUri: https://app.example/backchannel
    backchannelLogoutSessionRequired: true
`);
  const applied = await cli(['apply', '-f', file, '--data', data]);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', data]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}backchannelLogoutUri: https:\/\/app\.example\/backchannel$/m);
  assert.match(exported.stdout, /^ {4}backchannelLogoutSessionRequired: true$/m);
});

test('BCL-01 the admin API takes both on create and PATCH (null clears the URI), and refuses a private-use scheme naming the field', async (t) => {
  const s = await startGrantServer();
  t.after(() => s.close());
  const created = await s.admin('POST', '/clients', { name: 'App', grants: ['authorization_code'], redirect_uris: [CB], backchannel_logout_uri: 'https://app.example/bc', backchannel_logout_session_required: true });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.equal(body.backchannel_logout_uri, 'https://app.example/bc');
  assert.equal(body.backchannel_logout_session_required, true);
  const patched = await s.json(await s.admin('PATCH', `/clients/${String(body.client_id)}`, { backchannel_logout_uri: null, backchannel_logout_session_required: false }));
  assert.equal('backchannel_logout_uri' in patched, false);
  assert.equal(patched.backchannel_logout_session_required, false);
  assert.equal((await s.keymint.store.clients.get(String(body.client_id)))?.backchannelLogoutUri, undefined);
  const refused = await s.admin('POST', '/clients', { name: 'Bad', backchannel_logout_uri: 'com.example.app:/logout' });
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'a backchannel_logout_uri must be https (http only on a loopback IP literal)', field: 'backchannel_logout_uri' });
});

test('BCL-01 BCL-02 dynamic registration takes backchannel_logout_uri and session_required and echoes them; discovery says it is supported', async (t) => {
  const s = await startServer({ registration: 'token' });
  t.after(() => s.close());
  const meta = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(meta.backchannel_logout_supported, true);
  assert.equal(meta.backchannel_logout_session_supported, true);
  const register = await registrarOf(s);
  const created = await register({ redirect_uris: [CB], backchannel_logout_uri: 'https://app.example/bc', backchannel_logout_session_required: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.backchannel_logout_uri, 'https://app.example/bc');
  assert.equal(created.body.backchannel_logout_session_required, true);
  const stored = await s.keymint.store.clients.get(String(created.body.client_id));
  assert.deepEqual([stored?.backchannelLogoutUri, stored?.backchannelLogoutSessionRequired], ['https://app.example/bc', true]);
  for (const [metadata, description] of [
    [{ backchannel_logout_uri: 'https://app.example/bc#x' }, 'a backchannel_logout_uri must not have a fragment (RFC 6749 section 3.1.2)'],
    [{ backchannel_logout_uri: 'http://app.example/bc' }, 'an http backchannel_logout_uri must be on a loopback IP literal (127.0.0.1 or [::1], RFC 8252 section 7.3); use https'],
    [{ backchannel_logout_uri: ['https://app.example/bc'] }, 'backchannel_logout_uri is a string'],
    [{ backchannel_logout_session_required: 'true' }, 'backchannel_logout_session_required is true or false'],
  ] as const) {
    assert.deepEqual(await register({ redirect_uris: [CB], ...metadata }), { status: 400, body: { error: 'invalid_client_metadata', error_description: description } }, description);
  }
});

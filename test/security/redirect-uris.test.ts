/**
 * What a client may register as redirect URI (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1), through
 * the admin API and the CLI: both front ends of the one client service.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startServer, tempDir, type TestServer } from '../support/harness.ts';
import { cli } from '../support/process.ts';

let server: TestServer;
let adminToken: string;
before(async () => {
  server = await startServer({ issuer: 'http://localhost:8080' });
  const admin = await server.client({ admin: true });
  adminToken = String((await server.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
});
after(() => server.close());

const register = async (redirectUri: string, mode: 'live' | 'sandbox' = 'live') => {
  const res = await fetch(`${server.url}/admin/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'app', mode, grants: ['authorization_code'], scopes: ['read'], redirect_uris: [redirectUri] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const clientCount = async () => (await server.keymint.clients.list()).length;

const expectRefused = async (uri: string, description: RegExp, mode: 'live' | 'sandbox' = 'live') => {
  const before = await clientCount();
  const { status, body } = await register(uri, mode);
  assert.equal(status, 400, uri);
  assert.equal(body.error, 'invalid_request', uri);
  assert.equal(body.field, 'redirect_uri', uri);
  assert.match(String(body.error_description), description, uri);
  assert.equal(await clientCount(), before, `${uri}: nothing created`);
};

test('RED-01 https anywhere; http only on a loopback IP literal; http://localhost only for sandbox clients', async () => {
  for (const uri of ['https://app.example/cb', 'https://app.example:8443/cb?x=1', 'http://127.0.0.1/cb', 'http://127.0.0.1:53127/cb', 'http://127.42.0.1/cb', 'http://[::1]:8080/cb']) {
    const { status, body } = await register(uri);
    assert.equal(status, 201, `${uri}: ${JSON.stringify(body)}`);
    assert.deepEqual(body.redirect_uris, [uri]);
  }
  const onHost = /must be on a loopback IP literal/;
  for (const uri of ['http://app.example/cb', 'http://127.evil.example/cb', 'http://127.0.0.1.nip.io/cb', 'http://10.0.0.1/cb', 'http://[::2]/cb']) {
    await expectRefused(uri, onHost);
  }
  await expectRefused('http://localhost:3000/cb', /sandbox clients only; use http:\/\/127\.0\.0\.1/);
  assert.equal((await register('http://localhost:3000/cb', 'sandbox')).status, 201);
});

test('RED-02 native apps: private-use schemes in reverse-domain form; other custom schemes are refused', async () => {
  for (const uri of ['com.example.app:/oauth2redirect', 'com.example.app://callback', 'io.keymint.demo:/cb']) {
    assert.equal((await register(uri)).status, 201, uri);
  }
  for (const uri of ['myapp:/cb', 'myapp://callback', 'ftp://files.example/cb', 'ws://app.example/cb']) {
    await expectRefused(uri, /private-use scheme in reverse-domain form/);
  }
});

test('RED-03 dangerous schemes, fragments, userinfo, relative references and control characters are refused, naming the field', async () => {
  for (const [uri, scheme] of [['javascript:alert(document.cookie)', 'javascript'], ['JavaScript:alert(1)', 'javascript'], ['data:text/html,<script>alert(1)</script>', 'data'], ['file:///etc/passwd', 'file'], ['vbscript:msgbox(1)', 'vbscript'], ['blob:https://app.example/1', 'blob']] as const) {
    await expectRefused(uri, new RegExp(`the ${scheme}: scheme is not allowed`));
  }
  await expectRefused('https://app.example/cb#frag', /fragment/);
  await expectRefused('https://app.example/cb#', /fragment/);
  await expectRefused('https://user:pw@app.example/cb', /userinfo/);
  await expectRefused('https://@app.example/cb', /userinfo/);
  await expectRefused('com.example.app://user@cb', /userinfo/);
  for (const uri of ['/cb', 'app.example/cb', '//app.example/cb', '']) await expectRefused(uri, /absolute URI|1 to 2000 characters/);
  await expectRefused('https://app.example/c b', /whitespace/);
  await expectRefused('https://app.example/cb\n', /whitespace/);
  await expectRefused(`https://app.example/${'a'.repeat(2000)}`, /1 to 2000 characters/);
});

test('RED-03 the CLI names the field and creates nothing', async (t) => {
  const data = tempDir('keymint-red-');
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const r = await cli(['clients', 'create', '--data', data, '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb', '--redirect-uri', 'javascript:alert(1)']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'keymint: redirect_uri: the javascript: scheme is not allowed in a redirect URI\n');
  // The refusal takes back the store opening it made: the directory is as it was, and there is no store to list.
  assert.deepEqual(readdirSync(data), []);
  const listed = await cli(['clients', 'list', '--data', data, '--json']);
  assert.equal(listed.code, 6);
});

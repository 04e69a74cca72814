/** The README's journey, by the real CLI: serve, create, token, rotate, disable, delete, keys, restart. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { basic, tempDir } from './support/harness.ts';
import { cli, serve, stop, type ServeProcess } from './support/process.ts';

const data = tempDir('keymint-cli-');
const SERVE_ARGS = ['--data', data, '--keyring-refresh-ms', '200', '--log-level', 'debug', '--issuer', 'http://localhost:8080'];
let server: ServeProcess;
before(async () => {
  server = await serve(SERVE_ARGS);
});
after(async () => {
  await stop(server);
  rmSync(data, { recursive: true, force: true });
});

const token = (id: string, secret: string, url = server.url) =>
  fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
    body: 'grant_type=client_credentials',
  });

async function create(...extra: string[]): Promise<{ client_id: string; client_secret: string } & Record<string, unknown>> {
  const r = await cli(['clients', 'create', '--data', data, '--name', 'billing', '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the data directory is private: 0700, files 0600', () => {
  assert.equal(statSync(data).mode & 0o777, 0o700);
  for (const f of ['kek', 'keymint.db']) assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
});

test('clients create (while the server runs) → a token for the requested scope', async () => {
  const c = await create('--scope', 'payments:read', '--scope', 'payments:write');
  assert.match(c.client_id, /^sk_live_[0-9A-Za-z]{24}$/);
  assert.deepEqual(c.scopes, ['payments:read', 'payments:write']);
  assert.deepEqual(c.grants, ['client_credentials']);
  const res = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.client_id, c.client_secret) },
    body: 'grant_type=client_credentials&scope=payments:read',
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { scope: string }).scope, 'payments:read');
});

test('--mode sandbox gives an sk_sdbx_ id; --ttl sets the lifetime; bad input is a clear error', async () => {
  const c = await create('--mode', 'sandbox', '--ttl', '120');
  assert.match(c.client_id, /^sk_sdbx_/);
  assert.equal(((await (await token(c.client_id, c.client_secret)).json()) as { expires_in: number }).expires_in, 120);
  const bad = await cli(['clients', 'create', '--data', data, '--name', 'x', '--grant', 'password']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^keymint: grant: unknown grant/);
});

test('clients list and show never print a secret or a digest', async () => {
  const c = await create();
  const list = await cli(['clients', 'list', '--data', data, '--json']);
  const show = await cli(['clients', 'show', c.client_id, '--data', data]);
  const stored = await cli(['clients', 'show', c.client_id, '--data', data, '--json']);
  for (const out of [list.stdout, show.stdout, stored.stdout]) {
    assert.ok(!out.includes(c.client_secret));
    assert.ok(!/[0-9a-f]{64}/.test(out), 'no digest');
  }
  assert.ok((JSON.parse(list.stdout) as Array<{ client_id: string }>).some((x) => x.client_id === c.client_id));
});

test('clients list and show line up their columns whatever the lengths of ids and field names', async () => {
  const c = await create();
  const imported = await cli(['clients', 'create', '--data', data, '--name', 'short', '--id', 'acme-1', '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const rows = (await cli(['clients', 'list', '--data', data])).stdout.trimEnd().split('\n');
  assert.ok(rows.length >= 2);
  const statusAt = (row: string) => row.search(/ (active|disabled) /) + 1;
  assert.deepEqual(new Set(rows.map(statusAt)).size, 1, rows.join('\n'));
  assert.equal(statusAt(rows.find((r) => r.startsWith('acme-1 '))!), c.client_id.length + 2);
  const show = (await cli(['clients', 'show', c.client_id, '--data', data])).stdout.trimEnd().split('\n');
  const valueAt = new Set(show.map((line) => /^\S+ +/.exec(line)![0].length));
  const longest = Math.max(...show.map((line) => /^\S+/.exec(line)![0].length));
  assert.deepEqual([...valueAt], [longest + 2], show.join('\n'));
  assert.equal(longest, 'tls_client_certificate_bound_access_tokens'.length, 'the longest field name sets the column');
});

test('rotate-secret: old and new both work during the overlap; at most two live secrets; --expire-old-in 0 ends the old one', async () => {
  const c = await create();
  const r1 = await cli(['clients', 'rotate-secret', c.client_id, '--data', data, '--json']);
  const s2 = JSON.parse(r1.stdout).client_secret as string;
  assert.equal((await token(c.client_id, c.client_secret)).status, 200);
  assert.equal((await token(c.client_id, s2)).status, 200);
  const r2 = await cli(['clients', 'rotate-secret', c.client_id, '--data', data, '--json']);
  const third = JSON.parse(r2.stdout);
  assert.equal(third.secrets.length, 2);
  assert.equal((await token(c.client_id, c.client_secret)).status, 401, 'the oldest of three is dropped');
  assert.equal((await token(c.client_id, s2)).status, 200);
  const r3 = await cli(['clients', 'rotate-secret', c.client_id, '--data', data, '--json', '--expire-old-in', '0']);
  assert.equal((await token(c.client_id, third.client_secret)).status, 401);
  assert.equal((await token(c.client_id, JSON.parse(r3.stdout).client_secret)).status, 200);
});

test('disable, enable, delete take effect on the running server at once', async () => {
  const c = await create();
  assert.equal((await cli(['clients', 'disable', c.client_id, '--data', data])).code, 0);
  const disabled = await token(c.client_id, c.client_secret);
  assert.equal(disabled.status, 401);
  assert.deepEqual(await disabled.json(), { error: 'invalid_client', error_description: 'The client is disabled.' });
  assert.equal((await cli(['clients', 'enable', c.client_id, '--data', data])).code, 0);
  assert.equal((await token(c.client_id, c.client_secret)).status, 200);
  assert.equal((await cli(['clients', 'delete', c.client_id, '--data', data])).code, 0);
  assert.equal((await token(c.client_id, c.client_secret)).status, 401);
  const again = await cli(['clients', 'delete', c.client_id, '--data', data]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `keymint: no such client ${c.client_id}; keymint clients list shows the clients in this store\n`);
});

test('keys rotate from the CLI: the server signs with the promoted key within its refresh interval', async () => {
  const list = JSON.parse((await cli(['keys', 'list', '--data', data, '--json'])).stdout) as Array<{ kid: string; state: string; alg: string; use: string }>;
  const next = list.find((k) => k.use === 'sig' && k.alg === 'RS256' && k.state === 'next')!;
  assert.ok(!JSON.stringify(list).includes('sealed'));
  assert.equal((await cli(['keys', 'rotate', '--data', data])).code, 0);
  const c = await create();
  let kid = '';
  for (let i = 0; i < 50 && kid !== next.kid; i++) {
    const t = ((await (await token(c.client_id, c.client_secret)).json()) as { access_token: string }).access_token;
    kid = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
    if (kid !== next.kid) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(kid, next.kid);
  const audit = JSON.parse((await cli(['audit', '--data', data, '--json'])).stdout) as Array<{ action: string; actor: string }>;
  assert.ok(audit.some((e) => e.action === 'key.rotate' && e.actor === 'cli'));
});

test('kill -9, restart: clients, secrets and keys survive; a token issued before still verifies', async () => {
  const c = await create();
  const before = ((await (await token(c.client_id, c.client_secret)).json()) as { access_token: string }).access_token;
  await stop(server, 'SIGKILL');
  server = await serve(SERVE_ARGS);
  assert.equal((await token(c.client_id, c.client_secret)).status, 200);
  const jwks = createLocalJWKSet((await (await fetch(`${server.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
  const { payload } = await jwtVerify(before, jwks, { issuer: 'http://localhost:8080', typ: 'at+jwt' });
  assert.equal(payload.client_id, c.client_id);
});

test('S-06 logs carry no secret and no token', async () => {
  const c = await create();
  await token(c.client_id, c.client_secret);
  await token(c.client_id, 'wrong');
  await server.logged('"status":401');
  assert.match(server.logs(), /"path":"\/oauth2\/token","status":401/, 'requests are logged at debug level');
  assert.ok(!server.logs().includes(c.client_secret));
  assert.ok(!server.logs().includes('eyJ'));
});

test('a bad config value stops startup naming the flag or the variable the operator gave it with', async () => {
  const r = await cli(['serve', '--data', data, '--alg', 'HS256']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'keymint: --alg: must be one of RS256, PS256, ES256, EdDSA\n');
  const port = await cli(['serve', '--data', data, '--port', 'eighty']);
  assert.equal(port.stderr, 'keymint: --port: expected a whole number, got "eighty"\n');
  // A variable set and forgotten is named, so the operator finds it; a flag given over it wins unread.
  const fromEnv = await cli(['serve', '--data', data], { KEYMINT_PORT: 'eighty' });
  assert.deepEqual([fromEnv.code, fromEnv.stderr], [2, 'keymint: KEYMINT_PORT: expected a whole number, got "eighty"\n']);
  const listing = await cli(['clients', 'list', '--data', data], { KEYMINT_ALG: 'HS256' });
  assert.deepEqual([listing.code, listing.stderr], [2, 'keymint: KEYMINT_ALG: must be one of RS256, PS256, ES256, EdDSA\n']);
  // On a port another process holds: the mistyped flag is named, not the port.
  const held = createServer().listen(0, '127.0.0.1');
  await once(held, 'listening');
  try {
    const busy = String((held.address() as AddressInfo).port);
    const dialect = await cli(['serve', '--data', data, '--port', busy, '--dialect', 'nope']);
    assert.equal(dialect.code, 2);
    assert.match(dialect.stderr, /^keymint: config dialects: unknown dialect "nope"; known: oauth2/);
  } finally {
    held.close();
  }
});

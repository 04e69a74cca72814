/** `keymint clients update` and `clients create --id … --secret-env|--secret-file`, by the real CLI beside a running server. */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { basic, tempDir } from './support/harness.ts';
import { cli, serve, stop, type ServeProcess } from './support/process.ts';

const data = tempDir('keymint-cli-edit-');
let server: ServeProcess;
before(async () => {
  server = await serve(['--data', data, '--log-level', 'info', '--issuer', 'http://localhost:8080']);
});
after(async () => {
  await stop(server);
  rmSync(data, { recursive: true, force: true });
});

const token = (id: string, secret: string, scope?: string) =>
  fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
    body: `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
  });

test('CE-01 clients update: add and remove scopes, metadata and claims, --ttl default; the running server follows', async () => {
  const created = await cli(['clients', 'create', '--data', data, '--name', 'partner', '--scope', 'payments:read', '--metadata', 'team=payments', '--claim', 'tenant=acme', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string; metadata: unknown; claims: unknown };
  assert.deepEqual(c.metadata, { team: 'payments' });
  assert.deepEqual(c.claims, { tenant: 'acme' });
  assert.equal((await token(c.client_id, c.client_secret, 'payments:write')).status, 400);

  const up = await cli([
    'clients', 'update', c.client_id, '--data', data, '--json',
    '--add-scope', 'payments:write', '--remove-scope', 'payments:read', '--ttl', '90', '--rate-limit', '60',
    '--metadata', 'ticket=OPS-7', '--remove-metadata', 'team', '--claim-json', 'tier=2', '--untrusted',
  ]);
  assert.equal(up.code, 0, up.stderr);
  const view = JSON.parse(up.stdout) as Record<string, unknown>;
  assert.deepEqual(view.scopes, ['payments:write']);
  assert.equal(view.access_token_ttl, 90);
  assert.equal(view.rate_limit, 60);
  assert.deepEqual(view.metadata, { ticket: 'OPS-7' });
  assert.deepEqual(view.claims, { tenant: 'acme', tier: 2 });
  assert.ok(!up.stdout.includes(c.client_secret));
  const res = await token(c.client_id, c.client_secret, 'payments:write');
  assert.equal(res.status, 200, 'the server sees the change (SQLite change marker)');
  assert.equal(((await res.json()) as { expires_in: number }).expires_in, 90);
  assert.equal((await token(c.client_id, c.client_secret, 'payments:read')).status, 400);

  const human = await cli(['clients', 'update', c.client_id, '--data', data, '--ttl', 'default', '--clear', 'claim']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^access_token_ttl +null$/m);
  assert.match(human.stdout, /^claims +-$/m);
  assert.match(human.stdout, /^metadata +\{"ticket":"OPS-7"\}$/m);

  const audit = await cli(['audit', '--data', data, '--json', '--limit', '5']);
  const events = JSON.parse(audit.stdout) as Array<{ action: string; actor: string; target: string; detail: Record<string, unknown> }>;
  const updates = events.filter((e) => e.target === c.client_id && e.action === 'client.update');
  assert.equal(updates.length, 2);
  assert.equal(updates[0]!.actor, 'cli');
  assert.equal(updates[0]!.detail.changed, 'access_token_ttl,claims');
});

test('CE-01 clients update refuses what cannot change, an unknown --clear and nothing to do: exit 2, one line', async () => {
  const created = await cli(['clients', 'create', '--data', data, '--name', 'fixed', '--json']);
  const id = (JSON.parse(created.stdout) as { client_id: string }).client_id;
  for (const [args, line] of [
    [['--mode', 'sandbox'], 'keymint clients update: unknown flag --mode; see keymint clients update --help\n'],
    [['--clear', 'name'], 'keymint clients update: --clear must be one of scope, grant, redirect-uri, post-logout-redirect-uri, backchannel-logout-uri, allow-audience, allow-dialect, exchange-audience, exchange-scope, introspect-audience, metadata, claim, ttl, rate-limit, got "name"; see keymint clients update --help\n'],
    [[], 'keymint: update: nothing to change: give at least one setting (keymint clients update --help lists them)\n'],
    [['--claim', 'sub=x'], 'keymint: claims: sub is a registered or protocol claim that Keymint sets itself\n'],
    [['--ttl', 'soon'], 'keymint: ttl: ttl must be a whole number of seconds in 1..86400\n'],
  ] as Array<[string[], string]>) {
    const r = await cli(['clients', 'update', id, '--data', data, ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, line);
  }
  const missing = await cli(['clients', 'update', 'sk_live_000000000000000000000000', '--data', data, '--name', 'x']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'keymint: no such client sk_live_000000000000000000000000; keymint clients list shows the clients in this store\n');
});

test('CE-07 clients create --id with --secret-env or --secret-file imports a client; the secret is never echoed; --secret warns', async () => {
  const secret = 'vault-held-secret-0123456789';
  const fromEnv = await cli(['clients', 'create', '--data', data, '--name', 'imported', '--id', 'acme-prod', '--secret-env', 'ACME_SECRET', '--json'], { ACME_SECRET: secret });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stderr, '');
  assert.ok(!fromEnv.stdout.includes(secret), 'not echoed');
  assert.equal((JSON.parse(fromEnv.stdout) as { client_id: string }).client_id, 'acme-prod');
  assert.equal((await token('acme-prod', secret)).status, 200);

  const file = join(data, 'secret.txt');
  writeFileSync(file, 'file-held-secret-0123456789\n', { mode: 0o600 });
  const fromFile = await cli(['clients', 'create', '--data', data, '--name', 'imported', '--id', 'acme-file', '--secret-file', file]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(fromFile.stdout, 'client_id:     acme-file\nclient_secret: (the one given; Keymint stores only its digest)\n');
  assert.equal((await token('acme-file', 'file-held-secret-0123456789')).status, 200, 'the trailing newline is not part of the secret');

  const argv = await cli(['clients', 'create', '--data', data, '--name', 'imported', '--id', 'acme-argv', '--secret', 'argv-secret-0123456789']);
  assert.equal(argv.code, 0);
  assert.equal(argv.stderr, 'keymint: warning: --secret puts the secret on the command line, where ps and shell history keep it; use --secret-env VAR or --secret-file PATH\n');

  const unset = await cli(['clients', 'create', '--data', data, '--name', 'x', '--id', 'acme-unset', '--secret-env', 'NOT_SET_ANYWHERE']);
  assert.equal(unset.code, 2);
  assert.equal(unset.stderr, 'keymint: secret-env: the environment variable NOT_SET_ANYWHERE is not set\n');
  const short = await cli(['clients', 'create', '--data', data, '--name', 'x', '--id', 'acme-short', '--secret-env', 'S'], { S: 'short' });
  assert.equal(short.code, 2);
  assert.equal(short.stderr, 'keymint: client_secret: client_secret must be at least 16 characters (shorter ones only in sandbox mode)\n');
  const dup = await cli(['clients', 'create', '--data', data, '--name', 'x', '--id', 'acme-prod', '--secret-env', 'S'], { S: 'another-secret-0123456' });
  assert.equal(dup.code, 2);
  assert.equal(dup.stderr, 'keymint: client_id: a client with this client_id exists already\n');
  const list = JSON.parse((await cli(['clients', 'list', '--data', data, '--json'])).stdout) as Array<{ client_id: string }>;
  assert.deepEqual(list.map((c) => c.client_id).filter((id) => id.startsWith('acme-')).sort(), ['acme-argv', 'acme-file', 'acme-prod']);
});

test('OBJ-01 clients update keeps a metadata key named __proto__, and removes it again; a claim so named is refused and changes nothing', async () => {
  const created = await cli(['clients', 'create', '--data', data, '--name', 'proto', '--metadata', 'a=b', '--json']);
  const { client_id: id } = JSON.parse(created.stdout) as { client_id: string };
  const up = await cli(['clients', 'update', id, '--data', data, '--metadata', '__proto__=z', '--json']);
  assert.equal(up.code, 0, up.stderr);
  const view = JSON.parse(up.stdout) as { metadata: object; claims: object };
  assert.deepEqual(Object.entries(view.metadata).sort(), [['__proto__', 'z'], ['a', 'b']]);
  const claim = await cli(['clients', 'update', id, '--data', data, '--claim', '__proto__=y', '--json']);
  assert.equal(claim.code, 2);
  assert.equal(claim.stderr, 'keymint: claims: __proto__ is not allowed as a claim name: JavaScript verifiers would read it as a prototype\n');
  const removed = await cli(['clients', 'update', id, '--data', data, '--remove-metadata', '__proto__', '--json']);
  const after = JSON.parse(removed.stdout) as { metadata: object; claims: object };
  assert.deepEqual(Object.entries(after.metadata), [['a', 'b']]);
  assert.deepEqual(Object.entries(after.claims ?? {}), [], 'the refused claim was not written');
});

test('clients create without a secret (a public client, a private_key_jwt client) says why there is none', async () => {
  const web = await cli(['clients', 'create', '--data', data, '--name', 'web', '--id', 'web-app', '--type', 'public', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb']);
  assert.equal(web.code, 0, web.stderr);
  assert.equal(web.stdout, 'client_id:     web-app\nclient_secret: none (a public client: its authorization codes are bound to it with PKCE)\n');
  const jwks = join(data, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] }));
  const m2m = await cli(['clients', 'create', '--data', data, '--name', 'm2m', '--id', 'm2m-keys', '--auth-method', 'private_key_jwt', '--jwks-file', jwks]);
  assert.equal(m2m.code, 0, m2m.stderr);
  assert.equal(m2m.stdout, 'client_id:     m2m-keys\nclient_secret: none (private_key_jwt: it signs assertions with its keys)\n');
});

test('I-19 I-17 clients create --introspect-audience makes a resource server the running server answers; update --clear introspect-audience ends it', async () => {
  const API = 'https://orders.example.com';
  const make = async (args: string[]) => {
    const out = await cli(['clients', 'create', '--data', data, '--json', ...args]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout) as { client_id: string; client_secret: string; introspection_audiences: string[] };
  };
  const customer = await make(['--name', 'customer', '--scope', 'orders:read', '--allow-audience', API]);
  const rs = await make(['--name', 'Orders API', '--introspect-audience', API, '--introspect-audience', API]);
  assert.deepEqual(rs.introspection_audiences, [API]);
  const issued = await token(customer.client_id, customer.client_secret, 'orders:read');
  const { access_token } = (await issued.json()) as { access_token: string };
  const introspect = async () => {
    const res = await fetch(`${server.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.client_id, rs.client_secret) },
      body: `token=${access_token}`,
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };
  const body = await introspect();
  assert.deepEqual([body.active, body.client_id, body.aud, body.scope], [true, customer.client_id, API, 'orders:read']);
  const bad = await cli(['clients', 'update', rs.client_id, '--data', data, '--introspect-audience', `${API}#frag`]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /introspection audience is an absolute URI of at most 2048 characters without a fragment/);
  const cleared = await cli(['clients', 'update', rs.client_id, '--data', data, '--json', '--clear', 'introspect-audience']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.deepEqual((JSON.parse(cleared.stdout) as { introspection_audiences: string[] }).introspection_audiences, []);
  assert.deepEqual(await introspect(), { active: false });
});

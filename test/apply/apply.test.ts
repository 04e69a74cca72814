/**
 * `keymint apply` and `keymint export` by the real CLI on one SQLite store, with a server running on
 * it: the plan, idempotence, secrets from the environment and generated into files (never printed),
 * prune touching only what apply created, export read back as no change, and bad files that change
 * nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { basic, tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';

const dir = tempDir('keymint-apply-');
const data = join(dir, 'data');
const file = join(dir, 'keymint.yaml');
const BILLING_SECRET = 'billing-secret-from-the-environment-0001';
const env = { BILLING_SECRET };
let server: ServeProcess;

before(async () => {
  mkdirSync(join(dir, 'secrets'));
  server = await serve(['--data', data, '--log-level', 'info']);
});
after(async () => {
  await stop(server);
  rmSync(dir, { recursive: true, force: true });
});

const apply = (text: string, ...flags: string[]) => {
  writeFileSync(file, text);
  return cli(['apply', '-f', file, '--data', data, ...flags], env);
};
const exported = async () => {
  const r = await cli(['export', '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};
const ids = async (): Promise<Record<string, string>> => {
  const r = await cli(['clients', 'list', '--json', '--data', data]);
  return Object.fromEntries((JSON.parse(r.stdout) as Array<{ name: string; client_id: string }>).map((c) => [c.name, c.client_id]));
};
const token = async (id: string, secret: string, scope: string) => {
  const res = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
    body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const FILE = `version: 1
clients:
  billing:
    name: Billing
    scopes: [payments:read, payments:write]
    rateLimit: 600
    claims: { org_id: acme }
    metadata: { team: payments }
    secret: { env: BILLING_SECRET }
  portal:
    name: Portal
    type: public
    grants: [authorization_code, refresh_token]
    redirectUris: [https://portal.example.com/callback]
  batch:
    name: Batch
    scopes: [reports:read]
    secret: { file: secrets/batch, generate: true }
`;

test('CAC-04 apply creates what the file names; the second run reports no changes', async () => {
  const first = await apply(FILE);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(
    first.stdout,
    [
      '  + billing: create (confidential, live, secret: env BILLING_SECRET)',
      '  + portal: create (public, live)',
      '  + batch: create (confidential, live, secret: generated into secrets/batch (0600))',
      'Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged.',
      'Applied: 3 created, 0 updated, 0 deleted.',
      '',
    ].join('\n'),
  );
  assert.equal(first.stderr, '');
  const second = await apply(FILE);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, `No changes: the store matches ${file} (3 clients).\n`);
});

test('CAC-01 secrets: the environment one and the generated one authenticate; the generated file is 0600; neither is printed', async () => {
  const { Billing, Batch } = await ids();
  const billing = await token(Billing!, BILLING_SECRET, 'payments:write');
  assert.equal(billing.status, 200);
  assert.equal(billing.body.scope, 'payments:write');
  const generated = readFileSync(join(dir, 'secrets', 'batch'), 'utf8');
  assert.match(generated, /^ks_[0-9A-Za-z]{49}\n$/);
  assert.equal(statSync(join(dir, 'secrets', 'batch')).mode & 0o777, 0o600);
  assert.equal((await token(Batch!, generated.trim(), 'reports:read')).status, 200);
  const shown = await cli(['clients', 'show', Billing!, '--json', '--data', data]);
  assert.equal(JSON.parse(shown.stdout).managed_by, 'apply:billing');
  for (const r of [await apply(FILE), await apply(FILE, '--json'), await cli(['export', '--data', data]), await cli(['audit', '--json', '--data', data])]) {
    assert.ok(!r.stdout.includes(BILLING_SECRET) && !r.stderr.includes(BILLING_SECRET), 'the environment secret is never printed');
    assert.ok(!r.stdout.includes(generated.trim()) && !r.stderr.includes(generated.trim()), 'the generated secret is never printed');
  }
});

test('a narrowed scope and a raised limit are one update; the server refuses the dropped scope at once', async () => {
  const changed = FILE.replace('scopes: [payments:read, payments:write]', 'scopes: [payments:read]').replace('rateLimit: 600', 'rateLimit: 1200');
  const { Billing } = await ids();
  const dry = await apply(changed, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(
    dry.stdout,
    [
      `  ~ billing ${Billing}: update`,
      '      scopes: [payments:read, payments:write] → [payments:read]',
      '      rateLimit: 600 → 1200',
      'Plan: 0 to create, 1 to update, 0 to delete, 2 unchanged.',
      'Dry run: nothing was changed.',
      '',
    ].join('\n'),
  );
  assert.equal((await token(Billing!, BILLING_SECRET, 'payments:write')).status, 200, 'the dry run changed nothing');
  const real = await apply(changed);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /Applied: 0 created, 1 updated, 0 deleted\.\n$/);
  const refused = await token(Billing!, BILLING_SECRET, 'payments:write');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, 'invalid_scope');
  assert.equal((await apply(changed)).stdout, `No changes: the store matches ${file} (3 clients).\n`);
});

test('a changed secret source rotates to it; the old secret keeps working for the overlap', async () => {
  const { Billing } = await ids();
  const next = 'the-next-billing-secret-0002';
  const r = await cli(['apply', '-f', file, '--data', data, '--expire-old-in', '60'], { BILLING_SECRET: next });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`  ~ billing ${Billing}: update\n      secret: another secret → env BILLING_SECRET\n`));
  assert.ok(!r.stdout.includes(next));
  assert.equal((await token(Billing!, next, 'payments:read')).status, 200);
  assert.equal((await token(Billing!, BILLING_SECRET, 'payments:read')).status, 200);
  const again = await cli(['apply', '-f', file, '--data', data], { BILLING_SECRET: next });
  assert.equal(again.stdout, `No changes: the store matches ${file} (3 clients).\n`);
  // Back to the first secret for the tests that follow (it is still live: no rotation needed).
  assert.equal((await apply(readFileSync(file, 'utf8'))).stdout, `No changes: the store matches ${file} (3 clients).\n`);
});

test('CAC-02 --prune deletes only clients apply created that the file no longer names', async () => {
  const made = await cli(['clients', 'create', '--name', 'Hand made', '--json', '--data', data]);
  assert.equal(made.code, 0, made.stderr);
  const handMade = JSON.parse(made.stdout).client_id as string;
  const { Portal } = await ids();
  const withoutPortal = readFileSync(file, 'utf8').replace(/  portal:\n(    .*\n)+/, '');
  const kept = await apply(withoutPortal);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(kept.stdout, `  ! portal ${Portal}: created by apply and no longer in the file; kept (--prune deletes it)\nNo changes: the store matches ${file} (2 clients).\n`);
  const pruned = await apply(withoutPortal, '--prune');
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stdout, `  - portal ${Portal}: delete (created by apply, no longer in the file)\nPlan: 0 to create, 0 to update, 1 to delete, 2 unchanged.\nApplied: 0 created, 0 updated, 1 deleted.\n`);
  const left = await ids();
  assert.equal(left.Portal, undefined);
  assert.equal(left['Hand made'], handMade, 'a client made by the CLI is never pruned');
  assert.equal((await apply('version: 1\nclients: {}\n', '--prune', '--dry-run')).stdout.split('\n').filter((l) => l.startsWith('  - ')).length, 2, 'only the two apply made');
});

test('CAC-04 export then apply is no change, for clients apply made and clients made by hand alike', async () => {
  const text = await exported();
  assert.ok(text.startsWith('# keymint export'));
  assert.ok(!text.includes('secret:'), 'no secret sources in an export');
  const r = await apply(text, '--prune');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `No changes: the store matches ${file} (3 clients).\n`);
  assert.equal(await exported(), text);
});

test('CAC-03 bad files: one line naming file, line and field, exit 2, and nothing changes', async () => {
  const before = await exported();
  const cases: Array<[string, Record<string, string>, string]> = [
    ['version: 1\nclients:\n  billing:\n    scope: [a]\n', env, `keymint: ${file}:4:5: clients.billing.scope: is not a known field; did you mean scopes?\n`],
    ['version: 1\nclients:\n  x:\n    dialects: [klingon]\n    secret: {env: BILLING_SECRET}\n', env, `keymint: ${file}:4:15: clients.x.dialects: unknown dialect; known: oauth2, polygon-oms, orum, polar, tradevest, fuuffy\n`],
    ['version: 1\nclients:\n  x:\n    tokenTtl: 999999999\n    secret: {env: BILLING_SECRET}\n', env, `keymint: ${file}:4:15: clients.x.tokenTtl: ttl must be a whole number of seconds in 1..86400\n`],
    ['version: 1\nclients:\n  x:\n    claims: {iss: me}\n    secret: {env: BILLING_SECRET}\n', env, `keymint: ${file}:4:13: clients.x.claims: iss is a registered or protocol claim that Keymint sets itself\n`],
    ['version: 1\nclients:\n  x:\n    secret: {env: NOT_SET_ANYWHERE}\n', env, `keymint: ${file}:4:19: clients.x.secret.env: the environment variable NOT_SET_ANYWHERE is not set (or empty)\n`],
    ['version: 1\nclients:\n  x:\n    secret: {file: secrets/none}\n', env, `keymint: ${file}:4:20: clients.x.secret.file: ${join(dir, 'secrets/none')} does not exist; create it, or add generate: true to have apply write a new secret there\n`],
    ['version: 1\nclients:\n  x: {}\n', env, `keymint: ${file}:3:6: clients.x: a new confidential client needs a secret: secret.env, secret.file, or secret.file with generate: true (apply never prints one)\n`],
    ['version: 1\nclients:\n  billing:\n    type: public\n', env, `keymint: ${file}:4:11: clients.billing.type: the client ${(await ids()).Billing} is confidential and a type never changes; give the entry a new key (and no id) to create another client\n`],
    ['version: 1\nclients: {}\nsandbox: {faults: []}\n', env, `keymint: ${file}:3:1: sandbox: this is a sandbox file: \`keymint sandbox --file\` loads it; \`apply\` does not (remove the section to apply its clients)\n`],
    ['version: 1\nclients:\n  x:\n    secret: {value: literal-secret-0000}\n', env, `keymint: ${file}:4:14: clients.x.secret.value: a secret written in the file is for sandbox files only; use secret.env or secret.file\n`],
    ['{"version": 1, "clients": {"x": {"scopes": "a"}}}', env, `keymint: ${file}:1:44: clients.x.scopes: must be a list\n`],
  ];
  for (const [text, e, message] of cases) {
    writeFileSync(file, text);
    const r = await cli(['apply', '-f', file, '--data', data], e);
    assert.equal(r.stderr, message, text);
    assert.equal(r.code, 2, text);
    assert.equal(r.stdout, '', text);
  }
  // A valid create beside a refused update: the create does not happen either.
  const mixed = `${before.replace(/^# .*\n# .*\n\n/, '')}  fresh:\n    secret: {env: BILLING_SECRET}\n  broken:\n    dialects: [klingon]\n    secret: {env: BILLING_SECRET}\n`;
  writeFileSync(file, mixed);
  const r = await cli(['apply', '-f', file, '--data', data], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /clients\.broken\.dialects: unknown dialect/);
  assert.equal(await exported(), before, 'nothing changed');
  assert.ok(!existsSync(join(dir, 'secrets', 'none')));
});

test('CAC-03 a bad file on a fresh data directory creates nothing', async () => {
  const fresh = join(dir, 'fresh');
  writeFileSync(file, 'version: 1\nclients:\n  x:\n    scope: [a]\n');
  const r = await cli(['apply', '-f', file, '--data', fresh], env);
  assert.equal(r.code, 2);
  assert.ok(!existsSync(fresh), 'no data directory was created');
  const missing = await cli(['apply', '-f', join(dir, 'nope.yaml'), '--data', fresh], env);
  assert.equal(missing.stderr, `keymint: ${join(dir, 'nope.yaml')}: no such file\n`);
  assert.equal(missing.code, 2);
});

/**
 * The apply planner: a pure comparison of a file with stored clients. What it creates, updates and
 * deletes, what it leaves alone, and what it refuses (naming the field), with no store involved.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigFile } from '../../src/config/file.ts';
import { plan, PlanError, type PlanInput, type ResolvedSecret } from '../../src/credentials/apply/plan.ts';
import type { ClientRecord } from '../../src/storage/types.ts';

let clock = 1_000;
function record(over: Partial<ClientRecord> & { id: string }): ClientRecord {
  return {
    name: over.id,
    mode: 'live',
    environment: 'prod',
    type: 'confidential',
    status: 'active',
    grants: ['client_credentials'],
    scopes: [],
    audiences: [],
    dialects: [],
    redirectUris: [],
    trusted: false,
    accessTokenTtl: null,
    rateLimit: null,
    secrets: [],
    createdAt: clock++,
    updatedAt: clock,
    ...over,
  };
}

const SECRET: ResolvedSecret = { value: 's3cret-value-of-enough-length', from: 'env BILLING_SECRET' };

function run(yaml: string, clients: ClientRecord[], extra: Partial<PlanInput> = {}) {
  return plan({
    file: parseConfigFile(yaml).file,
    clients,
    secrets: new Map([['billing', SECRET]]),
    holds: (c, s) => c.secrets.some((x) => x.digest === s),
    prune: false,
    ...extra,
  });
}

const BILLING = `version: 1
clients:
  billing:
    scopes: [payments:read]
    rateLimit: 600
    secret: { env: BILLING_SECRET }
`;

test('an empty store: every entry is created, managed by apply under its key, with its secret', () => {
  const p = run(BILLING, []);
  assert.equal(p.steps.length, 1);
  const step = p.steps[0]!;
  assert.equal(step.action, 'create');
  if (step.action !== 'create') return;
  assert.equal(step.key, 'billing');
  assert.equal(step.managedBy, 'apply:billing');
  assert.equal(step.mode, 'live');
  assert.equal(step.type, 'confidential');
  assert.deepEqual(step.spec.scopes, ['payments:read']);
  assert.equal(step.spec.name, 'billing');
  assert.equal(step.spec.rateLimit, 600);
  assert.equal(step.secret, SECRET);
  assert.deepEqual([p.unchanged, p.kept, p.unmanaged], [[], [], 0]);
});

test('the matching client: no steps when it agrees, list order and key order carry no meaning', () => {
  const c = record({ id: 'sk_live_a', name: 'billing', managedBy: 'apply:billing', scopes: ['payments:read'], rateLimit: 600, secrets: [{ id: 's', pepperKid: 'p', digest: SECRET.value, createdAt: 0, expiresAt: null, lastUsedAt: null }] });
  const p = run(BILLING, [c]);
  assert.deepEqual(p.steps, []);
  assert.deepEqual(p.unchanged, [{ key: 'billing', id: 'sk_live_a' }]);
  const two = record({ id: 'sk_live_b', name: 'x', managedBy: 'apply:x', scopes: ['b', 'a'], metadata: { z: '1', a: '2' } });
  assert.deepEqual(run('version: 1\nclients:\n  x:\n    scopes: [a, b]\n    metadata: {a: "2", z: "1"}\n', [two]).steps, []);
});

test('a changed scope, limit and claim are one update listing each field from → to', () => {
  const c = record({ id: 'sk_live_a', name: 'billing', managedBy: 'apply:billing', scopes: ['payments:read', 'payments:write'], rateLimit: 100, claims: { org_id: 'acme' } });
  const p = run('version: 1\nclients:\n  billing:\n    scopes: [payments:read]\n    rateLimit: 600\n', [c]);
  const steps = p.steps.map((s) => (s.action === 'update' ? (({ spec: _spec, ...rest }) => rest)(s) : s));
  assert.deepEqual(steps, [
    {
      action: 'update',
      key: 'billing',
      id: 'sk_live_a',
      changes: [
        { field: 'scopes', from: '[payments:read, payments:write]', to: '[payments:read]' },
        { field: 'rateLimit', from: '100', to: '600' },
        { field: 'claims', from: '{"org_id":"acme"}', to: '{}' },
      ],
      patch: { scopes: ['payments:read'], rateLimit: 600, claims: {} },
      status: undefined,
      secret: undefined,
      managedBy: undefined,
    },
  ]);
});

test('secrets: a declared secret not among the live ones is a rotation; an absent source leaves secrets alone', () => {
  const c = record({ id: 'sk_live_a', name: 'billing', managedBy: 'apply:billing', scopes: ['payments:read'], rateLimit: 600, secrets: [{ id: 's', pepperKid: 'p', digest: 'other', createdAt: 0, expiresAt: null, lastUsedAt: null }] });
  const p = run(BILLING, [c]);
  assert.equal(p.steps.length, 1);
  const step = p.steps[0]!;
  assert.ok(step.action === 'update');
  assert.deepEqual(step.changes, [{ field: 'secret', from: 'another secret', to: 'env BILLING_SECRET' }]);
  assert.equal(step.secret, SECRET);
  const generated = { value: 'new', from: 'generated into s (0600)', writeTo: '/tmp/s' };
  assert.deepEqual(run(BILLING, [c], { secrets: new Map([['billing', generated]]) }).steps, [], 'a generated secret never replaces an existing client\'s');
  assert.deepEqual(run(BILLING.replace('    secret: { env: BILLING_SECRET }\n', ''), [c]).steps, []);
});

test('status: absent leaves it, declared converges it', () => {
  const c = record({ id: 'sk_live_a', name: 'a', managedBy: 'apply:a', status: 'disabled' });
  assert.deepEqual(run('version: 1\nclients:\n  a: {}\n', [c]).steps, []);
  const step = run('version: 1\nclients:\n  a: {status: active}\n', [c]).steps[0]!;
  assert.ok(step.action === 'update');
  assert.equal(step.status, 'active');
  assert.deepEqual(step.changes, [{ field: 'status', from: 'disabled', to: 'active' }]);
});

test('CAC-02 prune: deletes only apply-made clients whose key is gone; hand-made and registered clients are never touched', () => {
  const managedGone = record({ id: 'sk_live_gone', name: 'Old', managedBy: 'apply:old' });
  const handMade = record({ id: 'sk_live_cli', name: 'cli' });
  const registered = record({ id: 'sk_live_reg', name: 'reg', registrationToken: { pepperKid: 'p', digest: 'd' } });
  const otherTool = record({ id: 'sk_live_tf', name: 'tf', managedBy: 'terraform' });
  const kept = record({ id: 'sk_live_keep', name: 'keep', managedBy: 'apply:keep' });
  const all = [managedGone, handMade, registered, otherTool, kept];
  const file = 'version: 1\nclients:\n  keep: {}\n';
  const without = run(file, all);
  assert.deepEqual(without.steps, []);
  assert.deepEqual(without.kept, [{ key: 'old', id: 'sk_live_gone', name: 'Old' }]);
  assert.equal(without.unmanaged, 3);
  const pruned = run(file, all, { prune: true });
  assert.deepEqual(pruned.steps, [{ action: 'delete', key: 'old', id: 'sk_live_gone', name: 'Old' }]);
  assert.deepEqual(pruned.kept, []);
  assert.equal(pruned.unmanaged, 3);
});

test('an id names any client: adopted and updated, never marked managed, never pruned when dropped', () => {
  const handMade = record({ id: 'sk_live_cli', name: 'cli', scopes: ['a'] });
  const p = run('version: 1\nclients:\n  partner:\n    id: sk_live_cli\n    name: cli\n    scopes: [a, b]\n', [handMade]);
  const step = p.steps[0]!;
  assert.ok(step.action === 'update');
  assert.deepEqual(step.changes, [{ field: 'scopes', from: '[a]', to: '[a, b]' }]);
  assert.equal(step.managedBy, undefined);
  assert.deepEqual(run('version: 1\nclients: {}\n', [handMade], { prune: true }).steps, []);
});

test('an id the store does not hold is a create with that id (an import)', () => {
  const step = run('version: 1\nclients:\n  imported:\n    id: partner-7\n    secret: {env: X}\n', [], { secrets: new Map([['imported', SECRET]]) }).steps[0]!;
  assert.ok(step.action === 'create');
  assert.equal(step.id, 'partner-7');
});

test('a renamed key with the id kept moves the client to the new key', () => {
  const c = record({ id: 'sk_live_a', name: 'svc', managedBy: 'apply:old-key' });
  const step = run('version: 1\nclients:\n  new-key:\n    id: sk_live_a\n    name: svc\n', [c], { prune: true }).steps;
  assert.deepEqual(step.map((s) => s.action), ['update']);
  assert.ok(step[0]!.action === 'update');
  assert.deepEqual(step[0]!.changes, [{ field: 'key', from: 'old-key', to: 'new-key' }]);
  assert.equal(step[0]!.managedBy, 'apply:new-key');
});

test('refusals name the field: mode and type never change; a new confidential client needs a secret source; secrets only where they fit', () => {
  const c = record({ id: 'sk_live_a', name: 'a', managedBy: 'apply:a' });
  const refused = (yaml: string, clients: ClientRecord[], field: string, message: RegExp) =>
    assert.throws(() => run(yaml, clients), (err: unknown) => err instanceof PlanError && err.field.join('.') === field && message.test(err.message));
  refused('version: 1\nclients:\n  a: {type: public}\n', [c], 'clients.a.type', /^the client sk_live_a is confidential and a type never changes/);
  refused('version: 1\nclients:\n  a: {mode: sandbox}\n', [c], 'clients.a.mode', /is live and a mode never changes/);
  refused('version: 1\nclients:\n  fresh: {}\n', [], 'clients.fresh', /^a new confidential client needs a secret: secret.env, secret.file/);
  refused('version: 1\nclients:\n  spa: {type: public, grants: [authorization_code], secret: {env: X}}\n', [], 'clients.spa.secret', /^a public client has no secret$/);
  refused('version: 1\nclients:\n  k: {authMethod: private_key_jwt, jwksUri: "https://k.example/jwks", secret: {env: X}}\n', [], 'clients.k.secret', /^a private_key_jwt client has no secret$/);
});

test('public and private_key_jwt clients are created without a secret source', () => {
  const p = run('version: 1\nclients:\n  spa: {type: public, grants: [authorization_code]}\n  k: {authMethod: private_key_jwt, jwksUri: "https://k.example/jwks"}\n', []);
  assert.deepEqual(p.steps.map((s) => s.action), ['create', 'create']);
});

test('absent mode and type on an existing client match what it is', () => {
  const c = record({ id: 'sk_dev_sdbx_a', name: 'a', managedBy: 'apply:a', mode: 'sandbox', type: 'public', grants: ['authorization_code'] });
  assert.deepEqual(run('version: 1\nclients:\n  a: {grants: [authorization_code]}\n', [c]).steps, []);
});

test('CAC-04 export → parse → plan is no change, whatever settings the clients have; keys are unique and valid', async () => {
  const { exportFile } = await import('../../src/credentials/apply/export.ts');
  const { exportYaml } = await import('../../src/cli/apply.ts');
  const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] };
  const clients = [
    record({ id: 'sk_live_full', name: 'Full settings', scopes: ['a', 'keymint:admin'], grants: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'], audiences: ['https://api.example.com'], dialects: ['orum'], trusted: true, accessTokenTtl: 600, rateLimit: 50, claims: { org_id: 'acme', tiers: [1, 2] }, metadata: { team: 'x' }, dpopBound: true, exchangeAudiences: ['https://b.example'], exchangeScopes: ['b'], status: 'disabled' }),
    record({ id: 'sk_live_keyed', name: 'Full settings', authMethod: 'private_key_jwt', jwks }),
    record({ id: 'sk_live_uri', name: '!!!', authMethod: 'private_key_jwt', jwksUri: 'https://k.example/jwks' }),
    record({ id: 'sk_live_pub', name: 'SPA', type: 'public', grants: ['authorization_code'], redirectUris: ['https://spa.example/cb'], mode: 'sandbox' }),
    record({ id: 'sk_live_managed', name: 'Named otherwise', managedBy: 'apply:billing' }),
    record({ id: 'sk_live_reg', name: 'billing', registrationToken: { pepperKid: 'p', digest: 'd' } }),
    record({ id: 'sk_live_web', name: 'Web', grants: ['authorization_code'], redirectUris: ['https://w.example/cb'], pkceRequired: false }),
  ];
  const yaml = exportYaml(exportFile(clients));
  const parsed = parseConfigFile(yaml);
  assert.deepEqual(Object.keys(parsed.file.clients), ['full-settings', 'full-settings-2', 'client', 'spa', 'billing', 'billing-2', 'web']);
  assert.equal(parsed.file.clients['full-settings']!.status, 'disabled');
  assert.equal(parsed.file.clients.billing!.name, 'Named otherwise');
  assert.equal(parsed.file.clients.web!.pkceRequired, false);
  const p = plan({ file: parsed.file, clients, secrets: new Map(), holds: () => false, prune: true });
  assert.deepEqual(p.steps, []);
  assert.equal(p.unchanged.length, clients.length);
  assert.ok(!/^\s+secret:/m.test(yaml), 'no secret or secret source');
});

test('CAC-01 the plan as text and as JSON names secret sources, never secret values', async () => {
  const { describePlan, planJson } = await import('../../src/cli/apply.ts');
  const c = record({ id: 'sk_live_a', name: 'billing', managedBy: 'apply:billing', scopes: ['payments:read'], rateLimit: 600 });
  const p = run(BILLING.replace('billing:', 'billing:\n    trusted: true'), [c]);
  const fresh = run(BILLING, []);
  for (const text of [describePlan(p, 'k.yaml'), describePlan(fresh, 'k.yaml'), JSON.stringify(planJson(p, true)), JSON.stringify(planJson(fresh, false))]) {
    assert.ok(!text.includes(SECRET.value), text);
  }
  assert.equal(describePlan(fresh, 'k.yaml'), '  + billing: create (confidential, live, secret: env BILLING_SECRET)\nPlan: 1 to create, 0 to update, 0 to delete, 0 unchanged.\n');
  assert.deepEqual(planJson(p, true).steps[0], { ...p.steps[0], secret: { from: 'env BILLING_SECRET' } });
  assert.equal(planJson(p, true).changes, true);
});

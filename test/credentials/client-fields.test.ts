/**
 * The field table (src/credentials/client-fields.ts) is the one list of a client's settings: each
 * surface it gives a field must expose it, so a field added to the table but missing on a surface
 * fails here, naming the field and the surface.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { clientsCreate, clientsUpdate } from '../../src/cli/clients.ts';
import type { CommandContext, Flags } from '../../src/cli/command.ts';
import { CLIENT_FIELD_NAMES, CLIENT_FIELDS, fieldsOn, ruleField, type ClientField, type FieldFlag } from '../../src/credentials/client-fields.ts';
import { ClientService } from '../../src/credentials/clients.ts';
import { declaredSpec, SPEC_FIELDS, type SpecField } from '../../src/credentials/apply/spec.ts';
import * as p from '../../src/console/pages/client-form.ts';
import { admin, clients } from '../console/support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'keymint-fields-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const jwksPath = join(dir, 'jwks.json');
writeFileSync(jwksPath, JSON.stringify({ keys: [] }));
const secretPath = join(dir, 'secret');
writeFileSync(secretPath, 'a-chosen-secret-of-some-length\n');
process.env.KEYMINT_TEST_FIELD_SECRET = 'a-chosen-secret-of-some-length';

/** A value the flag accepts, by what it takes. */
function sample(f: FieldFlag, command: 'create' | 'update'): Flags[string] {
  if (f.sets !== undefined) return true;
  if (f.choices) return f.choices.at(-1)!;
  if (f.flag === 'jwks-file') return jwksPath;
  if (f.flag === 'secret-file') return secretPath;
  if (f.flag === 'secret-env') return 'KEYMINT_TEST_FIELD_SECRET';
  if (f.value === 'SECONDS' || f.value === 'PER_MINUTE') return command === 'create' ? 60 : '60';
  if (f.value === 'NAME=JSON') return ['k=1'];
  return f.repeat ? [f.value?.includes('=') ? 'k=v' : 'x'] : 'x';
}

/** The input `clients create` or `update` hands ClientService for these flags. */
async function cliInput(command: 'create' | 'update', flags: Flags): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> = {};
  const core = {
    clients: {
      create: async (input: Record<string, unknown>) => ((seen = input), { client: { client_id: 'c' }, clientSecret: null }),
      show: async () => clients[0],
      update: async (_id: string, patch: Record<string, unknown>) => ((seen = patch), clients[0]),
    },
  };
  const write = process.stdout.write;
  const warn = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const ctx = { args: ['c'], flags: { name: 'n', ...flags }, withCore: (fn: (c: unknown) => Promise<unknown>) => fn(core) } as unknown as CommandContext;
    await (command === 'create' ? clientsCreate : clientsUpdate).run(ctx);
  } finally {
    process.stdout.write = write;
    process.stderr.write = warn;
  }
  return seen;
}

/** A value the rules refuse, per field; a field the rules do not check (admin, managedBy) has none. */
const REFUSED: Partial<Record<string, Record<string, unknown>>> = {
  name: { name: '' },
  scopes: { scopes: ['a"b'] },
  grants: { grants: ['password'] },
  mode: { mode: 'prod' },
  type: { type: 'secret' },
  ttl: { ttl: 0 },
  rateLimit: { rateLimit: 0 },
  trusted: { trusted: 'yes' },
  tokenReuse: { tokenReuse: 'yes' },
  pkceRequired: { pkceRequired: 'yes' },
  requirePar: { requirePar: 'yes' },
  requireSignedRequestObject: { requireSignedRequestObject: 'yes' },
  refreshTokenRotation: { refreshTokenRotation: 'yes' },
  securityProfile: { securityProfile: 'fapi1' },
  idTokenAlg: { idTokenAlg: 'ES256' },
  authorizationResponseAlg: { authorizationResponseAlg: 'EdDSA' },
  introspectionAlg: { introspectionAlg: 'ES256' },
  redirectUris: { redirectUris: ['http://evil.example/cb'] },
  postLogoutRedirectUris: { postLogoutRedirectUris: ['javascript:alert(1)'] },
  backchannelLogoutUri: { backchannelLogoutUri: 'http://app.example/logout' },
  backchannelLogoutSessionRequired: { backchannelLogoutSessionRequired: 'yes' },
  audiences: { audiences: ['not a uri'] },
  dialects: { dialects: ['nope'] },
  authMethod: { authMethod: 'none' },
  jwks: { authMethod: 'private_key_jwt', jwks: { keys: 'none' } },
  jwksUri: { authMethod: 'private_key_jwt', jwksUri: 'ftp://keys.example/' },
  tlsSubjectDn: { authMethod: 'tls_client_auth', tlsSubjectDn: 'no attribute type' },
  tlsSanDns: { authMethod: 'tls_client_auth', tlsSanDns: '' },
  tlsSanUri: { authMethod: 'tls_client_auth', tlsSanUri: 'not a uri' },
  tlsSanIp: { authMethod: 'tls_client_auth', tlsSanIp: '999.1.1.1' },
  tlsSanEmail: { authMethod: 'tls_client_auth', tlsSanEmail: 'nobody' },
  dpopBound: { dpopBound: 'yes' },
  certBound: { certBound: 'yes' },
  exchangeAudiences: { exchangeAudiences: ['not a uri'] },
  exchangeScopes: { exchangeScopes: ['a"b'] },
  introspectionAudiences: { introspectionAudiences: ['https://api.example/#f'] },
  metadata: { metadata: { 'bad key': 'x' } },
  claims: { claims: { sub: 'someone' } },
  clientId: { clientId: '' },
  clientSecret: { clientSecret: 'short' },
};

describe('the client field table', () => {
  test('the rules name each field as the table says (the console and apply place their errors by it)', async () => {
    const untouchable = new Proxy({}, { get: () => assert.fail('the rules refused nothing: the store was reached') });
    const service = new ClientService({ store: untouchable as never, keyring: untouchable as never, settings: { idPrefix: 'sk', environment: 'prod', maxTokenTtl: 3600, knownDialects: ['oauth2'], alg: 'RS256', knownGrants: ['client_credentials'] } });
    for (const name of CLIENT_FIELD_NAMES) {
      const bad = REFUSED[name];
      if (name === 'admin' || name === 'managedBy') continue; // a boolean the service reads as one; a mark the tools write
      assert.ok(bad, `${name}: give a value the rules refuse`);
      await assert.rejects(service.create({ name: 'n', ...bad } as never, 'test'), (err: { field?: string }) => {
        assert.equal(err.field, ruleField(name), name);
        return true;
      });
    }
  });

  test('every field states each surface: an entry, or null for one that deliberately lacks it', () => {
    for (const name of CLIENT_FIELD_NAMES) {
      const f: ClientField = CLIENT_FIELDS[name];
      for (const surface of ['cli', 'apply', 'form'] as const) assert.notEqual(f[surface], undefined, `${name}: ${surface}`);
      assert.ok(f.doc.length > 0 && f.api.length > 0, name);
      // What is set at creation only has no flag on clients update and no control on the edit form.
      if (f.createOnly) assert.ok(!f.cli?.flags.some((x) => x.update !== undefined), `${name}: a clients update flag`);
    }
  });

  for (const command of ['create', 'update'] as const) {
    test(`keymint clients ${command} has every flag the table gives it, and each sets its field`, async () => {
      const declared = (command === 'create' ? clientsCreate : clientsUpdate).flags;
      for (const [name, cli] of fieldsOn('cli')) {
        for (const f of cli.flags.filter((x) => x[command] !== undefined)) {
          assert.equal(declared[f.flag]?.doc, f[command], `${name}: --${f.flag} on clients ${command}`);
          const input = await cliInput(command, { [f.flag]: sample(f, command) });
          const sets = f.flag === 'add-scope' ? 'addScopes' : f.flag === 'remove-scope' ? 'removeScopes' : name;
          assert.notEqual(input[sets], undefined, `${name}: --${f.flag} on clients ${command} sets nothing`);
        }
      }
    });
  }

  test('configuration as code has every key the table gives it: in the schema, compared, and defaulted', () => {
    const schema = JSON.parse(readFileSync(new URL('../../schema/keymint.config.schema.json', import.meta.url), 'utf8')) as { $defs: { client: { properties: Record<string, unknown> } } };
    const declarable = Object.keys(schema.$defs.client.properties);
    for (const [name, apply] of fieldsOn('apply')) {
      assert.ok(declarable.includes(apply.key), `${name}: ${apply.key} is not in the configuration schema`);
      if ((CLIENT_FIELDS[name] as ClientField).createOnly) continue;
      assert.ok((SPEC_FIELDS as readonly string[]).includes(apply.key), `${name}: apply does not compare ${apply.key}`);
      const spec = declaredSpec('key', {}) as unknown as Record<SpecField, unknown>;
      assert.deepEqual(spec[apply.key as SpecField], name === 'name' ? 'key' : (CLIENT_FIELDS[name] as ClientField).default, `${name}: default`);
    }
  });

  test('the console form has a control for every field the table gives it, and reads each back', () => {
    const values = p.emptyClientForm() as unknown as Record<string, unknown>;
    const page = p.clientFormPage(admin, { kind: 'create', values: p.emptyClientForm(), grants: ['client_credentials'], dialects: ['oauth2'], extras: true });
    for (const [name, form] of fieldsOn('form')) {
      assert.match(page, new RegExp(`name="${form.control}"`), `${name}: no control ${form.control}`);
      assert.ok(form.control in values, `${name}: ${form.control} has no value`);
      assert.equal(p.LABELS[form.control as keyof p.ClientFormValues], form.label, name);
      // A control of some authentication methods is read with one of them chosen; one that is empty
      // by default (none) with a value in it; the method itself when it is not the default (a new
      // client with a secret names none).
      const method = name === 'authMethod' ? 'private_key_jwt' : form.methods?.[0];
      const empty = values[form.control] === '' && (form.kind === 'input' || form.kind === 'jwks');
      const typed = { ...values, ...(method === undefined ? {} : { auth_method: method }), ...(empty ? { [form.control]: form.kind === 'jwks' ? '{"keys": []}' : 'x' } : {}) };
      const parsed = p.parseClientForm(typed as unknown as p.ClientFormValues, 'create');
      assert.ok('input' in parsed, name);
      assert.notEqual((parsed.input as unknown as Record<string, unknown>)[name], undefined, `${name}: the form does not set it`);
    }
  });
});

/**
 * The configuration file's parser and its one schema: a good file parses to the typed shape, every bad
 * file gets one error naming file, line, column and field (YAML and JSON alike), and the sandbox
 * section and literal secrets are accepted only when the caller asks for a sandbox file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigFileError, CONFIG_SCHEMA_URL, loadConfigFile, parseConfigFile } from '../../src/config/file.ts';
import { schemaChecker } from '../../src/config/schema-check.ts';

const fails = (text: string, message: string, options: { allowSandbox?: boolean; path?: string } = {}) => {
  assert.throws(
    () => parseConfigFile(text, options),
    (err: unknown) => {
      assert.ok(err instanceof ConfigFileError);
      assert.equal(err.message, message);
      return true;
    },
  );
};

const FULL = `# a complete file
version: 1
clients:
  billing:
    name: Billing service
    mode: live
    type: confidential
    status: active
    grants: [client_credentials, refresh_token]
    scopes: [payments:read, payments:write]
    audiences: [https://api.example.com]
    redirectUris: []
    dialects: [orum]
    trusted: false
    tokenTtl: 900
    rateLimit: 600
    pkceRequired: true
    claims: { org_id: acme, tier: 2 }
    metadata: { team: payments }
    dpopBound: false
    exchangeAudiences: [https://ledger.example.com]
    exchangeScopes: [ledger:read]
    secret: { env: BILLING_SECRET }
  spa:
    type: public
    grants: [authorization_code, refresh_token]
    redirectUris: [https://app.example.com/callback]
    tokenTtl: null
  signer:
    id: sk_live_imported0000000000000
    authMethod: private_key_jwt
    jwksUri: https://signer.example.com/jwks.json
`;

test('a complete file parses to its typed shape, keys kept as written', () => {
  const { file } = parseConfigFile(FULL);
  assert.deepEqual(Object.keys(file.clients), ['billing', 'spa', 'signer']);
  assert.deepEqual(file.clients.billing!.scopes, ['payments:read', 'payments:write']);
  assert.deepEqual(file.clients.billing!.claims, { org_id: 'acme', tier: 2 });
  assert.deepEqual(file.clients.billing!.secret, { env: 'BILLING_SECRET' });
  assert.equal(file.clients.spa!.tokenTtl, null);
  assert.equal(file.clients.signer!.authMethod, 'private_key_jwt');
  assert.equal(file.sandbox, undefined);
});

test('the same file as JSON parses to the same shape', () => {
  const yaml = parseConfigFile(FULL).file;
  const json = parseConfigFile(JSON.stringify(yaml, null, 2), { path: 'keymint.json' }).file;
  assert.deepEqual(json, yaml);
});

test('a minimal file: version alone, or with empty clients', () => {
  assert.deepEqual(parseConfigFile('version: 1\n').file, { version: 1, clients: {} });
  assert.deepEqual(parseConfigFile('{"version": 1, "clients": {}}').file, { version: 1, clients: {} });
});

test('CAC-03 schema errors name file, line, column and field', () => {
  fails('version: 1\nclients:\n  billing:\n    scopes: [a, "b c"]\n', `keymint.yaml:4:17: clients.billing.scopes[1]: must be an RFC 6749 scope token (printable ASCII without space, '"' or '\\')`);
  fails('version: 1\nclients:\n  billing:\n    scope: [a]\n', 'keymint.yaml:4:5: clients.billing.scope: is not a known field; did you mean scopes?');
  fails('version: 1\nclients:\n  billing:\n    colour: red\n', 'keymint.yaml:4:5: clients.billing.colour: is not a known field; known: name, id, mode, type, status, grants, scopes, audiences, redirectUris, postLogoutRedirectUris, backchannelLogoutUri, backchannelLogoutSessionRequired, dialects, trusted, tokenTtl, rateLimit, pkceRequired, requirePar, requireSignedRequestObject, refreshTokenRotation, securityProfile, idTokenAlg, authorizationResponseAlg, introspectionAlg, claims, metadata, authMethod, jwks, jwksUri, tlsSubjectDn, tlsSanDns, tlsSanUri, tlsSanIp, tlsSanEmail, dpopBound, certBound, exchangeAudiences, exchangeScopes, introspectionAudiences, secret');
  fails('version: 2\n', 'keymint.yaml:1:10: version: must be 1');
  fails('clients: {}\n', 'keymint.yaml:1:1: version: is required');
  fails('', 'keymint.yaml:1:1: the file is empty; a configuration file starts with `version: 1`');
  fails('- a\n', 'keymint.yaml:1:1: must be a mapping');
  fails('version: 1\nclients:\n  billing:\n    tokenTtl: "90"\n', 'keymint.yaml:4:15: clients.billing.tokenTtl: must be a whole number or null');
  fails('version: 1\nclients:\n  billing:\n    tokenTtl: 0\n', 'keymint.yaml:4:15: clients.billing.tokenTtl: must be at least 1');
  fails('version: 1\nclients:\n  a:\n    mode: production\n', 'keymint.yaml:4:11: clients.a.mode: must be one of live, sandbox');
  fails('version: 1\nclients:\n  a:\n    trusted: yes\n', 'keymint.yaml:4:14: clients.a.trusted: must be true or false');
  fails('version: 1\nclients:\n  a:\n    scopes: [x, x]\n', 'keymint.yaml:4:17: clients.a.scopes[1]: lists x twice');
  fails('version: 1\nclients:\n  a:\n    name: ""\n', 'keymint.yaml:4:11: clients.a.name: must be 1–200 characters');
  fails('version: 1\nclients:\n  a:\n    metadata: { team: 7 }\n', 'keymint.yaml:4:23: clients.a.metadata.team: must be a string');
  fails('version: 1\nclients:\n  "bad key":\n    name: x\n', `keymint.yaml:3:3: clients["bad key"]: is not a valid key: a key must be lower-case letters, digits, '.', '_' or '-' (at most 58, starting with a letter or digit)`);
  fails('version: 1\nclients:\n  a:\n    id: "has space"\n', 'keymint.yaml:4:9: clients.a.id: must be 1–256 printable ASCII characters without whitespace');
});

test('CAC-03 JSON files get lines and columns too', () => {
  fails('{\n  "version": 1,\n  "clients": {\n    "a": { "rateLimit": 0 }\n  }\n}\n', 'keymint.json:4:25: clients.a.rateLimit: must be between 1 and 100000000', { path: 'keymint.json' });
  fails('{\n  "version": 1,\n  "clients": {"a": {"rateLimit": 5,}}\n}', 'keymint.json:3:36: not valid JSON: Expected double-quoted property name', { path: 'keymint.json' });
});

test('syntax errors: duplicate keys, unknown tags, bad indentation name their line', () => {
  fails('version: 1\nclients:\n  billing:\n    name: x\n  billing:\n    name: y\n', 'keymint.yaml:5:3: Map keys must be unique');
  fails('{"version": 1, "version": 1}', 'keymint.yaml:1:16: Map keys must be unique');
  fails('{"version": 1, "version": 1}', 'k.json:1:16: Map keys must be unique', { path: 'k.json' });
  fails('version: 1\nclients:\n  a: !foo\n    scopes: [x]\n', 'keymint.yaml:3:6: Unresolved tag: !foo');
  assert.throws(() => parseConfigFile('version: 1\nclients:\n  a:\n    scopes: [x]\n   name: y\n'), /^Error|keymint\.yaml:5:/);
});

test('CAC-01 secrets: exactly one source; literal values only in sandbox files; generate needs a file', () => {
  fails('version: 1\nclients:\n  a:\n    secret: {env: X, file: y}\n', 'keymint.yaml:4:13: clients.a.secret: names both env and file; give exactly one of env, file');
  fails('version: 1\nclients:\n  a:\n    secret: {}\n', 'keymint.yaml:4:13: clients.a.secret: names no source; give exactly one of env, file');
  fails('version: 1\nclients:\n  a:\n    secret: {value: ks_x}\n', 'keymint.yaml:4:14: clients.a.secret.value: a secret written in the file is for sandbox files only; use secret.env or secret.file');
  fails('version: 1\nclients:\n  a:\n    secret: {env: X, generate: true}\n', 'keymint.yaml:4:22: clients.a.secret.generate: generate needs file: where the generated secret is written');
  fails('version: 1\nclients:\n  a:\n    secret: {env: "1X"}\n', 'keymint.yaml:4:19: clients.a.secret.env: must be an environment variable name');
  const sandbox = parseConfigFile('version: 1\nclients:\n  a:\n    secret: {value: ks_x}\n', { allowSandbox: true });
  assert.deepEqual(sandbox.file.clients.a!.secret, { value: 'ks_x' });
});

test('two entries with one id are refused at the second', () => {
  fails('version: 1\nclients:\n  a:\n    id: same_id\n  b:\n    id: same_id\n', 'keymint.yaml:6:9: clients.b.id: the same id as clients.a');
});

test('the sandbox section: refused unless asked for, kept as given when allowed', () => {
  const text = 'version: 1\nclients: {}\nsandbox:\n  faults: []\n';
  fails(text, 'keymint.yaml:3:1: sandbox: this is a sandbox file: `keymint sandbox --file` loads it; `apply` does not (remove the section to apply its clients)');
  assert.deepEqual(parseConfigFile(text, { allowSandbox: true }).file.sandbox, { faults: [] });
  fails('version: 1\nsandbox: []\n', 'keymint.yaml:2:10: sandbox: must be a mapping', { allowSandbox: true });
});

test('locate and error point at fields found bad after parsing', () => {
  const parsed = parseConfigFile(FULL, { path: 'ops/keymint.yaml' });
  assert.equal(parsed.locate(['clients', 'billing', 'dialects']), 'ops/keymint.yaml:13:15');
  assert.equal(parsed.locate(['clients', 'billing', 'dialects', 0]), 'ops/keymint.yaml:13:16');
  assert.equal(parsed.locate(['clients', 'spa', 'nothing']), 'ops/keymint.yaml:25:5');
  assert.equal(parsed.error(['clients', 'billing', 'dialects', 0], 'unknown dialect').message, 'ops/keymint.yaml:13:16: clients.billing.dialects[0]: unknown dialect');
});

test('loadConfigFile: a missing, unreadable or directory path is one line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => loadConfigFile(join(dir, 'none.yaml')), { name: 'ConfigFileError', message: `${join(dir, 'none.yaml')}: no such file` });
  mkdirSync(join(dir, 'd.yaml'));
  assert.throws(() => loadConfigFile(join(dir, 'd.yaml')), { message: `${join(dir, 'd.yaml')}: is a directory, not a file` });
  writeFileSync(join(dir, 'k.yaml'), 'version: 1\nclients:\n  a: {scopes: [x]}\n');
  assert.deepEqual(loadConfigFile(join(dir, 'k.yaml')).file.clients, { a: { scopes: ['x'] } });
});

test('a hostile document: alias bombs are refused, not expanded', () => {
  const bomb = ['version: 1', 'a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
  assert.throws(() => parseConfigFile(bomb), ConfigFileError);
});

test('the schema uses only keywords the checker knows, and the checker refuses others', () => {
  const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  assert.doesNotThrow(() => schemaChecker(schema));
  assert.throws(() => schemaChecker({ type: 'object', oneOf: [] }), /keyword oneOf at # is not supported/);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

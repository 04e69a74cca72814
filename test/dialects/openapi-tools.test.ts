/**
 * Each mount's `openapi.json` as the world's tooling reads it: the OpenAPI 3.1 JSON Schema (with its
 * dialect meta-schema) as @seriousme/openapi-schema-validator applies it, and openapi-typescript
 * (Redocly's bundler underneath), which a user runs to get a typed client of the token endpoint. Our
 * own shape checks are in cross.test.ts; these are the tools'.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { DIALECTS } from '../../src/dialects/index.ts';
import { startServer, type TestServer } from '../support/harness.ts';

// Every dialect at its default path, but tradevest (whose default is oauth2's) beside it.
const MOUNTS = [...DIALECTS.values()].map((d) => (d.name === 'tradevest' ? { name: d.name, path: '/connect/token' } : { name: d.name, path: d.defaultPath }));

let server: TestServer;
before(async () => {
  server = await startServer({ dialects: MOUNTS.map((m) => (m.name === 'tradevest' ? `${m.name}=${m.path}` : m.name)) });
});
after(() => server.close());

const fetchDocument = async (path: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${server.url}${path}/openapi.json`);
  assert.equal(res.status, 200, path);
  return (await res.json()) as Record<string, unknown>;
};

test('every mount\'s OpenAPI document is valid OpenAPI 3.1 by the specification\'s own schema', async () => {
  assert.equal(MOUNTS.length, 6);
  for (const { name, path } of MOUNTS) {
    const validator = new Validator();
    const result = await validator.validate(await fetchDocument(path));
    assert.deepEqual(result.errors, undefined, `${name}: ${JSON.stringify(result.errors)}`);
    assert.equal(result.valid, true, name);
    assert.equal(validator.version, '3.1', name);
  }
});

test('openapi-typescript generates a typed client of each mount: its token path, request body and both answers (and oauth2\'s PAR and device authorization endpoints)', async () => {
  for (const { name, path } of MOUNTS) {
    const types = astToString(await openapiTS((await fetchDocument(path)) as unknown as OpenAPI3));
    assert.ok(types.includes(`"${path}": {`), `${name}: the path ${path} is typed`);
    assert.match(types, /TokenResponse: \{/, `${name}: the success answer is typed`);
    assert.match(types, /Error: \{/, `${name}: the error answer is typed`);
    assert.match(types, /requestBody: \{/, `${name}: the request body is typed`);
    // oauth2 also serves the pushed authorization request and device authorization endpoints (its other mounts do not).
    const side = name === 'oauth2' ? ['"/oauth2/par": {', 'PushedAuthorizationResponse: {', '"/oauth2/device_authorization": {', 'DeviceAuthorizationResponse: {'] : [];
    assert.deepEqual(['"/oauth2/par": {', 'PushedAuthorizationResponse: {', '"/oauth2/device_authorization": {', 'DeviceAuthorizationResponse: {'].filter((t) => types.includes(t)), side, name);
  }
});

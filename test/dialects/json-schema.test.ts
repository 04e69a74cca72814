/** The seed schemas and the validator reject what the seeds rule out, so the dialect suites can fail. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaOf } from './support/dialects.ts';
import { validate } from './support/json-schema.ts';

const rejects = (name: string, kind: 'success' | 'error', body: unknown) =>
  assert.notDeepEqual(validate(schemaOf(name).$defs[kind], body), [], `${name} ${kind} accepted ${JSON.stringify(body)}`);
const accepts = (name: string, kind: 'success' | 'error', body: unknown) => assert.deepEqual(validate(schemaOf(name).$defs[kind], body), []);

test('polygon-oms schema: tokenType is lower-case bearer, expiresAt RFC 3339 UTC, catalogue rows are whole', () => {
  const ok = { accessToken: 'eyJa.b.c', tokenType: 'bearer', expiresIn: 3600, expiresAt: '2026-11-23T14:00:00Z' };
  accepts('polygon-oms', 'success', ok);
  rejects('polygon-oms', 'success', { ...ok, tokenType: 'Bearer' });
  rejects('polygon-oms', 'success', { ...ok, expiresAt: '2026-11-23 14:00:00' });
  rejects('polygon-oms', 'success', { ...ok, expiresIn: 3600.5 });
  accepts('polygon-oms', 'error', { error: 'Unauthorized', code: 1000, msg: 'unauthorized access', cause: 'signature', status: 401 });
  rejects('polygon-oms', 'error', { error: 'Unauthorized', code: 1000, msg: 'unauthorized access', status: 400 });
  rejects('polygon-oms', 'error', { error: 'Unauthorized', code: '1000', msg: 'unauthorized access', status: 401 });
  rejects('polygon-oms', 'error', { error: 'Unauthorized', code: 1000, msg: 'unauthorized access' });
});

test('orum schema: details is required and null or an object; codes pair with their messages', () => {
  accepts('orum', 'error', { error_code: 'missing_client_id', message: 'client_id is required', details: null });
  rejects('orum', 'error', { error_code: 'missing_client_id', message: 'client_id is required' });
  rejects('orum', 'error', { error_code: 'missing_client_id', message: 'client_secret is required', details: null });
  rejects('orum', 'success', { access_token: 'x', token_type: 'bearer', expires_in: 3600 });
});

test('tradevest schema: errors are {error} from the enum only', () => {
  accepts('tradevest', 'error', { error: 'invalid_client' });
  rejects('tradevest', 'error', { error: 'invalid_client', error_description: 'x' });
  rejects('tradevest', 'error', { error: 'invalid_scope' });
});

test('fuuffy schema: code is a string, error_trace only on 400013, the token sk- + 32 lower-case hex', () => {
  accepts('fuuffy', 'error', { error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters', error_trace: { client_id: 'is required' } } });
  rejects('fuuffy', 'error', { error: { code: 400013, code_reason: 'invalid_request', message: 'Missing or invalid parameters', error_trace: {} } });
  rejects('fuuffy', 'error', { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key', error_trace: {} } });
  rejects('fuuffy', 'success', { data: { access_token: `sk-${'A'.repeat(32)}`, token_type: 'Bearer', expires_in: 3600 } });
  rejects('fuuffy', 'success', { access_token: `sk-${'a'.repeat(32)}`, token_type: 'Bearer', expires_in: 3600 });
});

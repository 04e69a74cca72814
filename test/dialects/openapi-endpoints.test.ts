/**
 * The oauth2 mount's OpenAPI document against the server, for the endpoints beside the token
 * endpoint: the pushed authorization request endpoint (RFC 9126) and the device authorization
 * endpoint (RFC 8628), and the device_code grant at the token endpoint. Each answer the server can be
 * driven to is checked against the document it serves: its status is documented for that operation,
 * its body validates against the documented schema, and the headers documented as constants are sent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { validate } from './support/json-schema.ts';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const CB = 'https://app.example/cb';
const ERROR_STATUSES = ['400', '401', '405', '413', '429', '500', '503'];

type Doc = { paths: Record<string, { post: Operation }>; components: { schemas: Record<string, Record<string, unknown>> } };
type Operation = { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }> }; responses: Record<string, { headers: Record<string, { schema: Record<string, unknown> }>; content: { 'application/json': { schema: { $ref: string } } } }> };

let s: GrantServer;
let doc: Doc;
let app: { id: string; secret: string };
let ccOnly: { id: string; secret: string };
before(async () => {
  s = await startGrantServer();
  app = await s.client({ name: 'Acme', grants: ['authorization_code', DEVICE], scopes: ['openid', 'read'], redirectUris: [CB] });
  ccOnly = await s.client({ name: 'Machine', scopes: ['read'], redirectUris: [CB] });
  const res = await fetch(`${s.url}/oauth2/token/openapi.json`);
  assert.equal(res.status, 200);
  doc = (await res.json()) as Doc;
});
after(() => s.close());

/** Checks one live answer of `path` against the served document; resolves to its body. */
async function matchesDocument(path: string, res: Response, status: number, document: Doc = doc): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, status, `${path}: ${text}`);
  const documented = document.paths[path]!.post.responses[String(status)];
  assert.ok(documented, `${path}: ${status} is documented`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  for (const [name, header] of Object.entries(documented.headers)) {
    if ('const' in header.schema) assert.equal(res.headers.get(name), header.schema.const, `${path} ${status}: ${name}`);
    if (header.schema.type === 'integer') assert.match(res.headers.get(name) ?? '', /^[0-9]+$/, `${path} ${status}: ${name}`);
  }
  const name = documented.content['application/json'].schema.$ref.replace('#/components/schemas/', '');
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(validate(document.components.schemas[name]!, body), [], `${path} ${status}: the body against ${name}`);
  return body;
}

const push = (form: Record<string, string>, client = app) => s.postForm('/oauth2/par', form, { authorization: basic(client.id, client.secret) });
const pushForm = () => ({ response_type: 'code', redirect_uri: CB, scope: 'openid read', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
const deviceAuthorization = (form: Record<string, string>, client = app) => s.postForm('/oauth2/device_authorization', form, { authorization: basic(client.id, client.secret) });
const tooLarge = (path: string) => s.postForm(path, { scope: 'x'.repeat(20_000) }, { authorization: basic(app.id, app.secret) });

test('the document lists the PAR and device authorization endpoints beside the token endpoint, each with its answer and the error statuses', () => {
  assert.deepEqual(Object.keys(doc.paths), ['/oauth2/token', '/oauth2/par', '/oauth2/device_authorization']);
  const par = doc.paths['/oauth2/par']!.post;
  assert.deepEqual(Object.keys(par.responses), ['201', ...ERROR_STATUSES]);
  assert.equal(par.responses['201']!.content['application/json'].schema.$ref, '#/components/schemas/PushedAuthorizationResponse');
  assert.deepEqual(Object.keys(par.requestBody.content), ['application/x-www-form-urlencoded', 'application/json']);
  const form = par.requestBody.content['application/x-www-form-urlencoded']!.schema;
  assert.equal(form.required, undefined, 'response_type and redirect_uri may come in a request object (JAR-01)');
  // RFC 9449 §10.1: the push reads a DPoP proof; the device authorization endpoint does not.
  assert.deepEqual((par as { parameters?: { name: string; in: string }[] }).parameters?.map((p) => [p.in, p.name]), [['header', 'DPoP']]);
  assert.deepEqual(Object.keys(form.properties), ['response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'resource', 'prompt', 'max_age', 'dpop_jkt', 'response_mode', 'request', 'client_id', 'client_secret', 'client_assertion_type', 'client_assertion']);
  const device = doc.paths['/oauth2/device_authorization']!.post;
  assert.deepEqual(Object.keys(device.responses), ['200', ...ERROR_STATUSES]);
  assert.equal(device.responses['200']!.content['application/json'].schema.$ref, '#/components/schemas/DeviceAuthorizationResponse');
  assert.deepEqual(Object.keys(device.requestBody.content['application/x-www-form-urlencoded']!.schema.properties), ['scope', 'client_id', 'client_secret', 'client_assertion_type', 'client_assertion']);
  // The token endpoint: the device_code grant among the grant types, and its parameter in the body.
  const token = doc.paths['/oauth2/token']!.post.requestBody.content['application/x-www-form-urlencoded']!.schema.properties as Record<string, Record<string, unknown>>;
  assert.ok((token.grant_type!.enum as string[]).includes(DEVICE));
  assert.deepEqual(token.device_code, { type: 'string', description: `Read by the grant ${DEVICE}.` });
  assert.deepEqual(token.code_verifier, { type: 'string', description: 'Read by the grant authorization_code.' });
});

test('PAR: 201, each 400, 401, 405 and 413 as the document says', async () => {
  const ok = await matchesDocument('/oauth2/par', await push(pushForm()), 201);
  assert.deepEqual(Object.keys(ok).sort(), ['expires_in', 'request_uri']);
  const { redirect_uri: _, ...noRedirect } = pushForm();
  assert.equal((await matchesDocument('/oauth2/par', await push(noRedirect), 400)).error, 'invalid_request');
  assert.equal((await matchesDocument('/oauth2/par', await push({ ...pushForm(), scope: 'admin:all' }), 400)).error, 'invalid_scope');
  assert.equal((await matchesDocument('/oauth2/par', await push(pushForm(), ccOnly), 400)).error, 'unauthorized_client');
  assert.equal((await matchesDocument('/oauth2/par', await push({ ...pushForm(), dpop_jkt: 'short' }), 400)).error, 'invalid_request');
  const badProof = await s.postForm('/oauth2/par', pushForm(), { authorization: basic(app.id, app.secret), dpop: 'a.b.c' });
  assert.equal((await matchesDocument('/oauth2/par', badProof, 400)).error, 'invalid_dpop_proof');
  assert.equal((await matchesDocument('/oauth2/par', await push(pushForm(), { id: app.id, secret: 'ks_wrong' }), 401)).error, 'invalid_client');
  assert.equal((await matchesDocument('/oauth2/par', await fetch(`${s.url}/oauth2/par`), 405)).error, 'invalid_request');
  assert.equal((await matchesDocument('/oauth2/par', await tooLarge('/oauth2/par'), 413)).error, 'invalid_request');
});

test('device authorization: 200, each 400, 401, 405 and 413 as the document says; the token endpoint\'s device_code answers too', async () => {
  const ok = await matchesDocument('/oauth2/device_authorization', await deviceAuthorization({ scope: 'read' }), 200);
  assert.equal(ok.verification_uri, 'http://localhost:8080/oauth2/device');
  assert.equal((await matchesDocument('/oauth2/device_authorization', await deviceAuthorization({ scope: 'admin:all' }), 400)).error, 'invalid_scope');
  assert.equal((await matchesDocument('/oauth2/device_authorization', await deviceAuthorization({}, ccOnly), 400)).error, 'unauthorized_client');
  assert.equal((await matchesDocument('/oauth2/device_authorization', await deviceAuthorization({}, { id: app.id, secret: 'ks_wrong' }), 401)).error, 'invalid_client');
  assert.equal((await matchesDocument('/oauth2/device_authorization', await fetch(`${s.url}/oauth2/device_authorization`), 405)).error, 'invalid_request');
  assert.equal((await matchesDocument('/oauth2/device_authorization', await tooLarge('/oauth2/device_authorization'), 413)).error, 'invalid_request');
  const pending = await s.postForm('/oauth2/token', { grant_type: DEVICE, device_code: String(ok.device_code) }, { authorization: basic(app.id, app.secret) });
  assert.equal((await matchesDocument('/oauth2/token', pending, 400)).error, 'authorization_pending');
});

test('429 from both endpoints, with Retry-After, as the document says', async (t) => {
  const limited: TestServer = await startServer({ dialects: ['oauth2'], issuer: 'http://localhost:8080', rateLimitIp: '1' });
  t.after(() => limited.close());
  const client = await limited.client({ grants: ['authorization_code', DEVICE], scopes: ['read'], redirectUris: [CB] });
  const limitedDoc = (await (await fetch(`${limited.url}/oauth2/token/openapi.json`)).json()) as Doc;
  const auth = { authorization: basic(client.id, client.secret) };
  assert.equal((await limited.postForm('/oauth2/device_authorization', {}, auth)).status, 200);
  for (const path of ['/oauth2/device_authorization', '/oauth2/par']) {
    const body = await matchesDocument(path, await limited.postForm(path, path === '/oauth2/par' ? pushForm() : {}, auth), 429, limitedDoc);
    assert.equal(body.error, 'temporarily_unavailable');
  }
});

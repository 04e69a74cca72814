/**
 * Hostile input on pushed authorization requests (fast-check, fixed seeds, bounded runs): the push
 * endpoint's bodies and credentials, and the authorization endpoint's `client_id` + `request_uri`.
 * A push is 201 only when it is a valid one, and otherwise a 4xx in the oauth2 error shape that
 * stores nothing; the authorization endpoint answers a page or a redirect, never a 5xx, never a
 * code for a request_uri that is not the client's live one, never markup from the request.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { DIALECTS } from '../../src/dialects/index.ts';
import { validate } from '../dialects/support/json-schema.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import {
  assertAlive, assertNoMarkupEchoed, assertNoSecret, assertNot5xx, assertSameStore, formOf, hostileAuthorization, hostileBag, hostileBody, hostileContentType,
  hostileString, parseJson, send, storeFingerprint,
} from '../support/hostile.ts';

const CB = 'https://app.example/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
let s: TestServer;
let app: { id: string; secret: string };
let other: { id: string; secret: string };
let session: string;
let requestUri: string;
let secrets: string[];

before(async () => {
  s = await startServer({ dialects: ['oauth2'], issuer: 'http://localhost:8080', lockoutThreshold: '1000' });
  const base = { scopes: ['openid', 'read'], grants: ['authorization_code'], redirectUris: [CB], trusted: true };
  app = await s.client(base);
  other = await s.client(base);
  session = (await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test')).sessionToken;
  const res = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: CHALLENGE, code_challenge_method: 'S256' }, { authorization: basic(other.id, other.secret) });
  requestUri = String(((await res.json()) as { request_uri: string }).request_uri);
  secrets = [app.secret, other.secret, session];
});
after(() => s.close());

const fingerprint = () => storeFingerprint(s.dataDir, ['replays']);

test('S-08 PAR-02 the push endpoint: hostile bodies and credentials are a 4xx in the oauth2 shape that stores nothing, or a 201 for a valid push', async () => {
  let before = fingerprint();
  const fixed = fc.record({
    response_type: fc.constantFrom('code', 'token', 'code id_token'),
    redirect_uri: fc.oneof(fc.constant(CB), hostileString),
    code_challenge: fc.oneof(fc.constant(CHALLENGE), hostileString),
    code_challenge_method: fc.constantFrom('S256', 'plain'),
    scope: fc.oneof(fc.constantFrom('openid', 'openid read', 'keymint:admin'), hostileString),
    request_uri: fc.constantFrom(requestUri, 'urn:ietf:params:oauth:request_uri:x'),
    resource: hostileString,
    prompt: fc.oneof(fc.constantFrom('none', 'login consent', 'none login'), hostileString),
    max_age: fc.oneof(fc.constantFrom('0', '60', '-1', '1e3'), hostileString),
  }, { requiredKeys: [] });
  const request = fc.record({
    body: hostileBody(hostileBag(['response_type', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'scope', 'state', 'nonce', 'client_id', 'client_secret', 'request', 'request_uri'], fixed)),
    type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, hostileContentType),
    authorization: fc.oneof({ arbitrary: fc.constant(basic(app.id, app.secret)), weight: 2 }, hostileAuthorization(app)),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ body, type, authorization }) => {
      const res = await send(`${s.url}/oauth2/par`, { method: 'POST', headers: { 'content-type': type, authorization }, body });
      const what = `par ${JSON.stringify(String(body).slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      if (res.status === 201) {
        assert.deepEqual(Object.keys(parseJson(res.text, what)).sort(), ['expires_in', 'request_uri'], what);
        before = fingerprint();
        return;
      }
      assert.ok(res.status >= 400 && res.status < 500, `${what} → ${res.status}`);
      assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8', what);
      assert.deepEqual(validate(DIALECTS.get('oauth2')!.contract.error, parseJson(res.text, what)), [], `${what}: the oauth2 error contract`);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 150, seed: 20261207 },
  );
  await assertAlive(s.url);
});

test('S-08 PAR-04 the authorization endpoint with hostile client_id and request_uri: a page or a redirect, never a 5xx, never a code', async () => {
  const uris = fc.oneof(hostileString, fc.constantFrom(requestUri, `${requestUri}x`, requestUri.slice(0, -1), requestUri.toUpperCase(), requestUri.replace('urn:ietf:params:oauth:request_uri:', ''), 'urn:ietf:params:oauth:request_uri:'));
  const request = fc.record({
    client_id: fc.oneof(fc.constant(app.id), hostileString),
    request_uri: uris,
    extra: fc.constantFrom('', `&redirect_uri=${encodeURIComponent(CB)}&response_type=code`, `&request_uri=${encodeURIComponent(requestUri)}`, '&client_id=x'),
    cookie: fc.constantFrom(`keymint_session=${session}`, undefined),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ client_id, request_uri, extra, cookie }) => {
      const query = `${formOf({ client_id, request_uri })}${extra}`;
      const res = await send(`${s.url}/oauth2/authorize?${query}`, { method: 'GET', headers: { cookie } });
      const what = `authorize?${query.slice(0, 200)}`;
      assertNot5xx(res.status, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      assertNoMarkupEchoed(res.text, res.headers, what);
      assert.ok([302, 400].includes(res.status), `${what} → ${res.status}`);
      // The one live request_uri is another client's: nothing here may issue a code.
      if (res.status === 302) assert.equal(new URL(String(res.headers.get('location'))).searchParams.get('code'), null, what);
    }),
    { numRuns: 150, seed: 20261208 },
  );
  await assertAlive(s.url);
});

/**
 * Hostile input on the device authorization grant's surfaces (fast-check, fixed seeds, bounded runs):
 * the device authorization endpoint, the token endpoint with the device_code grant, and the
 * verification page (queries, forms, cookies, methods). Each answer is a 4xx (a 200 where the request
 * is a valid one) in that surface's shape, never a 5xx; nothing from the request is repeated as markup
 * or a bidirectional control; no secret is echoed; an error leaves the store as it was; the server
 * answers afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { DIALECTS } from '../../src/dialects/index.ts';
import { validate } from '../dialects/support/json-schema.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import {
  assertAlive, assertNoBidiControl, assertNoMarkupEchoed, assertNoSecret, assertNot5xx, assertSameStore, hostileAuthorization, hostileBag, hostileBody, hostileContentType,
  formOf, hostileMethod, hostileQuery, hostileSegment, hostileString, parseJson, send, storeFingerprint,
} from '../support/hostile.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
let s: TestServer;
let app: { id: string; secret: string };
let session: string;
let deviceCode: string;
let userCode: string;
let secrets: string[];

before(async () => {
  // Lockouts would stop the generated requests from reaching the code behind client authentication.
  s = await startServer({ dialects: ['oauth2'], issuer: 'http://localhost:8080', lockoutThreshold: '1000' });
  app = await s.client({ scopes: ['read', 'write'], grants: [GRANT, 'refresh_token'] });
  session = (await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test')).sessionToken;
  const started = (await (await s.postForm('/oauth2/device_authorization', { scope: 'read' }, { authorization: basic(app.id, app.secret) })).json()) as { device_code: string; user_code: string };
  deviceCode = started.device_code;
  userCode = started.user_code;
  secrets = [app.secret, session, deviceCode];
});
after(() => s.close());

const fingerprint = () => storeFingerprint(s.dataDir, ['replays']);

function expectOAuthError(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
  assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8', `${what}: content type`);
  assert.deepEqual(validate(DIALECTS.get('oauth2')!.contract.error, parseJson(res.text, what)), [], `${what}: the oauth2 error contract`);
  assertNoSecret(res.text, res.headers, secrets, what);
}

test('S-08 DEV-02 the device authorization endpoint and the device_code grant: hostile bodies and credentials are a 4xx in the oauth2 shape that changes nothing', async () => {
  let before = fingerprint();
  const deviceCodes = fc.oneof(hostileString, fc.constantFrom('km_dc_', `${deviceCode}x`, deviceCode.slice(0, -1), deviceCode.toUpperCase(), userCode));
  const request = fc.record({
    path: fc.constantFrom('/oauth2/device_authorization', '/oauth2/token'),
    body: hostileBody(hostileBag(['grant_type', 'device_code', 'scope', 'client_id', 'client_secret', 'user_code'], fc.record({ grant_type: fc.constant(GRANT), device_code: deviceCodes, scope: fc.oneof(fc.constantFrom('read', 'read write', 'keymint:admin', 'other'), hostileString) }, { requiredKeys: [] }))),
    type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, hostileContentType),
    authorization: fc.oneof({ arbitrary: fc.constant(basic(app.id, app.secret)), weight: 2 }, hostileAuthorization(app)),
  });
  // Authenticated polls with a hostile device code: past decoding and authentication into the grant.
  const deep = deviceCodes.map((code) => ({ path: '/oauth2/token', body: formOf({ grant_type: GRANT, device_code: code }) as string | Buffer, type: 'application/x-www-form-urlencoded' as string | undefined, authorization: basic(app.id, app.secret) as string | string[] | undefined }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(request, deep), async ({ path, body, type, authorization }) => {
      const res = await send(s.url + path, { method: 'POST', headers: { 'content-type': type, authorization }, body });
      const what = `${path} ${JSON.stringify(String(body).slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      if (res.status === 200) {
        // Only a valid device authorization request succeeds: it stores a new pending request.
        assert.equal(path, '/oauth2/device_authorization', what);
        assert.deepEqual(Object.keys(parseJson(res.text, what)).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete'], what);
        before = fingerprint();
        return;
      }
      expectOAuthError(res, what);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 150, seed: 20261205 },
  );
  await assertAlive(s.url);
});

test('S-08 DEV-06 DEV-07 the verification page: hostile queries, forms, cookies and methods are a page or a 4xx, never a decision, never markup from the request', async () => {
  const before = fingerprint();
  const cookie = fc.oneof(fc.constant(undefined), fc.constant(`keymint_session=${session}`), hostileString.map((v) => `keymint_session=${v}`), fc.constant(`keymint_session=${session}; keymint_session=x`));
  const typed = fc.oneof(hostileSegment, fc.constantFrom(userCode, userCode.toLowerCase(), userCode.replace('-', ''), encodeURIComponent('"<script>'), 'BCDF-GHJK'));
  const request = fc.record({
    method: fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST'), weight: 4 }, hostileMethod),
    query: fc.oneof(hostileQuery(['user_code']), typed.map((v) => `user_code=${v}`)),
    body: hostileBody(hostileBag(['user_code', 'csrf_token', 'decision'], fc.record({ user_code: fc.constant(userCode), decision: fc.constantFrom('approve', 'deny') }, { requiredKeys: [] }))),
    type: fc.oneof(fc.constant('application/x-www-form-urlencoded'), hostileContentType),
    cookie,
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ method, query, body, type, cookie }) => {
      const res = await send(`${s.url}/oauth2/device?${query}`, { method, headers: { 'content-type': type, cookie }, body: method === 'GET' || method === 'HEAD' ? undefined : body });
      const what = `${method} device?${query.slice(0, 200)} ${JSON.stringify(String(body).slice(0, 120))}`;
      assertNot5xx(res.status, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      assertNoMarkupEchoed(res.text, res.headers, what);
      if (res.headers.get('content-type')?.startsWith('text/html')) {
        assertNoBidiControl(res.text, what);
        assert.ok([200, 400, 401, 403, 429].includes(res.status), `${what} → ${res.status}`);
      } else expectOAuthError(res, what); // 405: the mount's shape
      // No forged form decides: the request stays pending.
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 150, seed: 20261206 },
  );
  await assertAlive(s.url);
});

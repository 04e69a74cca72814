/**
 * Attacks on the newest authorization features through HTTP against a real server: the device
 * authorization grant (RFC 8628) and its verification page, pushed authorization requests (RFC 9126),
 * signed request objects (RFC 9101) and codes bound by dpop_jkt (RFC 9449 §10), alone and together.
 * Each attack asserts the exact answer (status, body in the surface's shape), that a refusal stores
 * and issues nothing, and that no secret reaches the logs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, SignJWT, type JWTPayload } from 'jose';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { createLogger } from '../../src/util/log.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient, type KeyPair } from '../support/sender.ts';
import { answerDevice, authorizeGet, basic, devicePage, devicePost, formFields, pkce, startGrantServer, USER, type GrantServer } from '../grants/support.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const ISSUER = 'http://localhost:8080';
const CB = 'https://app.example/cb';
const JSON_ERROR = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store' };

type Body = Record<string, unknown>;
const headersOf = (res: Response, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, res.headers.get(n)]));
async function expectJsonError(res: Response, status: number, error: string, description?: string): Promise<void> {
  const body = (await res.json()) as Body;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.deepEqual(headersOf(res, Object.keys(JSON_ERROR)), JSON_ERROR);
  if (description === undefined) {
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    assert.equal(body.error, error);
  } else assert.deepEqual(body, { error, error_description: description });
}

/** Every log line the servers wrote, to check no secret reaches them. */
const logLines: string[] = [];
const secrets: string[] = [];
const log = () => createLogger('debug', (line) => void logLines.push(line));

describe('device authorization grant under attack', () => {
  let s: GrantServer;
  let clock = Date.parse('2026-12-02T12:00:00Z');
  let trusted: { id: string; secret: string };
  let untrusted: { id: string; secret: string };
  let other: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ issuer: ISSUER }, { now: () => clock, log: log() });
    trusted = await s.client({ name: 'First-party CLI', trusted: true, grants: [GRANT, 'refresh_token'], scopes: ['openid', 'read'] });
    untrusted = await s.client({ name: 'Partner CLI', grants: [GRANT, 'refresh_token'], scopes: ['openid', 'read'] });
    other = await s.client({ name: 'Other CLI', grants: [GRANT], scopes: ['read'] });
    secrets.push(trusted.secret, untrusted.secret, other.secret);
  });
  after(() => s.close());

  const start = async (client: { id: string; secret: string }, scope = 'read') => {
    const res = await s.postForm('/oauth2/device_authorization', { scope }, { authorization: basic(client.id, client.secret) });
    assert.equal(res.status, 200);
    const d = (await res.json()) as { device_code: string; user_code: string };
    secrets.push(d.device_code);
    return d;
  };
  const poll = (deviceCode: string, client: { id: string; secret: string }) =>
    s.postForm('/oauth2/token', { grant_type: GRANT, device_code: deviceCode }, { authorization: basic(client.id, client.secret) });
  const cookieOf = async (subject = USER) => {
    const token = (await s.session({ subject })).session_token;
    secrets.push(token);
    return `keymint_session=${token}`;
  };
  const record = (deviceCode: string) => s.keymint.store.deviceCodes.find(candidateDigests(s.keymint.keyring.peppers(), deviceCode));
  const tokenCount = async (clientId: string) => (await s.keymint.store.consents.list('user', USER, clock)).filter((a) => a.clientId === clientId && a.liveGrants).length;

  test('CON-05 DEV-09 an approved, unredeemed device request of a trusted client is withdrawn with the app (admin API): the poll issues nothing', async () => {
    const d = await start(trusted);
    assert.equal((await answerDevice(s, d.user_code, 'approve', await cookieOf())).status, 200);
    const withdrawn = await s.admin('DELETE', `/consents/${encodeURIComponent(trusted.id)}?subject=${USER}`);
    assert.equal(withdrawn.status, 204, await withdrawn.text());
    clock += 6_000;
    const res = await poll(d.device_code, trusted);
    await expectJsonError(res, 400, 'access_denied', 'The user has withdrawn the approval of this application.');
    assert.equal((await record(d.device_code))?.status, 'approved', 'nothing was redeemed');
    assert.equal(await tokenCount(trusted.id), 0);
  });

  test('CON-05 DEV-09 a withdrawn device approval stays withdrawn: the user consenting to the app again later does not revive it', async () => {
    const d = await start(untrusted);
    assert.equal((await answerDevice(s, d.user_code, 'approve', await cookieOf())).status, 200);
    assert.equal((await s.admin('DELETE', `/consents/${encodeURIComponent(untrusted.id)}?subject=${USER}`)).status, 204);
    // The user approves the app again on another device: a new consent.
    const again = await start(untrusted);
    assert.equal((await answerDevice(s, again.user_code, 'approve', await cookieOf())).status, 200);
    clock += 6_000;
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'access_denied', 'The user has withdrawn the approval of this application.');
    const fresh = await poll(again.device_code, untrusted);
    assert.equal(fresh.status, 200, await fresh.clone().text());
    const body = (await fresh.json()) as Body;
    secrets.push(String(body.access_token), String(body.refresh_token));
  });

  test('DEV-03 another client polling with its own credentials gets invalid_grant and changes nothing (no slow_down for the owner)', async () => {
    const d = await start(untrusted);
    for (let i = 0; i < 3; i++) await expectJsonError(await poll(d.device_code, other), 400, 'invalid_grant', 'The device code is invalid, expired or already used.');
    const rec = await record(d.device_code);
    assert.equal(rec?.polledAt, null);
    assert.equal(rec?.interval, 5);
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'authorization_pending', 'The user has not yet approved the request.');
    // A public client naming the owner by client_id is refused before the grant (the owner is confidential).
    await expectJsonError(await s.postForm('/oauth2/token', { grant_type: GRANT, device_code: d.device_code, client_id: untrusted.id }), 401, 'invalid_client');
  });

  test('DEV-03 slow_down (RFC 8628 §3.5): each too-early poll adds 5 s, kept for every later poll', async () => {
    const d = await start(untrusted);
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'authorization_pending');
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'slow_down', 'Polling too fast: wait at least 10 seconds between requests.');
    clock += 6_000; // past the first interval, within the grown one
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'slow_down', 'Polling too fast: wait at least 15 seconds between requests.');
    clock += 15_000;
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'authorization_pending');
    assert.equal((await record(d.device_code))?.interval, 15);
  });

  test('DEV-06 user codes are normalised (case, dash, spaces) and nothing else: look-alikes and other alphabets are wrong codes', async () => {
    const d = await start(untrusted);
    const cookie = await cookieOf('normaliser');
    const plain = d.user_code.replace('-', '');
    for (const typed of [plain.toLowerCase(), ` ${d.user_code.slice(0, 4)} ${d.user_code.slice(5)} `, `${plain.slice(0, 2)}-${plain.slice(2)}`]) {
      assert.equal((await devicePage(s, `?${new URLSearchParams({ user_code: typed })}`, cookie)).status, 200, typed);
    }
    // Full-width letters and a zero-width space are not the code; each counts as a wrong one (400, not found).
    const cookie2 = await cookieOf('normaliser-2');
    const fullWidth = [...plain].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    for (const typed of [fullWidth, `${plain.slice(0, 4)}\u200b${plain.slice(4)}`]) {
      const res = await devicePage(s, `?${new URLSearchParams({ user_code: typed })}`, cookie2);
      assert.equal(res.status, 400, typed);
      assert.match(await res.text(), /That code is not valid/);
    }
  });

  test('DEV-07 the decision form is no oracle: a posted guess without a form token is 403 whether or not the code exists, and counts nothing', async () => {
    const d = await start(untrusted);
    const cookie = await cookieOf('poster');
    const guesses = [await devicePost(s, { user_code: d.user_code, decision: 'approve' }, cookie), await devicePost(s, { user_code: 'BCDF-GHJK', decision: 'approve' }, cookie)];
    const texts = await Promise.all(guesses.map((r) => r.text()));
    assert.deepEqual(guesses.map((r) => r.status), [403, 403]);
    assert.equal(texts[0], texts[1]);
    assert.equal((await record(d.device_code))?.status, 'pending');
  });

  test('DEV-06 a client disabled after the device request: the posted approval is refused (400 page), nothing is decided or consented, its poll is invalid_client', async () => {
    const app = await s.client({ name: 'Disabled CLI', grants: [GRANT], scopes: ['read'] });
    const d = await start(app);
    const cookie = await cookieOf();
    const shown = await devicePage(s, `?user_code=${d.user_code}`, cookie);
    const fields = formFields(await shown.text());
    assert.equal((await s.admin('POST', `/clients/${app.id}/disable`)).status, 200);
    const decided = await devicePost(s, { ...fields, decision: 'approve' }, cookie);
    assert.equal(decided.status, 400);
    assert.match(await decided.text(), /The application is unknown or disabled\./);
    assert.equal((await record(d.device_code))?.status, 'pending');
    assert.equal(await s.keymint.store.consents.get(app.id, 'user', USER), undefined, 'no consent recorded');
    await expectJsonError(await poll(d.device_code, app), 401, 'invalid_client');
  });

  test('DEV-05 DEV-04 after expiry: expired_token at the token endpoint, the page refuses, an approval posted from a page shown in time cannot land', async () => {
    const d = await start(untrusted);
    const cookie = await cookieOf();
    const shown = await devicePage(s, `?user_code=${d.user_code}`, cookie);
    const fields = formFields(await shown.text());
    clock += 600_001;
    const late = await devicePost(s, { ...fields, decision: 'approve' }, cookie);
    assert.equal(late.status, 400);
    assert.match(await late.text(), /This code has expired\./);
    assert.equal((await record(d.device_code))?.status, 'pending');
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'expired_token', 'The device code has expired; start again.');
  });
  test('DEV-07 wrong user codes are limited per address across sessions (the last page visits on this server): past 20 every new session is 429 too, the right code included', async () => {
    clock += 900_001; // past the counting window of the wrong codes typed above
    const d = await start(untrusted);
    let status = 0;
    let tries = 0;
    // Four wrong codes per session (under its own limit of 5), with a new session each time.
    while (status !== 429 && tries < 40) {
      const cookie = await cookieOf(`prober-${tries}`);
      for (let i = 0; i < 4 && status !== 429; i++, tries++) status = (await devicePage(s, '?user_code=BCDF-GHJK', cookie)).status;
    }
    assert.equal(status, 429);
    assert.equal(tries, 20, 'the twentieth wrong code of the address locks it');
    const right = await devicePage(s, `?user_code=${d.user_code}`, await cookieOf('late-user'));
    assert.equal(right.status, 429);
    assert.equal(right.headers.get('retry-after'), '60');
  });
});

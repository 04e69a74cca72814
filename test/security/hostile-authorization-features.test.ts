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
import { cli } from '../support/process.ts';
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
  // Real time at first: `keymint consents revoke` (another process) reads the wall clock.
  let clock = Date.now();
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
    secrets.push(d.device_code, d.user_code, d.user_code.replace('-', ''));
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

  test('CON-05 DEV-09 an approved, unredeemed device request of a trusted client is withdrawn with the app (keymint consents revoke): the poll issues nothing', async () => {
    const d = await start(trusted);
    assert.equal((await answerDevice(s, d.user_code, 'approve', await cookieOf())).status, 200);
    const withdrawn = await cli(['consents', 'revoke', trusted.id, '--subject', USER, '--json', '--data', s.dataDir]);
    assert.deepEqual([withdrawn.code, withdrawn.stderr], [0, '']);
    assert.deepEqual(JSON.parse(withdrawn.stdout), { client_id: trusted.id, subject: USER, subject_type: 'user', consent: true, tokens_revoked: 0 });
    clock += 6_000;
    const res = await poll(d.device_code, trusted);
    await expectJsonError(res, 400, 'access_denied', 'The approval of this application was withdrawn.');
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
    await expectJsonError(await poll(d.device_code, untrusted), 400, 'access_denied', 'The approval of this application was withdrawn.');
    const fresh = await poll(again.device_code, untrusted);
    assert.equal(fresh.status, 200, await fresh.clone().text());
    const body = (await fresh.json()) as Body;
    secrets.push(String(body.access_token), String(body.refresh_token));
  });

  test('CON-05 tokens issued by the device grant are the subject grants: listed live, and ended by the withdrawal (the admin API)', async () => {
    const d = await start(untrusted);
    assert.equal((await answerDevice(s, d.user_code, 'approve', await cookieOf('device-lister'))).status, 200);
    clock += 6_000;
    const issued = (await (await poll(d.device_code, untrusted)).json()) as Body;
    secrets.push(String(issued.access_token), String(issued.refresh_token));
    const listed = (await (await s.admin('GET', '/consents?subject=device-lister')).json()) as { consents: Body[] };
    assert.deepEqual(listed.consents.map((c) => [c.client_id, c.scope, c.live_grants]), [[untrusted.id, 'read', true]]);
    const withdrawn = await s.admin('DELETE', `/consents/${encodeURIComponent(untrusted.id)}?subject=device-lister`);
    assert.equal(withdrawn.status, 204);
    const refresh = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(issued.refresh_token) }, { authorization: basic(untrusted.id, untrusted.secret) });
    await expectJsonError(refresh, 400, 'invalid_grant');
    const introspected = await s.postForm('/oauth2/introspect', { token: String(issued.access_token) }, { authorization: basic(untrusted.id, untrusted.secret) });
    assert.deepEqual(await introspected.json(), { active: false });
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

  test('CON-04 DEV-09 a trusted client disabled and enabled again after the user approved its device request: that poll issues nothing; a request made since is redeemed', async () => {
    const app = await s.client({ name: 'Paused CLI', trusted: true, grants: [GRANT], scopes: ['read'] });
    secrets.push(app.secret);
    const d = await start(app);
    assert.equal((await answerDevice(s, d.user_code, 'approve', await cookieOf())).status, 200);
    assert.equal((await s.admin('POST', `/clients/${app.id}/disable`)).status, 200);
    assert.equal((await s.admin('POST', `/clients/${app.id}/enable`)).status, 200);
    clock += 6_000;
    await expectJsonError(await poll(d.device_code, app), 400, 'access_denied', 'The approval of this application was withdrawn.');
    assert.equal((await record(d.device_code))?.status, 'approved', 'nothing was redeemed');
    const since = await start(app);
    assert.equal((await answerDevice(s, since.user_code, 'approve', await cookieOf())).status, 200);
    clock += 6_000;
    const fresh = await poll(since.device_code, app);
    assert.equal(fresh.status, 200, await fresh.clone().text());
    secrets.push(String(((await fresh.json()) as Body).access_token));
  });

  test('DEV-06 a client deleted after the device request: the page says so (400), nothing is decided; the poll is invalid_client', async () => {
    const app = await s.client({ name: 'Deleted CLI', grants: [GRANT], scopes: ['read'] });
    const d = await start(app);
    const cookie = await cookieOf();
    const fields = formFields(await (await devicePage(s, `?user_code=${d.user_code}`, cookie)).text());
    assert.equal((await s.admin('DELETE', `/clients/${app.id}`)).status, 204);
    const shown = await devicePage(s, `?user_code=${d.user_code}`, cookie);
    assert.equal(shown.status, 400);
    assert.match(await shown.text(), /The application is unknown or disabled\./);
    const decided = await devicePost(s, { ...fields, decision: 'approve' }, cookie);
    assert.equal(decided.status, 400);
    assert.equal((await record(d.device_code))?.status, 'pending');
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
  test('DEV-07 wrong user codes are limited per address across sessions (the last page visits on this server): past 20 every new session is 429 too, whatever X-Forwarded-For claims, the right code included', async () => {
    clock += 900_001; // past the counting window of the wrong codes typed above
    const d = await start(untrusted);
    let status = 0;
    let tries = 0;
    // Four wrong codes per session (under its own limit of 5), with a new session each time.
    while (status !== 429 && tries < 40) {
      const cookie = await cookieOf(`prober-${tries}`);
      // Each from another claimed address: X-Forwarded-For is believed only from configured proxies.
      for (let i = 0; i < 4 && status !== 429; i++, tries++) {
        const spoofed = `203.0.113.${tries}, 2001:db8:${tries}::1`;
        status = (await fetch(`${s.url}/oauth2/device?user_code=BCDF-GHJK`, { redirect: 'manual', headers: { cookie, 'x-forwarded-for': spoofed } })).status;
      }
    }
    assert.equal(status, 429);
    assert.equal(tries, 20, 'the twentieth wrong code of the address locks it');
    const right = await devicePage(s, `?user_code=${d.user_code}`, await cookieOf('late-user'));
    assert.equal(right.status, 429);
    assert.equal(right.headers.get('retry-after'), '60');
  });
});

describe('pushed requests, request objects and dpop_jkt under attack', () => {
  let s: GrantServer;
  // The server's clock is the wall clock (client assertions are signed with it), moved ahead when a test needs it.
  let skew = 0;
  const now = () => Date.now() + skew;
  let key: KeyPair;
  let rsa: KeyPair;
  let a: string;
  let b: string;
  let consenting: string;
  let rsaApp: string;
  let inserts = 0;
  let codes = 0;
  const base = { grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [CB] };
  before(async () => {
    // Refused assertions are meant here: the per-client lockout would answer some of them in their place.
    s = await startGrantServer({ issuer: ISSUER, lockoutThreshold: '1000' }, { now, log: log() });
    key = await keyPair('ES256', 'shared-k1');
    rsa = await keyPair('RS256', 'rsa-k1');
    // Two clients registering the same key: an object signed for one is still not the other's.
    a = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'App A', trusted: true });
    b = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'App B', trusted: true });
    consenting = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Asks consent' });
    rsaApp = await privateKeyJwtClient(s.keymint, { keys: [rsa] }, { ...base, name: 'RSA app', trusted: true });
    const { pushedRequests, codes: codeRepo } = s.keymint.store;
    const insert = pushedRequests.insert.bind(pushedRequests);
    pushedRequests.insert = (r) => ((inserts += 1), insert(r));
    const insertCode = codeRepo.insert.bind(codeRepo);
    codeRepo.insert = (r) => ((codes += 1), insertCode(r));
  });
  after(() => s.close());

  const cookieOf = async (subject = USER) => {
    const token = (await s.session({ subject })).session_token;
    secrets.push(token);
    return `keymint_session=${token}`;
  };
  const requestObject = async (clientId: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signer: KeyPair = key) => {
    const t = Math.floor(now() / 1000);
    const { challenge, verifier } = pkce();
    const body: Record<string, unknown> = {
      iss: clientId, aud: ISSUER, client_id: clientId, response_type: 'code', redirect_uri: CB, scope: 'openid read', state: 'st-obj',
      code_challenge: challenge, code_challenge_method: 'S256', jti: randomBytes(12).toString('base64url'), iat: t, exp: t + 300, ...claims,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    const jwt = await new SignJWT(body as JWTPayload).setProtectedHeader({ alg: signer.alg, kid: signer.jwk.kid!, typ: 'oauth-authz-req+jwt', ...header }).sign(signer.privateKey);
    return { jwt, verifier };
  };
  const clientAuth = async (clientId: string, signer: KeyPair = key) => ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(signer, { clientId, aud: ISSUER }) });
  const push = async (clientId: string, form: Record<string, string>, headers: Record<string, string> = {}, signer: KeyPair = key) =>
    s.postForm('/oauth2/par', { ...(await clientAuth(clientId, signer)), ...form }, headers);
  const location = (res: Response) => new URL(String(res.headers.get('location')));
  const redeem = async (clientId: string, code: string, verifier: string, headers: Record<string, string> = {}) =>
    s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier, ...(await clientAuth(clientId)) }, headers);
  const pushedUri = async (res: Response) => {
    const body = (await res.json()) as Body;
    assert.equal(res.status, 201, JSON.stringify(body));
    secrets.push(String(body.request_uri).split(':').at(-1)!);
    return String(body.request_uri);
  };

  test('JAR-03 DP-06 RFC 9126 §4: a pushed request object with dpop_jkt binds the code; a query overriding redirect_uri, scope, state and dpop_jkt changes nothing', async () => {
    const dpopKey = await keyPair('ES256');
    const jkt = await calculateJwkThumbprint(dpopKey.jwk, 'sha256');
    const { jwt, verifier } = await requestObject(a, { dpop_jkt: jkt, scope: 'read' });
    const uri = await pushedUri(await push(a, { request: jwt }));
    const other = await calculateJwkThumbprint((await keyPair('ES256')).jwk, 'sha256');
    const res = await authorizeGet(s, { client_id: a, request_uri: uri, redirect_uri: 'https://evil.example/cb', scope: 'openid', state: 'outer', dpop_jkt: other, prompt: 'none' }, await cookieOf());
    assert.equal(res.status, 302);
    const back = location(res);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.equal(back.searchParams.get('state'), 'st-obj');
    const code = back.searchParams.get('code')!;
    secrets.push(code);
    await expectJsonError(await redeem(a, code, verifier), 400, 'invalid_grant', 'The code is bound to a DPoP key: the token request needs a DPoP proof by that key.');
    // The failed attempt spent it (C-07): a proof by the right key comes too late.
    const proof = await dpopProof(dpopKey, { htu: `${ISSUER}/oauth2/token` });
    await expectJsonError(await redeem(a, code, verifier, { dpop: proof }), 400, 'invalid_grant');
  });

  test('DP-06 DP-07 RFC 9449 §10: the browser taken to the polar mount (/v1/oauth2/authorize), which ignores a plain dpop_jkt, keeps the binding of a pushed or signed request', async () => {
    const dpopKey = await keyPair('ES256');
    const jkt = await calculateJwkThumbprint(dpopKey.jwk, 'sha256');
    const stored = async (code: string) => (await s.keymint.store.codes.find(candidateDigests(s.keymint.keyring.peppers(), code)))?.dpopJkt;
    // Pushed at /oauth2/par with a proof; the authorization URL's path changed on the way.
    const pushed = await requestObject(a);
    const uri = await pushedUri(await push(a, { request: pushed.jwt }, { dpop: await dpopProof(dpopKey, { htu: `${ISSUER}/oauth2/par` }) }));
    const viaPolar = await authorizeGet(s, { client_id: a, request_uri: uri }, await cookieOf(), '/v1/oauth2/authorize');
    const code = location(viaPolar).searchParams.get('code')!;
    assert.equal(await stored(code), jkt);
    await expectJsonError(await redeem(a, code, pushed.verifier), 400, 'invalid_grant', 'The code is bound to a DPoP key: the token request needs a DPoP proof by that key.');
    // A request object by value naming dpop_jkt: bound too, and redeemed with a proof by that key.
    const signed = await requestObject(a, { dpop_jkt: jkt });
    const byValue = await authorizeGet(s, { client_id: a, request: signed.jwt }, await cookieOf(), '/v1/oauth2/authorize');
    const bound = location(byValue).searchParams.get('code')!;
    assert.equal(await stored(bound), jkt);
    const ok = await redeem(a, bound, signed.verifier, { dpop: await dpopProof(dpopKey, { htu: `${ISSUER}/oauth2/token` }) });
    const body = (await ok.json()) as Body;
    assert.equal(ok.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'DPoP');
  });

  test('DP-07 JAR-06 RFC 9449 §10.1: a pushed object whose dpop_jkt names another key than the push proof is 400 invalid_request, stores nothing and leaves its jti unused', async () => {
    const dpopKey = await keyPair('ES256');
    const other = await calculateJwkThumbprint((await keyPair('ES256')).jwk, 'sha256');
    const { jwt } = await requestObject(a, { dpop_jkt: other });
    const before = inserts;
    const res = await push(a, { request: jwt }, { dpop: await dpopProof(dpopKey, { htu: `${ISSUER}/oauth2/par` }) });
    await expectJsonError(res, 400, 'invalid_request', 'dpop_jkt does not match the key of the DPoP proof.');
    assert.equal(inserts, before);
    // JAR-06: the refusal did not use the object's jti; the push that is accepted does.
    const otherKey = await keyPair('ES256');
    const matching = (await requestObject(a, { dpop_jkt: await calculateJwkThumbprint(otherKey.jwk, 'sha256'), jti: 'refused-then-accepted' })).jwt;
    await expectJsonError(await push(a, { request: matching }, { dpop: await dpopProof(dpopKey, { htu: `${ISSUER}/oauth2/par` }) }), 400, 'invalid_request', 'dpop_jkt does not match the key of the DPoP proof.');
    assert.equal((await push(a, { request: matching }, { dpop: await dpopProof(otherKey, { htu: `${ISSUER}/oauth2/par` }) })).status, 201);
    await expectJsonError(await push(a, { request: matching }, { dpop: await dpopProof(otherKey, { htu: `${ISSUER}/oauth2/par` }) }), 400, 'invalid_request_object', 'The request object has already been used (jti).');
    assert.equal(inserts, before + 1);
  });

  test('PAR-04 RFC 9126 §4: another client presenting a request_uri gets the error page and does not use it up; its owner still can', async () => {
    const { jwt, verifier } = await requestObject(a);
    const uri = await pushedUri(await push(a, { request: jwt }));
    const cookie = await cookieOf();
    const stolen = await authorizeGet(s, { client_id: b, request_uri: uri }, cookie);
    assert.equal(stolen.status, 400);
    assert.equal(stolen.headers.get('location'), null);
    assert.match(await stolen.text(), /request_uri is unknown, has expired, or belongs to another application/);
    const own = await authorizeGet(s, { client_id: a, request_uri: uri }, cookie);
    assert.equal(own.status, 302);
    const code = location(own).searchParams.get('code')!;
    assert.equal((await redeem(a, code, verifier)).status, 200);
  });

  test('JAR-02 RFC 9101 §6.3: an object of client A sent with client_id B (both registered the same key) is invalid_request_object, at either endpoint', async () => {
    const { jwt } = await requestObject(a);
    await expectJsonError(await push(b, { request: jwt }), 400, 'invalid_request_object', 'The request object client_id must equal the client_id parameter.');
    const before = codes;
    const res = await authorizeGet(s, { client_id: b, request: jwt }, await cookieOf());
    assert.equal(res.status, 302);
    assert.deepEqual(Object.fromEntries(location(res).searchParams), { error: 'invalid_request_object', error_description: 'The request object client_id must equal the client_id parameter.', state: 'st-obj', iss: ISSUER });
    assert.equal(codes, before);
  });

  test('PAR-01 RFC 9126 §2: the push authenticates as the token endpoint does, so a client restricted to the polar dialect is unauthorized_client there, and nothing is stored', async () => {
    const polarOnly = await s.client({ ...base, name: 'Polar-only app', dialects: ['polar'] });
    const before = inserts;
    const res = await s.postForm('/oauth2/par', { response_type: 'code', redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256' }, { authorization: basic(polarOnly.id, polarOnly.secret) });
    await expectJsonError(res, 400, 'unauthorized_client', 'The client is not allowed to use this endpoint.');
    await expectJsonError(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: 'km_ac_x', redirect_uri: CB }, { authorization: basic(polarOnly.id, polarOnly.secret) }), 400, 'unauthorized_client', 'The client is not allowed to use this endpoint.');
    assert.equal(inserts, before);
  });

  test('PAR-02 JAR-07 request with request_uri: invalid_request at the push (RFC 9126 §2.1) and at the authorization endpoint (RFC 9101 §5)', async () => {
    const { jwt } = await requestObject(a);
    const uri = await pushedUri(await push(a, { request: (await requestObject(a)).jwt }));
    const before = inserts;
    await expectJsonError(await push(a, { request: jwt, request_uri: uri }), 400, 'invalid_request', 'A pushed authorization request cannot carry a request_uri.');
    assert.equal(inserts, before);
    const res = await authorizeGet(s, { client_id: a, request: jwt, request_uri: uri, redirect_uri: CB, state: 'both' }, await cookieOf());
    assert.deepEqual(Object.fromEntries(location(res).searchParams), { error: 'invalid_request', error_description: 'Send one request object, by value (request) or as a pushed request_uri, not both.', state: 'both', iss: ISSUER });
    // Neither was used: the pushed request still gives a code.
    assert.ok(location(await authorizeGet(s, { client_id: a, request_uri: uri }, await cookieOf())).searchParams.get('code'));
  });

  test('PAR-06 CON-03 a pushed request consent form posted by another session: 403, nothing used or consented; the user who saw it still decides', async () => {
    const { jwt, verifier } = await requestObject(consenting);
    const uri = await pushedUri(await push(consenting, { request: jwt }));
    const victim = await cookieOf('par-victim');
    const page = await authorizeGet(s, { client_id: consenting, request_uri: uri }, victim);
    assert.equal(page.status, 200);
    const fields = formFields(await page.text());
    assert.deepEqual(Object.keys(fields).sort(), ['client_id', 'csrf_token', 'request_uri']);
    const post = (cookie: string, over: Record<string, string> = {}) =>
      fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'approve', ...over }).toString() });
    const attacker = await cookieOf('par-attacker');
    assert.equal((await post(attacker)).status, 403);
    assert.equal((await post(attacker, { decision: 'deny' })).status, 403, 'a forged denial uses nothing either');
    assert.equal(await s.keymint.store.consents.get(consenting, 'user', 'par-attacker'), undefined);
    // The victim's own form, with plain parameters smuggled in beside it: they are not read.
    const approved = await post(victim, { redirect_uri: 'https://evil.example/cb', scope: 'openid', state: 'smuggled' });
    assert.equal(approved.status, 302);
    const back = location(approved);
    assert.equal(`${back.origin}${back.pathname}`, CB);
    assert.equal(back.searchParams.get('state'), 'st-obj');
    const token = await redeem(consenting, back.searchParams.get('code')!, verifier);
    assert.equal(((await token.json()) as Body).scope, 'openid read');
  });

  test('JAR-03 CON-03 a request object consent form: its CSRF token does not carry over to the same fields sent as a plain request', async () => {
    const { jwt } = await requestObject(consenting, { state: 'st-csrf' });
    const cookie = await cookieOf('jar-csrf');
    const page = await authorizeGet(s, { client_id: consenting, request: jwt }, cookie);
    const fields = formFields(await page.text());
    const { challenge } = pkce();
    const plain = { response_type: 'code', client_id: consenting, redirect_uri: CB, scope: 'openid read', state: 'st-csrf', code_challenge: challenge, code_challenge_method: 'S256' };
    const res = await fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...plain, csrf_token: fields.csrf_token!, decision: 'approve' }).toString() });
    assert.equal(res.status, 403);
    assert.equal(await s.keymint.store.consents.get(consenting, 'user', 'jar-csrf'), undefined);
  });

  test('OIDC Core §3.1.2.1 with JAR: prompt and max_age come from the object, not the query', async () => {
    const before = codes;
    // prompt=none in the object, no session: login_required at the object's redirect URI, whatever the query says.
    const none = await authorizeGet(s, { client_id: a, request: (await requestObject(a, { prompt: 'none' })).jwt, prompt: 'consent' });
    assert.deepEqual(Object.fromEntries(location(none).searchParams), { error: 'login_required', error_description: 'The user is not logged in.', state: 'st-obj', iss: ISSUER });
    // max_age=0 in the object with a session signed in earlier: a new sign-in is needed (no login URL here).
    const signedInBefore = await cookieOf('max-age-user');
    skew += 2_000;
    const older = await requestObject(a, { max_age: 1 });
    const res = await authorizeGet(s, { client_id: a, request: older.jwt }, signedInBefore);
    assert.deepEqual(Object.fromEntries(location(res).searchParams), { error: 'login_required', error_description: 'The user must sign in again.', state: 'st-obj', iss: ISSUER });
    // The same in the query, beside an object without it, is ignored: the code is issued.
    const plain = await authorizeGet(s, { client_id: a, request: (await requestObject(a)).jwt, max_age: '1', prompt: 'login' }, signedInBefore);
    assert.ok(location(plain).searchParams.get('code'));
    assert.equal(codes, before + 1);
  });

  test('PAR-03 OIDC Core §3.1.2.1 prompt=none pushed: consent_required (or login_required) at the pushed redirect URI, never a page; the answer uses the request_uri up', async () => {
    const before = codes;
    const cookie = await cookieOf('par-none-user');
    for (const [cookieHeader, error, description] of [[cookie, 'consent_required', 'The user has not approved this application.'], [undefined, 'login_required', 'The user is not logged in.']] as const) {
      const uri = await pushedUri(await push(consenting, { request: (await requestObject(consenting, { prompt: 'none', state: `st-${error}` })).jwt }));
      const res = await authorizeGet(s, { client_id: consenting, request_uri: uri, prompt: 'consent' }, cookieHeader);
      assert.equal(res.status, 302);
      assert.deepEqual(Object.fromEntries(location(res).searchParams), { error, error_description: description, state: `st-${error}`, iss: ISSUER });
      const again = await authorizeGet(s, { client_id: consenting, request_uri: uri }, cookie);
      assert.deepEqual(Object.fromEntries(location(again).searchParams), { error: 'invalid_request_uri', error_description: 'The request_uri has expired or has already been used.', state: `st-${error}`, iss: ISSUER });
    }
    assert.equal(codes, before);
  });

  test('JAR-01 RFC 8725 §3.1 alg confusion: HS256 keyed with the RSA public key, a kid of another client, none with a signature: refused, nothing stored', async () => {
    const t = Math.floor(now() / 1000);
    const claims = { iss: rsaApp, aud: ISSUER, client_id: rsaApp, response_type: 'code', redirect_uri: CB, scope: 'openid', exp: t + 300, code_challenge: pkce().challenge, code_challenge_method: 'S256' };
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: rsa.jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const asHmac = [
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-k1' }).sign(new TextEncoder().encode(pem)),
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-k1' }).sign(new TextEncoder().encode(JSON.stringify(rsa.jwk))),
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-k1' }).sign(Buffer.from(rsa.jwk.n!, 'base64url')),
    ];
    // Signed by A's key, under A's kid, for the RSA client: the kid names no key of that client.
    const otherKid = (await requestObject(rsaApp, {}, { kid: 'shared-k1', alg: 'ES256' }, key)).jwt;
    // RS256 header over an ES256 signature of the registered kid.
    const mixed = (await requestObject(rsaApp, {}, { alg: 'ES256', kid: 'rsa-k1' }, key)).jwt;
    const before = inserts;
    const alg = 'The request object must be signed with an asymmetric algorithm (none and HS* are refused).';
    const wrongKey = 'The request object is not signed by a key registered for this client.';
    for (const jwt of asHmac) await expectJsonError(await push(rsaApp, { request: jwt }, {}, rsa), 400, 'invalid_request_object', alg);
    await expectJsonError(await push(rsaApp, { request: otherKid }, {}, rsa), 400, 'invalid_request_object', wrongKey);
    await expectJsonError(await push(rsaApp, { request: mixed }, {}, rsa), 400, 'invalid_request_object', wrongKey);
    assert.equal(inserts, before);
  });

  test('PJ-05 JAR-01 RFC 9101 §10.8, RFC 8725 §3.11: a request object seen in the front channel is never a client assertion, even with sub and iss the client', async () => {
    const app = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...base, name: 'Confused app', trusted: true, grants: ['authorization_code', 'client_credentials'] });
    const t = Math.floor(now() / 1000);
    const object = (await requestObject(app, { sub: app, exp: t + 50 })).jwt;
    // As the browser carried it: by value at the authorization endpoint (a code issued, as it should be).
    assert.ok(location(await authorizeGet(s, { client_id: app, request: object }, await cookieOf())).searchParams.get('code'));
    for (const path of ['/oauth2/token', '/oauth2/par']) {
      const form: Record<string, string> = path === '/oauth2/token' ? { grant_type: 'client_credentials' } : { request: (await requestObject(app)).jwt };
      const res = await s.postForm(path, { ...form, client_assertion_type: JWT_BEARER, client_assertion: object });
      await expectJsonError(res, 401, 'invalid_client');
    }
    // An assertion's own types are taken (none, JWT, client-authentication+jwt); another kind's is not.
    const asAssertion = async (typ: string | undefined) =>
      (await s.postForm('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: app, aud: ISSUER }, typ === undefined ? {} : { typ }) })).status;
    const statuses = [];
    for (const typ of [undefined, 'JWT', 'client-authentication+jwt', 'application/client-authentication+jwt', 'oauth-authz-req+jwt', 'dpop+jwt', 'at+jwt']) statuses.push(await asAssertion(typ));
    assert.deepEqual(statuses, [200, 200, 200, 200, 401, 401, 401]);
  });

  test('JAR-02 aud (RFC 9101 §4): an array holding the issuer is taken; an array of the endpoints only, or an empty one, is refused', async () => {
    assert.equal((await push(a, { request: (await requestObject(a, { aud: ['https://other.example', ISSUER] })).jwt })).status, 201);
    const aud = 'The request object aud must be the issuer identifier.';
    for (const value of [[`${ISSUER}/oauth2/par`, `${ISSUER}/oauth2/token`], [], [`${ISSUER}/`], ISSUER.toUpperCase()]) {
      await expectJsonError(await push(a, { request: (await requestObject(a, { aud: value })).jwt }), 400, 'invalid_request_object', aud);
    }
  });

  test('JAR-01 size: a push past the body limit (16 KiB) is 413 in the oauth2 JSON shape; by value, a URL past the 16 KiB the HTTP parser reads is 431; never a 5xx, nothing stored', async () => {
    const before = { inserts, codes };
    const big = (await requestObject(a, { padding: 'x'.repeat(17_000) })).jwt;
    for (const request of [big, (await requestObject(a, { padding: 'x'.repeat(2_000_000) })).jwt]) {
      await expectJsonError(await push(a, { request }), 413, 'invalid_request', 'The request body is too large.');
    }
    for (const request of [big, (await requestObject(a, { padding: 'x'.repeat(70_000) })).jwt]) {
      const res = await authorizeGet(s, { client_id: a, request }, await cookieOf());
      assert.equal(res.status, 431);
      assert.equal(res.headers.get('location'), null);
    }
    assert.deepEqual({ inserts, codes }, before);
  });

  test('JAR-01 a nested object (a JWS whose payload is a JWT, cty JWT; a JWE) is invalid_request_object', async () => {
    const inner = (await requestObject(a)).jwt;
    const nested = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'shared-k1', cty: 'JWT' })).toString('base64url')}.${Buffer.from(inner).toString('base64url')}.AAAA`;
    const notJwt = 'The request object is not a signed JWT (compact JWS; encrypted request objects are not supported).';
    await expectJsonError(await push(a, { request: nested }), 400, 'invalid_request_object');
    await expectJsonError(await push(a, { request: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiSldUIn0..aaaa.bbbb.cccc' }), 400, 'invalid_request_object', notJwt);
  });
});

test('S-05 no secret in the logs of either server (client secrets, session tokens, device codes, codes, tokens)', () => {
  assert.ok(logLines.length > 0, "the servers logged");
  const all = logLines.join('\n');
  for (const secret of secrets) assert.ok(!all.includes(secret), `a secret in the logs: ${secret.slice(0, 8)}…`);
});

/**
 * A subject's connected apps in the admin API (CON-05): `GET /admin/v1/consents` lists the clients a
 * user or organization has approved, with the scopes, when, and whether a refresh token is live;
 * `DELETE /admin/v1/consents/<client id>` withdraws one: the consent and every grant of that subject
 * to that client end together, nothing of another subject or client does. Exact answers throughout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { answerConsent, authorizeGet, basic, formFields, ORG, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const ISS = 'http://localhost:8080';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('connected apps in the admin API (CON-05)', () => {
  let s: GrantServer;
  let app: { id: string; secret: string };
  let other: { id: string; secret: string };
  let n = 0;
  before(async () => {
    s = await startGrantServer();
    const base = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read', 'write'], redirectUris: [CB] };
    app = await s.client({ ...base, name: 'Acme Reports' });
    other = await s.client({ ...base, name: 'Other' });
  });
  after(() => s.close());

  const user = async (subject = `user-${++n}-${Date.now()}`, type: 'user' | 'organization' = 'user') => {
    const session = await s.session({ subject, subject_type: type });
    return { subject, cookie: `keymint_session=${session.session_token}` };
  };
  const query = (clientId: string, over: Record<string, string> = {}) => ({
    response_type: 'code', client_id: clientId, redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'xyz', scope: 'openid read', ...over,
  });
  /** Approves `client` on the consent page and redeems the code: resolves the token response. */
  const connect = async (client: { id: string; secret: string }, cookie: string, scope = 'openid read') => {
    const { verifier, challenge } = pkce();
    const shown = await authorizeGet(s, query(client.id, { scope, code_challenge: challenge }), cookie);
    assert.equal(shown.status, 200, 'the consent page');
    const res = await answerConsent(s, shown, cookie);
    const code = String(new URL(String(res.headers.get('location'))).searchParams.get('code'));
    const tokens = await s.json(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(client.id, client.secret) }));
    assert.equal(typeof tokens.refresh_token, 'string', JSON.stringify(tokens));
    return tokens as { access_token: string; refresh_token: string };
  };
  const silently = async (clientId: string, cookie: string) => {
    const res = await authorizeGet(s, query(clientId, { prompt: 'none' }), cookie);
    assert.equal(res.status, 302);
    return Object.fromEntries(new URL(String(res.headers.get('location'))).searchParams);
  };
  const refresh = (client: { id: string; secret: string }, token: string) =>
    s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token }, { authorization: basic(client.id, client.secret) });
  const active = async (client: { id: string; secret: string }, token: string) =>
    (await s.json(await s.postForm('/oauth2/introspect', { token }, { authorization: basic(client.id, client.secret) }))).active;
  const list = async (subject: string, type = 'user') => {
    const res = await s.admin('GET', `/consents?subject=${encodeURIComponent(subject)}&subject_type=${type}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return s.json(res);
  };
  const withdraw = (clientId: string, subject: string, type = 'user') =>
    s.admin('DELETE', `/consents/${encodeURIComponent(clientId)}?subject=${encodeURIComponent(subject)}&subject_type=${type}`);

  test('CON-05 the list: each approved client with its name, scopes, approval time and whether a refresh token is live', async () => {
    const { subject, cookie } = await user();
    const started = Date.now();
    const tokens = await connect(app, cookie);
    const ended = await connect(other, cookie, 'openid');
    assert.equal((await s.postForm('/oauth2/revoke', { token: tokens.access_token }, { authorization: basic(app.id, app.secret) })).status, 200);
    // Other's family ends by reuse of a rotated refresh token: no live grant, the consent stays.
    assert.equal((await refresh(other, ended.refresh_token)).status, 200);
    assert.equal((await refresh(other, ended.refresh_token)).status, 400);
    const body = await list(subject);
    const times = (body.consents as Array<{ granted_at: string }>).map((c) => c.granted_at);
    for (const t of times) assert.ok(ISO.test(t) && Date.parse(t) >= started - 1000 && Date.parse(t) <= Date.now(), t);
    const expected = [
      { client_id: app.id, client_name: 'Acme Reports', scope: 'openid read', granted_at: times[app.id < other.id ? 0 : 1], live_grants: true },
      { client_id: other.id, client_name: 'Other', scope: 'openid', granted_at: times[app.id < other.id ? 1 : 0], live_grants: false },
    ].sort((a, b) => (a.client_id < b.client_id ? -1 : 1));
    assert.deepEqual(body, { subject, subject_type: 'user', consents: expected });
    // Widened: the union of scopes, a later time.
    await connect(app, cookie, 'openid write');
    const widened = (await list(subject)).consents as Array<Record<string, unknown>>;
    assert.deepEqual(widened.find((c) => c.client_id === app.id)?.scope, 'openid read write');
    // A user who approved nothing has no connected apps.
    assert.deepEqual(await list('nobody-at-all'), { subject: 'nobody-at-all', subject_type: 'user', consents: [] });
  });

  test('CON-05 withdrawing one app ends its consent and grants: the page is back, prompt=none is consent_required, the refresh token invalid_grant, both tokens inactive; audited', async () => {
    const { subject, cookie } = await user();
    const mine = await connect(app, cookie);
    const mineElsewhere = await connect(other, cookie);
    const neighbour = await user();
    const theirs = await connect(app, neighbour.cookie);
    // A code issued before the withdrawal and redeemed after it gives nothing.
    const early = pkce();
    const issued = await authorizeGet(s, query(app.id, { prompt: 'none', code_challenge: early.challenge }), cookie);
    const pending = String(new URL(String(issued.headers.get('location'))).searchParams.get('code'));

    const res = await withdraw(app.id, subject);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(await res.text(), '');

    assert.deepEqual(await silently(app.id, cookie), { error: 'consent_required', error_description: 'The user has not approved this application.', state: 'xyz', iss: ISS });
    const page = await authorizeGet(s, query(app.id), cookie);
    assert.equal(page.status, 200);
    assert.equal(formFields(await page.text()).client_id, app.id, 'the consent page again');
    const refused = await refresh(app, mine.refresh_token);
    assert.equal(refused.status, 400);
    assert.equal((await s.json(refused)).error, 'invalid_grant');
    assert.equal(await active(app, mine.refresh_token), false);
    assert.equal(await active(app, mine.access_token), false);
    const late = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: pending, redirect_uri: CB, code_verifier: early.verifier }, { authorization: basic(app.id, app.secret) });
    assert.equal(late.status, 400);
    assert.equal((await s.json(late)).error, 'invalid_grant');
    assert.deepEqual(((await list(subject)).consents as Array<{ client_id: string }>).map((c) => c.client_id), [other.id]);

    // Another user of the same app, and the same user's other app, keep everything.
    assert.equal(await active(app, theirs.access_token), true);
    assert.equal((await refresh(app, theirs.refresh_token)).status, 200);
    assert.ok((await silently(app.id, neighbour.cookie)).code);
    assert.equal(await active(other, mineElsewhere.access_token), true);
    assert.equal((await refresh(other, mineElsewhere.refresh_token)).status, 200);
    assert.ok((await silently(other.id, cookie)).code);

    // Once withdrawn there is nothing left to withdraw: 404 in the admin shape, and nothing audited.
    const again = await withdraw(app.id, subject);
    assert.equal(again.status, 404);
    assert.deepEqual(await s.json(again), { error: 'not_found', error_description: 'The subject has no consent or live grant for this client.' });
    const events = ((await s.json(await s.admin('GET', '/audit?limit=1000'))).events as Array<Record<string, unknown>>)
      .filter((e) => e.action === 'consent.revoke' && (e.detail as Record<string, unknown>).subject === subject);
    assert.equal(events.length, 1);
    assert.match(String(events[0]!.actor), /^admin:/);
    assert.equal(events[0]!.target, app.id);
    // The code's access token and refresh token, and the refreshed pair's: each revoked once.
    assert.deepEqual(events[0]!.detail, { subject, subject_type: 'user', consent: true, tokens_revoked: 2 });
  });

  test('CON-05 the consent of an organization is its own: withdrawing it leaves the user of the same id untouched', async () => {
    const org = await user(ORG, 'organization');
    const person = await user(ORG.toUpperCase());
    await connect(app, org.cookie);
    await connect(app, person.cookie);
    assert.equal((await withdraw(app.id, ORG.toUpperCase(), 'organization')).status, 204, 'an organization id in any case');
    assert.deepEqual((await list(ORG, 'organization')).consents, []);
    assert.deepEqual(((await list(ORG.toUpperCase())).consents as Array<{ client_id: string }>).map((c) => c.client_id), [app.id]);
    assert.ok((await silently(app.id, person.cookie)).code);
    assert.equal((await silently(app.id, org.cookie)).error, 'consent_required');
  });

  test('CON-05 hostile or wrong input is a 4xx in the shape of the admin API', async () => {
    const cases: Array<[string, string, number, Record<string, unknown>]> = [
      ['GET', '/consents', 400, { error: 'invalid_request', error_description: 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)', field: 'subject' }],
      ['GET', '/consents?subject=', 400, { error: 'invalid_request', error_description: 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)', field: 'subject' }],
      ['GET', '/consents?subject=a&subject=b', 400, { error: 'invalid_request', error_description: 'subject must be given once', field: 'subject' }],
      ['GET', '/consents?subject=a&subject_type=client', 400, { error: 'invalid_request', error_description: 'subject_type must be user or organization', field: 'subject_type' }],
      ['GET', '/consents?subject=a&subject_type=user&subject_type=organization', 400, { error: 'invalid_request', error_description: 'subject_type must be user or organization', field: 'subject_type' }],
      ['GET', '/consents?subject=not-a-uuid&subject_type=organization', 400, { error: 'invalid_request', error_description: 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)', field: 'subject' }],
      ['GET', '/consents?subject=a%2Fb', 400, { error: 'invalid_request', error_description: 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)', field: 'subject' }],
      ['DELETE', `/consents/${app.id}`, 400, { error: 'invalid_request', error_description: 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)', field: 'subject' }],
      ['DELETE', '/consents/__proto__?subject=constructor', 404, { error: 'not_found', error_description: 'The subject has no consent or live grant for this client.' }],
      ['DELETE', '/consents/no-such-client?subject=user-1', 404, { error: 'not_found', error_description: 'The subject has no consent or live grant for this client.' }],
      ['DELETE', '/consents', 405, { error: 'method_not_allowed', error_description: 'This endpoint accepts only GET, HEAD.' }],
      ['POST', `/consents/${app.id}?subject=user-1`, 405, { error: 'method_not_allowed', error_description: 'This endpoint accepts only DELETE.' }],
    ];
    for (const [method, path, status, body] of cases) {
      const res = await s.admin(method, path);
      assert.equal(res.status, status, `${method} ${path}`);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await s.json(res), body, `${method} ${path}`);
    }
    assert.deepEqual(await list('__proto__'), { subject: '__proto__', subject_type: 'user', consents: [] });
  });
});

/**
 * Remembered consent at the authorization endpoint (CON-01): an approval on the consent page is kept
 * per (client, subject) and answers later requests within its scopes without the page, `prompt=none`
 * included, until withdrawn (the client revokes the user's refresh token, the client is disabled or
 * deleted). Every redirect is checked whole: where it goes and every parameter it carries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorizeGet, basic, formFields, pkce, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const ISS = 'http://localhost:8080';

describe('remembered consent (CON-01)', () => {
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

  /** A session of a user no other test uses: its cookie and id. */
  const user = async (subject = `user-${++n}`) => {
    const session = await s.session({ subject });
    return { subject, id: session.id, cookie: `keymint_session=${session.session_token}` };
  };
  const query = (clientId: string, over: Record<string, string> = {}) => ({
    response_type: 'code', client_id: clientId, redirect_uri: CB, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'xyz', ...over,
  });
  /** The redirect's destination and parameters, the code replaced by its shape. */
  const redirected = (res: Response) => {
    assert.equal(res.status, 302);
    const url = new URL(String(res.headers.get('location')));
    const params = Object.fromEntries(url.searchParams);
    if (params.code !== undefined) {
      assert.match(params.code, /^km_ac_[0-9A-Za-z]{43}$/);
      params.code = 'km_ac_…';
    }
    return { to: `${url.origin}${url.pathname}`, params };
  };
  const CODE = { to: CB, params: { code: 'km_ac_…', state: 'xyz', iss: ISS } };
  const CONSENT_REQUIRED = { to: CB, params: { error: 'consent_required', error_description: 'The user has not approved this application.', state: 'xyz', iss: ISS } };
  /** The consent page: its status, its form's fields. */
  const page = async (res: Response) => {
    assert.equal(res.status, 200);
    return formFields(await res.text());
  };
  const post = (fields: Record<string, string>, cookie: string) =>
    fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  /** Asks, is shown the page, approves: resolves the approval's redirect. */
  const approve = async (clientId: string, cookie: string, over: Record<string, string> = {}) => {
    const fields = await page(await authorizeGet(s, query(clientId, over), cookie));
    return post({ ...fields, decision: 'approve' }, cookie);
  };
  const silently = async (clientId: string, cookie: string, over: Record<string, string> = {}) =>
    redirected(await authorizeGet(s, query(clientId, { prompt: 'none', ...over }), cookie));

  test('CON-01 a second authorization within the approved scopes skips the page: the code at once', async () => {
    const { cookie } = await user();
    assert.deepEqual(redirected(await approve(app.id, cookie, { scope: 'openid read' })), CODE);
    assert.deepEqual(redirected(await authorizeGet(s, query(app.id, { scope: 'openid read' }), cookie)), CODE);
    assert.deepEqual(redirected(await authorizeGet(s, query(app.id, { scope: 'read' }), cookie)), CODE, 'fewer scopes than approved');
  });

  test('CON-01 prompt=none is consent_required before the approval and the code after it', async () => {
    const { cookie } = await user();
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    assert.deepEqual(redirected(await approve(app.id, cookie, { scope: 'openid read' })), CODE);
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read' }), CODE);
  });

  test('CON-01 more scopes than approved: the page again, for the whole set (prompt=none: consent_required); approved, all are remembered', async () => {
    const { cookie } = await user();
    await approve(app.id, cookie, { scope: 'openid read' });
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read write' }), CONSENT_REQUIRED);
    const res = await authorizeGet(s, query(app.id, { scope: 'openid write' }), cookie);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<li>Confirm who you are \(<code>openid<\/code>\)<\/li>\n<li><code>write<\/code><\/li>\n<\/ul>/, 'the page lists every scope asked for');
    assert.deepEqual(redirected(await post({ ...formFields(html), decision: 'approve' }, cookie)), CODE);
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read write' }), CODE, 'both approvals together');
  });

  test('CON-01 prompt=consent shows the page even within what was approved', async () => {
    const { cookie } = await user();
    await approve(app.id, cookie, { scope: 'openid read' });
    const fields = await page(await authorizeGet(s, query(app.id, { scope: 'openid read', prompt: 'consent' }), cookie));
    assert.equal(fields.scope, 'openid read');
    assert.deepEqual(redirected(await post({ ...fields, decision: 'approve' }, cookie)), CODE);
  });

  test('CON-02 consent is per (client, subject): another user, or another client for the same user, is asked', async () => {
    const alice = await user();
    const bob = await user();
    await approve(app.id, alice.cookie, { scope: 'openid read' });
    assert.deepEqual(await silently(app.id, bob.cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    await page(await authorizeGet(s, query(app.id, { scope: 'openid read' }), bob.cookie));
    assert.deepEqual(await silently(other.id, alice.cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    await page(await authorizeGet(s, query(other.id, { scope: 'openid read' }), alice.cookie));
    // An organization whose id is the same string as a user's subject is another subject.
    const org = '0b9e7c3a-2d41-4f5e-9a6b-7c8d9e0f1a2b';
    const asUser = await user(org);
    await approve(app.id, asUser.cookie, { scope: 'openid' });
    const asOrg = `keymint_session=${(await s.session({ subject: org, subject_type: 'organization' })).session_token}`;
    assert.deepEqual(await silently(app.id, asOrg, { scope: 'openid' }), CONSENT_REQUIRED);
  });

  test('CON-03 a forged consent form, another session\'s, one whose session has ended, or a denial records nothing', async () => {
    const { cookie, subject, id } = await user();
    const fields = await page(await authorizeGet(s, query(app.id, { scope: 'openid read' }), cookie));
    assert.equal((await post({ ...fields, csrf_token: 'forged', decision: 'approve' }, cookie)).status, 403);
    const another = await user();
    assert.equal((await post({ ...fields, decision: 'approve' }, another.cookie)).status, 403);
    assert.deepEqual(redirected(await post({ ...fields, decision: 'deny' }, cookie)),
      { to: CB, params: { error: 'access_denied', error_description: 'The user denied the request.', state: 'xyz', iss: ISS } });
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    assert.deepEqual(await silently(app.id, another.cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    // The form outlives its session: approved after the session ended, it is refused.
    assert.equal((await s.admin('DELETE', `/sessions/${id}`)).status, 204);
    assert.equal((await post({ ...fields, decision: 'approve' }, cookie)).status, 403);
    assert.deepEqual(await silently(app.id, (await user(subject)).cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
  });

  test('CON-04 revoking the user\'s refresh token withdraws the consent: the page is back, prompt=none is consent_required; audited', async () => {
    const { cookie, subject, id } = await user();
    const { verifier, challenge } = pkce();
    const fields = await page(await authorizeGet(s, query(app.id, { scope: 'openid read', code_challenge: challenge }), cookie));
    const code = String(new URL(String((await post({ ...fields, decision: 'approve' }, cookie)).headers.get('location'))).searchParams.get('code'));
    const tokens = await s.json(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(app.id, app.secret) }));
    assert.equal(typeof tokens.refresh_token, 'string');
    // Revoking an access token is not the end of the grant.
    assert.equal((await s.postForm('/oauth2/revoke', { token: String(tokens.access_token) }, { authorization: basic(app.id, app.secret) })).status, 200);
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read' }), CODE);
    assert.equal((await s.postForm('/oauth2/revoke', { token: String(tokens.refresh_token) }, { authorization: basic(app.id, app.secret) })).status, 200);
    assert.deepEqual(await silently(app.id, cookie, { scope: 'openid read' }), CONSENT_REQUIRED);
    await page(await authorizeGet(s, query(app.id, { scope: 'openid read' }), cookie));
    const events = ((await s.json(await s.admin('GET', '/audit?limit=1000'))).events as Array<Record<string, unknown>>)
      .filter((e) => (e.detail as Record<string, unknown>).subject === subject);
    assert.deepEqual(events.map((e) => [e.actor, e.action, e.target, e.detail]), [
      [`client:${app.id}`, 'consent.revoke', app.id, { subject, subject_type: 'user' }],
      [`session:${id}`, 'consent.grant', app.id, { subject, subject_type: 'user', scope: 'openid read' }],
    ]);
  });

  test('CON-04 disabling the client withdraws every user\'s consent to it (enabled again, it asks); rotating its secret does not', async () => {
    const c = await s.client({ grants: ['authorization_code'], scopes: ['openid'], redirectUris: [CB], name: 'Toggled' });
    const { cookie } = await user();
    await approve(c.id, cookie, { scope: 'openid' });
    assert.equal((await s.admin('POST', `/clients/${c.id}/rotate-secret`, { expire_old_in: 0 })).status, 200);
    assert.deepEqual(await silently(c.id, cookie, { scope: 'openid' }), CODE, 'a secret rotation is not the user\'s withdrawal');
    assert.equal((await s.admin('POST', `/clients/${c.id}/disable`)).status, 200);
    assert.equal((await s.admin('POST', `/clients/${c.id}/enable`)).status, 200);
    assert.deepEqual(await silently(c.id, cookie, { scope: 'openid' }), CONSENT_REQUIRED);
    await page(await authorizeGet(s, query(c.id, { scope: 'openid' }), cookie));
  });

  test('CON-04 deleting the client withdraws it: registered again under the same id, it asks', async () => {
    const spec = { client_id: 'imported-consent-app', name: 'Imported', grants: ['authorization_code'], scopes: ['openid'], redirect_uris: [CB] };
    assert.equal((await s.admin('POST', '/clients', spec)).status, 201);
    const { cookie } = await user();
    await approve(spec.client_id, cookie, { scope: 'openid' });
    assert.deepEqual(await silently(spec.client_id, cookie, { scope: 'openid' }), CODE);
    assert.equal((await s.admin('DELETE', `/clients/${spec.client_id}`)).status, 204);
    assert.equal((await s.admin('POST', '/clients', spec)).status, 201);
    assert.deepEqual(await silently(spec.client_id, cookie, { scope: 'openid' }), CONSENT_REQUIRED);
  });
});

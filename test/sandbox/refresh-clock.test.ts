/**
 * The sandbox's clock reaches the refresh grant: a refresh token issued before `advanceClock` past
 * its lifetime is refused by the refresh grant in the dialect's own error shape, and introspection
 * then says it is inactive; within its lifetime it still refreshes. Over real HTTP, for the two
 * dialects that speak the refresh grant (oauth2, polar).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/start-sandbox.ts';

const REDIRECT = 'https://app.example/callback';
const DAY_MS = 86_400_000;
/** Each dialect's authorization, token and introspection paths. */
const DIALECTS = {
  oauth2: { authorize: '/oauth2/authorize', token: '/oauth2/token', introspect: '/oauth2/introspect' },
  polar: { authorize: '/v1/oauth2/authorize', token: '/v1/oauth2/token', introspect: '/v1/oauth2/introspect' },
} as const;

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    clients: { app: { dialects: ['oauth2', 'polar'], grants: ['authorization_code', 'refresh_token'], scopes: ['openid'], redirectUris: [REDIRECT], trusted: true, pkceRequired: false } },
  });
});
afterEach(() => sb.reset());
after(() => sb.close());

function post(path: string, body: Record<string, string>): Promise<Response> {
  const { id, secret } = sb.clients.app!;
  return fetch(sb.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: id, client_secret: secret!, ...body }) });
}

/** A signed-in user approves the (trusted) client; the code is redeemed: the refresh token. */
async function refreshToken(dialect: keyof typeof DIALECTS): Promise<string> {
  const paths = DIALECTS[dialect];
  const { sessionToken } = await sb.keymint.sessions.create({ subject: 'user-1' }, 'test');
  const query = new URLSearchParams({ response_type: 'code', client_id: sb.clients.app!.id, redirect_uri: REDIRECT, scope: 'openid', state: 's' });
  const approved = await fetch(`${sb.url}${paths.authorize}?${query}`, { redirect: 'manual', headers: { cookie: `keymint_session=${sessionToken}` } });
  assert.equal(approved.status, 302);
  const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
  const res = await post(paths.token, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
  assert.equal(res.status, 200);
  return ((await res.json()) as { refresh_token: string }).refresh_token;
}

const active = async (dialect: keyof typeof DIALECTS, token: string) => {
  const res = await post(DIALECTS[dialect].introspect, { token });
  assert.equal(res.status, 200);
  return ((await res.json()) as { active: boolean }).active;
};

for (const dialect of ['oauth2', 'polar'] as const) {
  test(`${dialect}: a refresh token issued before advanceClock past its lifetime is refused (invalid_grant) and introspects inactive`, async () => {
    const token = await refreshToken(dialect);
    assert.equal(await active(dialect, token), true);
    sb.advanceClock(31 * DAY_MS); // past the absolute lifetime (30 days)
    const refused = await post(DIALECTS[dialect].token, { grant_type: 'refresh_token', refresh_token: token });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await refused.json(), { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' });
    assert.equal(await active(dialect, token), false);
  });

  test(`${dialect}: the idle lifetime counts on the sandbox's clock too; within it the token refreshes`, async () => {
    const idle = await refreshToken(dialect);
    sb.advanceClock(15 * DAY_MS); // unused longer than the idle lifetime (14 days)
    assert.equal((await post(DIALECTS[dialect].token, { grant_type: 'refresh_token', refresh_token: idle })).status, 400);
    assert.equal(await active(dialect, idle), false);
    await sb.reset();
    const fresh = await refreshToken(dialect);
    sb.advanceClock(13 * DAY_MS);
    const refreshed = await post(DIALECTS[dialect].token, { grant_type: 'refresh_token', refresh_token: fresh });
    assert.equal(refreshed.status, 200);
    assert.match(((await refreshed.json()) as { refresh_token: string }).refresh_token, dialect === 'polar' ? /^polar_rt_u_/ : /^km_rt_/);
  });
}

/**
 * Resource indicators (RFC 8707) at the `oauth2` endpoints: several `resource` values, the audience
 * per resource, the scopes a declared resource allows, `invalid_target` for a resource the client may
 * not have, at the token and the authorization endpoints, and on refresh.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { basic } from '../support/harness.ts';
import { authorizeGet, obtainCode, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';

const ORDERS = 'https://orders.example/api';
const BILLING = 'https://billing.example';
const REPORTS = 'https://reports.example';

describe('resource indicators', () => {
  let s: GrantServer;
  let client: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer({ resources: [`${ORDERS}=orders:read,orders:write,shared`, `${BILLING}=billing:read,shared`, REPORTS] });
    client = await s.client({
      scopes: ['orders:read', 'orders:write', 'billing:read', 'shared', 'profile'],
      audiences: [ORDERS, BILLING, REPORTS],
      grants: ['client_credentials', 'authorization_code', 'refresh_token'],
      redirectUris: ['https://app.example/cb'],
      trusted: true,
    });
  });
  after(() => s.close());

  const token = async (pairs: Array<[string, string]>) => {
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
      body: new URLSearchParams([['grant_type', 'client_credentials'], ...pairs]),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  test('RI-01 several resources: one aud value each; one the client may not have is invalid_target; a JSON body may give a list', async () => {
    const two = await token([['resource', ORDERS], ['resource', REPORTS]]);
    assert.equal(two.status, 200, JSON.stringify(two.body));
    assert.deepEqual(decodeJwt(two.body.access_token!).aud, [ORDERS, REPORTS]);
    const one = await token([['resource', BILLING]]);
    assert.equal(decodeJwt(one.body.access_token!).aud, BILLING);
    for (const pairs of [[['resource', 'https://elsewhere.example']], [['resource', ORDERS], ['resource', 'https://elsewhere.example']], [['resource', 'not a uri']]] as Array<Array<[string, string]>>) {
      const r = await token(pairs);
      assert.deepEqual([r.status, r.body.error], [400, 'invalid_target'], JSON.stringify(pairs));
    }
    const json = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(client.id, client.secret) },
      body: JSON.stringify({ grant_type: 'client_credentials', resource: [ORDERS, BILLING], scope: 'shared' }),
    });
    assert.deepEqual(decodeJwt(((await json.json()) as { access_token: string }).access_token).aud, [ORDERS, BILLING]);
  });

  test('RI-02 a declared resource allows only its scopes; several resources allow what each allows; an undeclared one restricts nothing', async () => {
    const orders = await token([['resource', ORDERS]]);
    assert.equal(decodeJwt(orders.body.access_token!).scope, 'orders:read orders:write shared', 'the client\'s scopes, narrowed to the resource\'s');
    const both = await token([['resource', ORDERS], ['resource', BILLING]]);
    assert.equal(decodeJwt(both.body.access_token!).scope, 'shared', 'only the scope both resources allow');
    const refused = await token([['resource', ORDERS], ['scope', 'billing:read']]);
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_scope']);
    const refusedBoth = await token([['resource', ORDERS], ['resource', BILLING], ['scope', 'orders:read']]);
    assert.deepEqual([refusedBoth.status, refusedBoth.body.error], [400, 'invalid_scope']);
    const reports = await token([['resource', REPORTS], ['scope', 'profile billing:read']]);
    assert.equal(decodeJwt(reports.body.access_token!).scope, 'profile billing:read');
  });

  test('RI-01 RI-03 the code flow: resource checked at the authorization endpoint, named again at the token endpoint; a refresh narrows, never widens', async () => {
    const { challenge } = pkce();
    const { session_token } = await s.session();
    const bad = await authorizeGet(s, {
      response_type: 'code', client_id: client.id, redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: 'https://elsewhere.example', state: 'x',
    }, `keymint_session=${session_token}`);
    assert.equal(bad.status, 302);
    const location = new URL(bad.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_target');
    assert.equal(location.searchParams.get('state'), 'x');

    const { code, verifier, redirectUri } = await obtainCode(s, client, { scope: 'orders:read billing:read' });
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
      body: new URLSearchParams([['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', redirectUri], ['resource', ORDERS], ['resource', REPORTS]]),
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(decodeJwt(body.access_token!).aud, [ORDERS, REPORTS]);
    const refresh = async (resource: string) => {
      const r = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token!, resource }, { authorization: basic(client.id, client.secret) });
      return { status: r.status, body: (await r.json()) as Record<string, string> };
    };
    const widened = await refresh(BILLING);
    assert.deepEqual([widened.status, widened.body.error], [400, 'invalid_target']);
    const narrowed = await refresh(REPORTS);
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(decodeJwt(narrowed.body.access_token!).aud, REPORTS);
  });

  test('RI-01 RI-03 a code authorized for one resource gives tokens for that resource only', async () => {
    const { verifier, challenge } = pkce();
    const { session_token } = await s.session();
    const res = await authorizeGet(s, {
      response_type: 'code', client_id: client.id, redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: ORDERS, scope: 'orders:read',
    }, `keymint_session=${session_token}`);
    assert.equal(res.status, 302);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const redeem = (resource?: string) =>
      s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example/cb', ...(resource ? { resource } : {}) }, { authorization: basic(client.id, client.secret) });
    const other = await redeem(REPORTS);
    assert.deepEqual([other.status, ((await other.json()) as { error: string }).error], [400, 'invalid_target'], 'a resource the authorization did not name');
    // The failed attempt spent the code (C-07); a new one, redeemed without naming the resource, is for it.
    const again = await authorizeGet(s, {
      response_type: 'code', client_id: client.id, redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: ORDERS, scope: 'orders:read',
    }, `keymint_session=${session_token}`);
    const second = new URL(again.headers.get('location')!).searchParams.get('code')!;
    const ok = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: second, code_verifier: verifier, redirect_uri: 'https://app.example/cb' }, { authorization: basic(client.id, client.secret) });
    const body = (await ok.json()) as { access_token: string };
    assert.equal(ok.status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token).aud, ORDERS);
  });
});

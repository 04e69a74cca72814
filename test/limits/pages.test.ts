/**
 * PAGE-01: the browser pages anyone can call without credentials (authorization, end-session, device
 * verification) take the per-address bucket the token endpoint takes (`--rate-limit-ip`, one budget
 * per address): over it, a 429 page with Retry-After that reads and stores nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGrantServer, type GrantServer } from '../grants/support.ts';
import { basic } from '../support/harness.ts';

const CB = 'https://app.example/cb';
const LIMIT = 6;

async function authorizeOnce(s: GrantServer, clientId: string, cookie: string): Promise<Response> {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: CB, scope: 'read', state: 's1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  return fetch(`${s.url}/oauth2/authorize?${query}`, { headers: { cookie }, redirect: 'manual' });
}

describe('PAGE-01 pages over the per-address limit', () => {
  let s: GrantServer;
  let app: { id: string; secret: string };
  let cookie: string;
  before(async () => {
    s = await startGrantServer({ rateLimitIp: LIMIT });
    app = await s.client({ name: 'Limited App', trusted: true, grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: [CB] });
    cookie = `keymint_session=${(await s.session()).session_token}`;
  });
  after(() => s.close());

  test('PAGE-01 the authorization endpoint issues codes within the budget, then answers a 429 page with Retry-After that issues none; the token endpoint shares the budget', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < LIMIT + 3; i++) {
      const res = await authorizeOnce(s, app.id, cookie);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
      else await res.arrayBuffer();
    }
    const first429 = statuses.indexOf(429);
    assert.ok(first429 > 0 && first429 <= LIMIT, `codes within the budget, then refusals: ${statuses.join(',')}`);
    assert.deepEqual(statuses.slice(0, first429), Array(first429).fill(302));
    assert.deepEqual(statuses.slice(first429), Array(statuses.length - first429).fill(429));
    assert.ok(refused);
    assert.equal(refused.headers.get('location'), null, 'no code, no redirect');
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.equal(refused.headers.get('content-type'), 'text/html;charset=utf-8');
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.match(await refused.text(), /Too many requests from your network\. Please wait a moment and try again\./);
    const token = await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(app.id, app.secret) });
    assert.equal(token.status, 429, 'one budget per address');
  });

  test('PAGE-01 the end-session endpoint is refused the same way once the address is over its budget, ending nothing', async () => {
    const res = await fetch(`${s.url}/oauth2/logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 429);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.ok((await s.keymint.sessions.resolve(cookie.slice('keymint_session='.length))) !== undefined, 'the session lives');
  });
});

test('PAGE-01 with --rate-limit-ip 0 the pages are not limited', async () => {
  const s = await startGrantServer({ rateLimitIp: 0 });
  try {
    const app = await s.client({ name: 'Unlimited App', trusted: true, grants: ['authorization_code'], scopes: ['read'], redirectUris: [CB] });
    const cookie = `keymint_session=${(await s.session()).session_token}`;
    for (let i = 0; i < LIMIT + 3; i++) {
      const res = await authorizeOnce(s, app.id, cookie);
      assert.equal(res.status, 302, `request ${i + 1}`);
    }
  } finally {
    await s.close();
  }
});

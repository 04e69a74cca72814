/**
 * Red team of the authorization request sent as a form POST (SES-02, OIDC Core §3.1.2.1), as a page
 * on another site would send it: the body alone is the request (a query on the POST is not carried
 * into the GET), the POST itself never answers with a code, not even for a trusted client with the
 * user's session cookie attached, and what the form carries reaches the Location header only
 * re-encoded.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/harness.ts';
import { send } from '../support/hostile.ts';

const ISSUER = 'http://localhost:8080';
let s: TestServer;
let trusted: { id: string };
let other: { id: string };
let session: string;

before(async () => {
  s = await startServer({ issuer: ISSUER, resources: ['https://api.example/v1=read'] });
  trusted = await s.client({ type: 'public', grants: ['authorization_code'], redirectUris: ['https://good.example/cb'], scopes: ['read'], trusted: true });
  other = await s.client({ type: 'public', grants: ['authorization_code'], redirectUris: ['https://evil.example/cb'], scopes: ['read'] });
  session = (await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test')).sessionToken;
});
after(() => s.close());

const request = (extra: Record<string, string> = {}) =>
  new URLSearchParams({ response_type: 'code', client_id: trusted.id, redirect_uri: 'https://good.example/cb', scope: 'read', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...extra });

const post = (query: string, body: string) =>
  send(`${s.url}/oauth2/authorize${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `keymint_session=${session}`, origin: 'https://attacker.example' }, body });

test('SES-02 a form POST with the session cookie attached never answers with a code, even for a trusted client: it is a 303 to the issuer\'s own authorization endpoint with the body\'s parameters alone', async () => {
  const res = await post(`?${new URLSearchParams({ client_id: other.id, redirect_uri: 'https://evil.example/cb', prompt: 'none', response_mode: 'form_post' })}`, request().toString());
  assert.equal(res.status, 303, res.text);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('set-cookie'), null);
  const location = new URL(res.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, `${ISSUER}/oauth2/authorize`);
  assert.deepEqual([...location.searchParams], [...request()], 'the body, and nothing of the query');
  assert.equal(res.text, '');
  // The GET it leads to is where a trusted client's code is issued (with the cookie a top-level GET carries).
  const get = await send(res.headers.get('location')!.replace(ISSUER, s.url), { method: 'GET', headers: { cookie: `keymint_session=${session}` } });
  assert.equal(get.status, 302);
  assert.match(get.headers.get('location') ?? '', /^https:\/\/good\.example\/cb\?code=/);
});

test('SES-02 what a form POST carries reaches the Location header only re-encoded: CR, LF, quotes and markup in its values are percent-encoded, a parameter given twice is the error page, an oversized body is 413', async () => {
  const res = await post('', request({ state: 'a\r\nSet-Cookie: km=1"<script>' }).toString());
  assert.equal(res.status, 303, res.text);
  assert.equal(res.headers.get('set-cookie'), null);
  const location = res.headers.get('location') ?? '';
  assert.ok(!/[\r\n"<> ]/.test(location), location);
  assert.equal(new URL(location).searchParams.get('state'), 'a\r\nSet-Cookie: km=1"<script>');
  // Raw characters a serializer would have encoded, sent as they are.
  const raw = await post('', `${request()}&state=a"<b> c'd`);
  assert.equal(raw.status, 303, raw.text);
  assert.ok(!/["<> ']/.test(raw.headers.get('location') ?? ''), raw.headers.get('location') ?? '');
  assert.equal(new URL(raw.headers.get('location') ?? '').searchParams.get('state'), `a"<b> c'd`);
  const twice = await post('', `${request()}&client_id=${other.id}`);
  assert.equal(twice.status, 400);
  assert.equal(twice.headers.get('location'), null);
  assert.match(twice.headers.get('content-type') ?? '', /^text\/html/);
  const huge = await post('', request({ state: 'x'.repeat(20_000) }).toString());
  assert.equal(huge.status, 413);
  assert.equal(huge.headers.get('location'), null);
});

/**
 * RFC 9700 §4.14.2: a refresh token that encodes its grant must be integrity-protected. Keymint's
 * encode nothing: random characters and a checksum, the grant kept in the store row found by the
 * token's HMAC digest. So there is nothing to protect, and an edited token can only miss.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { withChecksum } from '../../src/tokens/random.ts';
import { basic, obtainCode, startGrantServer, type GrantServer } from '../grants/support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer();
});
after(() => s.close());

/** Longest substring two strings share. */
function longestCommon(a: string, b: string): number {
  let best = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) {
    let k = 0;
    while (a[i + k] !== undefined && a[i + k] === b[j + k]) k++;
    best = Math.max(best, k);
  }
  return best;
}

test('RT-09 a refresh token carries no family, client or scope: it is random, and an edited one is refused without harm', async () => {
  const app = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: ['https://app.example/cb'], trusted: true });
  const auth = { authorization: basic(app.id, app.secret) };
  const { code, verifier, redirectUri } = await obtainCode(s, app, { scope: 'read' });
  const first = String((await s.json(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, auth))).refresh_token);
  const second = String((await s.json(await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: first }, auth))).refresh_token);

  for (const rt of [first, second]) assert.match(rt, /^km_rt_[0-9A-Za-z]{43}$/);
  // What the grant is lives in the row the token's digest finds, not in the token.
  const row = await s.keymint.store.tokens.find(candidateDigests(s.keymint.keyring.peppers(), second));
  assert.equal(row?.clientId, app.id);
  assert.equal(typeof row?.familyId, 'string');
  for (const rt of [first, second]) {
    const body = rt.slice('km_rt_'.length);
    for (const fact of [app.id.slice(-12), row!.familyId!.slice(-12), row!.subject.slice(0, 8), 'read']) assert.ok(!body.includes(fact), `the token does not spell ${fact}`);
  }
  // Two tokens of one family have nothing in common beyond chance (37 random base62 characters each).
  assert.ok(longestCommon(first.slice(6, -6), second.slice(6, -6)) < 8);

  // Edited tokens, even with a correct checksum, find no row: invalid_grant, and the real one still works.
  const body = second.slice(6, -6);
  const edited = [withChecksum(`km_rt_${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}`), withChecksum(`km_rt_${body.split('').reverse().join('')}`), `${second.slice(0, -1)}${second.endsWith('A') ? 'B' : 'A'}`];
  for (const rt of edited) {
    const res = await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: rt }, auth);
    assert.equal(res.status, 400);
    assert.equal((await s.json(res)).error, 'invalid_grant');
  }
  assert.equal((await s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: second }, auth)).status, 200);
});

/**
 * keymint/client against the real polar dialect: the `web` grant, then refresh rotation reported to
 * the caller, and the tokens it gets introspect through keymint/verify's introspector.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTokenSource } from '../../src/client/index.ts';
import { ORG, obtainCode, startGrantServer, type GrantServer } from './support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer();
});
after(() => s.close());

test('D-05 createTokenSource({dialect: "polar"}) with the web grant gets a polar_at_o_ token', async () => {
  const app = await s.client({ grants: ['web'], scopes: ['openid'] });
  const { session_token } = await s.session();
  const source = createTokenSource({
    tokenUrl: `${s.url}/v1/oauth2/token`, dialect: 'polar', clientId: app.id, clientSecret: app.secret,
    grant: { type: 'web', sessionToken: session_token, subType: 'organization', sub: ORG },
  });
  assert.match(await source.getToken(), /^polar_at_o_[0-9A-Za-z]{43}$/);
});

test('RT-04 createTokenSource({dialect: "polar"}) refreshes, and reports each rotated refresh token', async () => {
  const app = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['openid'], redirectUris: ['https://app.example/cb'], trusted: true });
  const { code, verifier } = await obtainCode(s, app, { path: '/v1/oauth2/authorize', scope: 'openid' });
  const first = await s.json(await s.postForm('/v1/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier, client_id: app.id, client_secret: app.secret }));
  const rotated: string[] = [];
  const source = createTokenSource({
    tokenUrl: `${s.url}/v1/oauth2/token`, dialect: 'polar', clientId: app.id, clientSecret: app.secret, scope: 'openid',
    grant: { type: 'refresh_token', refreshToken: String(first.refresh_token) }, onRefreshToken: (t) => void rotated.push(t),
  });
  const token = await source.getToken();
  assert.match(token, /^polar_at_u_/);
  source.invalidate(token);
  assert.notEqual(await source.getToken(), token);
  assert.equal(rotated.length, 2);
  assert.ok(rotated.every((t) => /^polar_rt_u_/.test(t)));
});

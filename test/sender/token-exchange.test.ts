/**
 * Token exchange (RFC 8693) at the `oauth2` token endpoint, through openid-client's generic grant
 * call: Keymint's own tokens and an external issuer's JWTs (trusted by its JWKS, served here on
 * 127.0.0.1) exchanged for another audience with narrower scopes, delegation chains in `act`, the
 * client's exchange policy, and introspection of the result.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import * as openid from 'openid-client';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { keyPair } from '../support/sender.ts';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const USER = '0e6c8c7e-8f6a-4f43-9d5c-4b8f3f1b2a10';
const idpKey = await keyPair('ES256', 'idp-1');

describe('token exchange', () => {
  let s: TestServer;
  let idp: string;
  let gateway: { id: string; secret: string };
  let frontend: { id: string; secret: string };
  let config: openid.Configuration;
  before(async () => {
    const host = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [idpKey.jwk] })));
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    idp = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    s = await startServer({ exchangeIssuers: [`${idp}=${idp}/jwks`], lockoutThreshold: '1000' });
    const close = s.close;
    s = { ...s, close: async () => { host.close(); await close(); } };
    frontend = await s.client({ scopes: ['orders:read', 'orders:write', 'profile'] });
    gateway = await s.client({
      grants: [EXCHANGE, 'client_credentials'],
      scopes: ['gateway'],
      exchangeAudiences: ['https://orders.example', 'https://billing.example'],
      exchangeScopes: ['orders:read', 'profile'],
    });
    config = await openid.discovery(new URL(s.keymint.config.issuer), gateway.id, gateway.secret, undefined, { execute: [openid.allowInsecureRequests] });
  });
  after(() => s.close());

  const ownToken = async (scope = 'orders:read orders:write profile') => String((await s.token(frontend.id, frontend.secret, { scope })).access_token);
  const idpToken = (claims: Record<string, unknown> = {}, aud: string = s.keymint.config.issuer): Promise<string> =>
    new SignJWT({ scope: 'orders:read orders:write', ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(idp).setSubject(USER).setAudience(aud).setIssuedAt().setExpirationTime('5m').sign(idpKey.privateKey);
  const raw = async (form: Record<string, string>) => {
    const res = await s.postForm('/oauth2/token', { grant_type: EXCHANGE, ...form }, { authorization: basic(gateway.id, gateway.secret) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const introspect = async (token: string) =>
    (await (await s.postForm('/oauth2/introspect', { token }, { authorization: basic(gateway.id, gateway.secret) })).json()) as Record<string, unknown>;

  test('TE-02 TE-03 openid-client exchanges a Keymint token for another audience with narrower scope; issued_token_type in the answer', async () => {
    const subject = await ownToken();
    const result = await openid.genericGrantRequest(config, EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN, audience: 'https://orders.example', scope: 'orders:read' });
    assert.equal(result.issued_token_type, ACCESS_TOKEN);
    assert.equal(result.token_type, 'bearer');
    const claims = decodeJwt(result.access_token);
    assert.equal(claims.sub, frontend.id, 'the subject is the subject token\'s');
    assert.equal(claims.client_id, gateway.id, 'the client is the one that exchanged');
    assert.equal(claims.aud, 'https://orders.example');
    assert.equal(claims.scope, 'orders:read');
    assert.equal(claims.act, undefined, 'no actor token: no act');
  });

  test('TE-02 no scope asked: what the subject token has and the policy allows; several audiences; another audience is invalid_target', async () => {
    const subject = await ownToken();
    const both = await raw({ subject_token: subject, subject_token_type: ACCESS_TOKEN, audience: 'https://orders.example' });
    assert.equal(both.status, 200, JSON.stringify(both.body));
    assert.equal(both.body.scope, 'orders:read profile', 'orders:write is not in the policy');
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(gateway.id, gateway.secret) },
      body: new URLSearchParams([['grant_type', EXCHANGE], ['subject_token', subject], ['subject_token_type', ACCESS_TOKEN], ['resource', 'https://orders.example'], ['resource', 'https://billing.example']]),
    });
    const multi = (await res.json()) as { access_token: string };
    assert.equal(res.status, 200, JSON.stringify(multi));
    assert.deepEqual(decodeJwt(multi.access_token).aud, ['https://orders.example', 'https://billing.example']);
    for (const target of [{ audience: 'https://payroll.example' }, { resource: s.keymint.config.issuer }] as Array<Record<string, string>>) {
      const r = await raw({ subject_token: subject, subject_token_type: ACCESS_TOKEN, ...target });
      assert.deepEqual([r.status, r.body.error], [400, 'invalid_target'], JSON.stringify(target));
    }
    for (const scope of ['orders:write', 'payments', 'orders:read gateway']) {
      const r = await raw({ subject_token: subject, subject_token_type: ACCESS_TOKEN, scope });
      assert.deepEqual([r.status, r.body.error], [400, 'invalid_scope'], scope);
    }
    const narrow = await ownToken('profile');
    const r = await raw({ subject_token: narrow, subject_token_type: ACCESS_TOKEN, scope: 'orders:read' });
    assert.deepEqual([r.status, r.body.error], [400, 'invalid_scope'], 'never wider than the subject token');
  });

  test('TE-01 the subject token and its type are required; unknown types are invalid_request; invalid, revoked and foreign tokens are invalid_grant', async () => {
    const subject = await ownToken();
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ subject_token_type: ACCESS_TOKEN }, 400, 'invalid_request'],
      [{ subject_token: subject }, 400, 'invalid_request'],
      [{ subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, 400, 'invalid_request'],
      [{ subject_token: subject, subject_token_type: 'urn:example:unknown' }, 400, 'invalid_request'],
      [{ subject_token: subject, subject_token_type: ACCESS_TOKEN, actor_token: subject }, 400, 'invalid_request'],
      [{ subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 400, 'invalid_request'],
      [{ subject_token: 'not-a-token', subject_token_type: ACCESS_TOKEN }, 400, 'invalid_grant'],
      [{ subject_token: `${subject.slice(0, -4)}AAAA`, subject_token_type: ACCESS_TOKEN }, 400, 'invalid_grant'],
      [{ subject_token: await idpToken({}, 'https://someone-else.example'), subject_token_type: JWT }, 400, 'invalid_grant'],
    ];
    for (const [form, status, error] of cases) {
      const r = await raw(form);
      assert.deepEqual([r.status, r.body.error], [status, error], JSON.stringify(Object.keys(form)));
    }
    const stranger = await keyPair('ES256', 'idp-1');
    const forged = await new SignJWT({ scope: 'orders:read' }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(idp).setSubject(USER).setAudience(s.keymint.config.issuer).setExpirationTime('5m').sign(stranger.privateKey);
    assert.equal((await raw({ subject_token: forged, subject_token_type: JWT })).body.error, 'invalid_grant', 'signed by a key the issuer does not publish');
    const untrusted = await new SignJWT({ scope: 'orders:read' }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer('https://untrusted.example').setSubject(USER).setAudience(s.keymint.config.issuer).setExpirationTime('5m').sign(idpKey.privateKey);
    assert.equal((await raw({ subject_token: untrusted, subject_token_type: JWT })).body.error, 'invalid_grant', 'an issuer the operator does not trust');
    await s.postForm('/oauth2/revoke', { token: subject }, { authorization: basic(frontend.id, frontend.secret) });
    assert.equal((await raw({ subject_token: subject, subject_token_type: ACCESS_TOKEN })).body.error, 'invalid_grant', 'a revoked subject token');
    // A client without the grant, or without a policy, gets nothing.
    const plain = await s.client({ scopes: ['orders:read'] });
    const res = await s.postForm('/oauth2/token', { grant_type: EXCHANGE, subject_token: await ownToken(), subject_token_type: ACCESS_TOKEN }, { authorization: basic(plain.id, plain.secret) });
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
  });

  test('TE-03 delegation: the actor in act, a second exchange nests the first actor; introspection shows the chain; may_act limits the actor', async () => {
    const issuer = s.keymint.config.issuer;
    const userToken = await idpToken();
    const actorToken = String((await s.token(gateway.id, gateway.secret, { scope: 'gateway' })).access_token);
    const first = await openid.genericGrantRequest(config, EXCHANGE, {
      subject_token: userToken, subject_token_type: JWT, actor_token: actorToken, actor_token_type: ACCESS_TOKEN, audience: 'https://orders.example',
    });
    const once = decodeJwt(first.access_token);
    assert.equal(once.sub, USER);
    assert.equal(once.scope, 'orders:read', 'the external token\'s scope, within the policy');
    assert.deepEqual(once.act, { sub: gateway.id, iss: issuer });

    const second = await raw({ subject_token: first.access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken(), actor_token_type: ACCESS_TOKEN, audience: 'https://billing.example' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const chain = { sub: frontend.id, iss: issuer, act: { sub: gateway.id, iss: issuer } };
    assert.deepEqual(decodeJwt(String(second.body.access_token)).act, chain);
    const view = await introspect(String(second.body.access_token));
    assert.equal(view.active, true);
    assert.deepEqual(view.act, chain);
    assert.equal(view.sub, USER);

    const restricted = await idpToken({ may_act: { sub: 'someone-else' } });
    const refused = await raw({ subject_token: restricted, subject_token_type: JWT, actor_token: actorToken, actor_token_type: ACCESS_TOKEN });
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_grant']);
    const allowed = await idpToken({ may_act: { sub: gateway.id } });
    assert.equal((await raw({ subject_token: allowed, subject_token_type: JWT, actor_token: actorToken, actor_token_type: ACCESS_TOKEN })).status, 200);
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { polarShapes } from '../../src/dialects/polar.ts';
import { opaqueFormat } from '../../src/tokens/opaque.ts';
import { OAuthError } from '../../src/wire/errors.ts';
import { s256, verifyPkce } from '../../src/protocol/pkce.ts';
import { redactPath } from '../../src/util/log.ts';
import { basic, obtainCode, pkce, seedRefreshToken, startGrantServer, type GrantServer } from './support.ts';

const code = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    return err.code;
  }
  return 'ok';
};

describe('SECURITY requirements of the user grants not covered by a single flow', () => {
  let s: GrantServer;
  let app: { id: string; secret: string };
  before(async () => {
    s = await startGrantServer();
    app = await s.client({ grants: ['authorization_code', 'refresh_token', 'web'], scopes: ['openid', 'read'], redirectUris: ['https://app.example/cb'], trusted: true });
  });
  after(() => s.close());

  test('BCP-02 BCP-03 PKCE: a stored challenge requires the verifier; a verifier for a code without challenge is refused', () => {
    const { verifier, challenge } = pkce();
    assert.equal(s256(verifier), challenge);
    assert.equal(code(() => verifyPkce(challenge, verifier)), 'ok');
    assert.equal(code(() => verifyPkce(challenge, undefined)), 'invalid_grant');
    assert.equal(code(() => verifyPkce(null, verifier)), 'invalid_grant');
    assert.equal(code(() => verifyPkce(null, undefined)), 'ok');
  });

  test('A-01 code, refresh and web grants of a confidential client require its secret → 401 invalid_client', async () => {
    const { token } = await seedRefreshToken(s, app.id);
    const forms: Array<Record<string, string>> = [
      { grant_type: 'authorization_code', code: 'km_ac_x', redirect_uri: 'https://app.example/cb', code_verifier: pkce().verifier },
      { grant_type: 'refresh_token', refresh_token: token },
      { grant_type: 'web', session_token: 'km_st_x' },
    ];
    for (const form of forms) {
      for (const path of ['/oauth2/token', '/v1/oauth2/token']) {
        const res = await s.postForm(path, { ...form, client_id: app.id });
        assert.equal(res.status, 401);
        assert.equal((await s.json(res)).error, 'invalid_client');
      }
    }
  });

  test('R-06 refresh tokens: printable ASCII only, ≥ 128 bits long, ≥ 96 bits of entropy (220 bits)', async () => {
    const { code: c, verifier } = await obtainCode(s, app);
    const body = await s.json(await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: c, redirect_uri: 'https://app.example/cb', code_verifier: verifier }, { authorization: basic(app.id, app.secret) }));
    const rt = String(body.refresh_token);
    assert.match(rt, /^[\x20-\x7E]+$/);
    assert.match(rt, /^km_rt_[0-9A-Za-z]{43}$/); // 37 random base62 characters = 220 bits, + 6 checksum
    assert.ok(rt.length * 8 >= 128);
  });

  test('D-03 Polar-style tokens carry a checksum: a one-character change is rejected before any lookup', () => {
    for (const f of Object.values(polarShapes).map(opaqueFormat)) {
      const t = f.mint();
      assert.ok(f.recognises(t));
      const i = t.length - 10;
      const mutated = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      assert.equal(f.recognises(mutated), false);
    }
  });

  test('S-01 session tokens, codes, refresh and opaque access tokens never reach the database file in clear', async () => {
    const { session_token } = await s.session();
    const web = await s.json(await s.postForm('/v1/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(app.id, app.secret) }));
    const { code: c, verifier } = await obtainCode(s, app, { path: '/v1/oauth2/authorize' });
    const polar = await s.json(await s.postForm('/v1/oauth2/token', { grant_type: 'authorization_code', code: c, redirect_uri: 'https://app.example/cb', code_verifier: verifier }, { authorization: basic(app.id, app.secret) }));
    const secrets = [session_token, String(web.access_token), c, String(polar.access_token), String(polar.refresh_token)];
    const files = readdirSync(s.dataDir).filter((f) => f.startsWith('keymint.db'));
    assert.ok(files.length > 0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(s.dataDir, f))));
    for (const secret of secrets) assert.equal(bytes.includes(Buffer.from(secret)), false);
  });

  test('S-08 junk input on every new endpoint is a 4xx (or a 200 inactive / 302 error), never a 5xx', async () => {
    const junk = ['%', '%zz', '\u0000', 'a'.repeat(5000), '\ud800', '"<script>', 'km_rt_', 'polar_at_u_', '..%2F', ' '];
    const auth = { authorization: basic(app.id, app.secret) };
    const enc = (v: string) => {
      try {
        return encodeURIComponent(v);
      } catch {
        return '%ED%A0%80'; // a lone surrogate, as raw bytes
      }
    };
    for (const v of junk) {
      const forms: Array<[string, Record<string, string>]> = [
        ['/oauth2/token', { grant_type: 'authorization_code', code: v, redirect_uri: v, code_verifier: v }],
        ['/v1/oauth2/token', { grant_type: 'refresh_token', refresh_token: v, scope: v }],
        ['/v1/oauth2/token', { grant_type: 'web', session_token: v, sub_type: v, sub: v, scope: v }],
        ['/oauth2/introspect', { token: v, token_type_hint: v }],
        ['/v1/oauth2/revoke', { token: v, token_type_hint: v }],
      ];
      for (const [path, form] of forms) {
        const res = await s.postForm(path, form, auth);
        await res.arrayBuffer();
        assert.ok(res.status < 500, `${path} ${JSON.stringify(form).slice(0, 80)} → ${res.status}`);
      }
      const q = `response_type=${enc(v)}&client_id=${encodeURIComponent(app.id)}&redirect_uri=${encodeURIComponent('https://app.example/cb')}&scope=${enc(v)}&state=${enc(v)}`;
      for (const url of [`${s.url}/oauth2/authorize?${q}`, `${s.url}/oauth2/authorize?client_id=${enc(v)}`, `${s.url}/v1/oauth2/authorize?${v}`]) {
        const res = await fetch(url, { redirect: 'manual', headers: { cookie: `keymint_session=${enc(v)}` } });
        await res.arrayBuffer();
        assert.ok(res.status < 500, `${url.slice(0, 80)} → ${res.status}`);
      }
      const info = await fetch(`${s.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${enc(v)}` } });
      await info.arrayBuffer();
      assert.ok(info.status < 500);
    }
    const consent = await fetch(`${s.url}/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from([0xff, 0xfe, 0x25]) });
    assert.equal(consent.status, 400);
  });

  test('S-06 paths are logged without token-length segments', () => {
    assert.equal(redactPath(`/admin/v1/sessions/km_st_${'a'.repeat(43)}`), '/admin/v1/sessions/[redacted]');
    assert.equal(redactPath('/admin/v1/sessions/ses_abc'), '/admin/v1/sessions/ses_abc');
  });
});

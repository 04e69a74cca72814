/**
 * Authority of admin tokens and of the revocation feed: revocation and the minting secret's end are
 * honoured on every admin call; privileged scopes only by name; admin tokens only for the admin API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jtiDigest } from '../../src/storage/types.ts';
import { candidateDigests } from '../../src/tokens/digest.ts';
import { signJwtAsync } from '../../src/tokens/jwt.ts';
import { basic } from '../support/harness.ts';
import { authorizeGet, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';

const ISSUER = 'http://localhost:8080';
const ADMIN_AUD = `${ISSUER}/admin/v1`;

let s: GrantServer;
let skew = 0;
before(async () => {
  s = await startGrantServer({ issuer: ISSUER }, { now: () => Date.now() + skew });
});
after(() => s.close());

const adminGet = (token: string, path = 'clients') => fetch(`${s.url}/admin/v1/${path}`, { headers: { authorization: `Bearer ${token}` } });
const adminPost = (token: string, path: string, body: unknown) =>
  fetch(`${s.url}/admin/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const tokenRequest = (id: string, secret: string, form: Record<string, string>) =>
  s.postForm('/oauth2/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function adminClient(scopes: string[] = []) {
  const c = await s.client({ admin: true, scopes });
  const token = async (secret = c.secret) => String((await s.token(c.id, secret, { scope: 'keymint:admin' })).access_token);
  return { ...c, token };
}

async function assertInvalidToken(res: Response): Promise<void> {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="invalid_token"');
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
}

describe('ADM-01 admin tokens lose authority when revoked or when their secret ends', () => {
  test('ADM-01 a token revoked at /oauth2/revoke is refused by the admin API, for reads and for rotate-secret', async () => {
    const a = await adminClient();
    const t = await a.token();
    assert.equal((await adminGet(t)).status, 200);
    const revoked = await s.postForm('/oauth2/revoke', { token: t }, { authorization: basic(a.id, a.secret) });
    assert.equal(revoked.status, 200);
    const introspected = await s.postForm('/oauth2/introspect', { token: t }, { authorization: basic(a.id, a.secret) });
    assert.deepEqual(await introspected.json(), { active: false });
    await assertInvalidToken(await adminGet(t));
    await assertInvalidToken(await adminPost(t, `clients/${a.id}/rotate-secret`, { expire_old_in: 0 }));
    assert.equal((await adminGet(await a.token())).status, 200, 'a fresh token of the same client still works');
  });

  test('ADM-01 rotate-secret with expire_old_in 0 ends the authority of every token minted before', async () => {
    const a = await adminClient();
    const t = await a.token();
    const other = await a.token();
    const rotated = await adminPost(t, `clients/${a.id}/rotate-secret`, { expire_old_in: 0 });
    assert.equal(rotated.status, 200);
    const { client_secret: fresh } = (await rotated.json()) as { client_secret: string };
    await assertInvalidToken(await adminGet(t));
    await assertInvalidToken(await adminGet(other));
    assert.equal((await adminGet(await a.token(fresh))).status, 200);
  });

  test('ADM-01 a token minted with a secret that has since ended (overlap over) loses its authority', async () => {
    const a = await adminClient();
    const rotated = await adminPost(await a.token(), `clients/${a.id}/rotate-secret`, { expire_old_in: 60 });
    const { client_secret: fresh } = (await rotated.json()) as { client_secret: string };
    // During the overlap both secrets mint tokens that work.
    const byOld = await a.token(a.secret);
    const byNew = await a.token(fresh);
    assert.equal((await adminGet(byOld)).status, 200);
    assert.equal((await adminGet(byNew)).status, 200);
    skew += 61_000; // the old secret's overlap is over
    try {
      await assertInvalidToken(await adminGet(byOld));
      assert.equal((await adminGet(byNew)).status, 200);
    } finally {
      skew -= 61_000;
    }
  });

  test('ADM-01 a genuinely signed admin-audience token with no record in the store has no authority', async () => {
    const a = await adminClient();
    const t = await a.token();
    const c = claims(t);
    const { keyring } = s.keymint;
    const copy = await signJwtAsync(keyring.signer('RS256'), 'at+jwt', { ...c, jti: 'notrecorded0000000000x' });
    await assertInvalidToken(await adminGet(copy));
  });

  test('ADM-01 the client that lost keymint:admin from its registration gets 403 insufficient_scope', async () => {
    const a = await adminClient(['read']);
    const t = await a.token();
    await s.keymint.store.clients.update(a.id, (c) => ({ ...c, scopes: c.scopes.filter((x) => x !== 'keymint:admin') }));
    const res = await adminGet(t);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keymint-admin", error="insufficient_scope", scope="keymint:admin"');
  });
});

describe('ADM-02 privileged scopes only by name', () => {
  test('ADM-02 a client_credentials request without scope gets the non-privileged scopes only', async () => {
    const a = await adminClient(['read', 'write']);
    await s.keymint.store.clients.update(a.id, (c) => ({ ...c, scopes: [...c.scopes, 'keymint:revocations'] }));
    const body = await s.token(a.id, a.secret);
    assert.equal(body.scope, 'read write');
    assert.equal(claims(String(body.access_token)).scope, 'read write');
    await assertInvalidToken(await adminGet(String(body.access_token)));
    const named = await s.token(a.id, a.secret, { scope: 'keymint:admin' });
    assert.equal(named.scope, 'keymint:admin');
  });

  test('ADM-02 the authorization endpoint and the web grant never grant a privileged scope', async () => {
    const a = await s.client({ admin: true, scopes: ['openid', 'read'], grants: ['authorization_code', 'web'], redirectUris: ['https://app.example/cb'], trusted: true });
    const { session_token } = await s.session();
    const web = await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(a.id, a.secret) });
    assert.equal(web.status, 200);
    assert.equal(((await web.json()) as { scope: string }).scope, 'openid read');
    const named = await s.postForm('/oauth2/token', { grant_type: 'web', session_token, scope: 'keymint:admin' }, { authorization: basic(a.id, a.secret) });
    assert.equal(named.status, 400);
    assert.equal(((await named.json()) as { error: string }).error, 'invalid_scope');

    const { challenge } = pkce();
    const query = { response_type: 'code', client_id: a.id, redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' };
    const cookie = `keymint_session=${session_token}`;
    const asked = await authorizeGet(s, { ...query, scope: 'openid keymint:admin' }, cookie);
    assert.equal(asked.status, 302);
    const location = new URL(String(asked.headers.get('location')));
    assert.equal(location.searchParams.get('error'), 'invalid_scope');
    const unnamed = await authorizeGet(s, query, cookie);
    assert.equal(unnamed.status, 302);
    const code = new URL(String(unnamed.headers.get('location'))).searchParams.get('code');
    assert.ok(code);
    const rec = await s.keymint.store.codes.find(candidateDigests(s.keymint.keyring.peppers(), code));
    assert.equal(rec?.scope, 'openid read');
  });
});

describe('ADM-03 admin tokens are for the admin API only', () => {
  test('ADM-03 asking for keymint:admin yields aud <issuer>/admin/v1', async () => {
    const a = await adminClient();
    const t = await a.token();
    assert.equal(claims(t).aud, ADMIN_AUD);
    assert.equal(claims(t).scope, 'keymint:admin');
    const explicit = await s.token(a.id, a.secret, { scope: 'keymint:admin', resource: ADMIN_AUD });
    assert.equal(claims(String(explicit.access_token)).aud, ADMIN_AUD);
  });

  test('ADM-03 keymint:admin with another resource is invalid_target; with other scopes invalid_scope; the admin audience without it invalid_target', async () => {
    const a = await adminClient(['read']);
    await s.keymint.store.clients.update(a.id, (c) => ({ ...c, audiences: ['https://rs.example'] }));
    const cases: Array<[Record<string, string>, string]> = [
      [{ scope: 'keymint:admin', resource: 'https://rs.example' }, 'invalid_target'],
      [{ scope: 'keymint:admin', audience: 'https://rs.example' }, 'invalid_target'],
      [{ scope: 'read keymint:admin' }, 'invalid_scope'],
      [{ scope: 'read keymint:admin', resource: 'https://rs.example' }, 'invalid_scope'],
      [{ scope: 'read', resource: ADMIN_AUD }, 'invalid_target'],
      [{ resource: ADMIN_AUD }, 'invalid_target'],
    ];
    for (const [form, error] of cases) {
      const res = await tokenRequest(a.id, a.secret, form);
      assert.equal(res.status, 400, JSON.stringify(form));
      assert.equal(((await res.json()) as { error: string }).error, error, JSON.stringify(form));
    }
    const rs = await s.token(a.id, a.secret, { resource: 'https://rs.example' });
    assert.equal(rs.scope, 'read');
  });

  test('ADM-03 the admin API refuses a recorded, live, keymint:admin token of another audience', async () => {
    const a = await adminClient();
    const t = await a.token();
    const c = claims(t);
    const rec = await s.keymint.store.tokens.find([jtiDigest(String(c.jti))]);
    assert.ok(rec, 'admin tokens are recorded');
    const { keyring, store } = s.keymint;
    const forge = async (aud: string, jti: string) => {
      await store.tokens.insert({ ...rec, digest: jtiDigest(jti), jti, audience: [aud] });
      return signJwtAsync(keyring.signer('RS256'), 'at+jwt', { ...c, aud, jti });
    };
    await assertInvalidToken(await adminGet(await forge('https://rs.example', 'otheraudience00000000x')));
    await assertInvalidToken(await adminGet(await forge(ISSUER, 'issueraudience0000000x')));
    assert.equal((await adminGet(await forge(ADMIN_AUD, 'adminaudience00000000x'))).status, 200, 'the same token with the admin audience is accepted');
  });
});

describe('ADM-04 the revocation feed', () => {
  test('ADM-04 answers only clients registered with keymint:revocations', async () => {
    const plain = await s.client({ scopes: ['read'] });
    const refused = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(plain.id, plain.secret) } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await refused.json(), { error: 'unauthorized_client', error_description: 'The client may not read the revocation feed: it needs the keymint:revocations scope.' });
    const admin = await adminClient();
    assert.equal((await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(admin.id, admin.secret) } })).status, 403, 'keymint:admin is not enough');
    const rs = await s.client({ scopes: ['keymint:revocations'] });
    const ok = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(rs.id, rs.secret) } });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(((await ok.json()) as { revocations: unknown[] }).revocations));
    const wrongSecret = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(rs.id, plain.secret) } });
    assert.equal(wrongSecret.status, 401);
  });
});

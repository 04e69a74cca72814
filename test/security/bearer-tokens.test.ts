/**
 * RFC 6750 asks of the tokens themselves: their characters (§2.1), short lives (§5.3), audience and
 * scope (§5.2). Tokens from every dialect of one real server, read by a real verifier.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenSource, type DialectName } from '../../src/client/index.ts';
import { sessionTokenFormat } from '../../src/credentials/sessions.ts';
import { polarShapes } from '../../src/dialects/polar.ts';
import { fuuffyShape } from '../../src/dialects/fuuffy.ts';
import { KEYMINT_ACCESS, KEYMINT_REFRESH, opaqueFormat } from '../../src/tokens/opaque.ts';
import { createVerifier, VerifyError } from '../../src/verify/index.ts';
import { basic, obtainCode, startGrantServer, type GrantServer } from '../grants/support.ts';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const ISSUER = 'http://localhost:8080';
const TOKEN_PATHS: Record<DialectName, string> = {
  oauth2: '/oauth2/token', polar: '/v1/oauth2/token', orum: '/oauth/token', fuuffy: '/v1/auth/token', 'polygon-oms': '/v0.9/auth/token', tradevest: '/tradevest/oauth2/token',
};

let s: GrantServer;
before(async () => {
  s = await startGrantServer({ dialects: ['oauth2', 'polar', 'orum', 'fuuffy', 'polygon-oms', 'tradevest=/tradevest/oauth2/token'], alg: 'EdDSA', rateLimitClient: '0' });
});
after(() => s.close());

const ccToken = async (dialect: DialectName, c: { id: string; secret: string }, options: { scope?: string; audience?: string } = {}) =>
  createTokenSource({ tokenUrl: `${s.url}${TOKEN_PATHS[dialect]}`, dialect, clientId: c.id, clientSecret: c.secret, ...options }).getToken();

test('B-01 every token Keymint issues is an RFC 6750 b64token: each dialect\'s access tokens, refresh tokens, and every opaque format', async () => {
  const c = await s.client({ scopes: ['read'] });
  const issued: string[] = [];
  for (const dialect of ['oauth2', 'orum', 'fuuffy', 'polygon-oms', 'tradevest'] as const) {
    for (let i = 0; i < 5; i++) issued.push(await ccToken(dialect, c));
  }
  const app = await s.client({ grants: ['authorization_code', 'refresh_token', 'web'], scopes: ['openid', 'read'], redirectUris: ['https://app.example/cb'], trusted: true });
  for (const path of ['/oauth2', '/v1/oauth2']) {
    const { code, verifier, redirectUri } = await obtainCode(s, app, { path: `${path}/authorize`, scope: 'openid read' });
    const body = await s.json(await s.postForm(`${path}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, { authorization: basic(app.id, app.secret) }));
    issued.push(String(body.access_token), String(body.refresh_token));
  }
  assert.ok(issued.some((t) => t.startsWith('sk-')) && issued.some((t) => t.startsWith('polar_at_u_')) && issued.some((t) => t.startsWith('km_rt_')) && issued.some((t) => t.startsWith('polar_rt_u_')));
  const algs = new Set(issued.filter((t) => t.split('.').length === 3).map((t) => decodeProtectedHeader(t).alg));
  assert.deepEqual([...algs].sort(), ['EdDSA', 'RS256'], 'JWTs of the configured alg and of Polygon\'s fixed RS256');
  for (const t of issued) assert.match(t, B64TOKEN);
  // The formats themselves, over many mints (the random part is where a stray character would hide).
  const formats = [opaqueFormat(KEYMINT_ACCESS), opaqueFormat(KEYMINT_REFRESH), sessionTokenFormat, opaqueFormat(fuuffyShape), ...Object.values(polarShapes).map(opaqueFormat)];
  for (const f of formats) for (let i = 0; i < 2000; i++) assert.match(f.mint(), B64TOKEN, f.shape.prefix);
});

test('B-04 access tokens live one hour unless the client is given another lifetime; more than --max-token-ttl is refused', async () => {
  const plain = await s.client({ scopes: ['read'] });
  for (const dialect of ['oauth2', 'orum', 'polygon-oms', 'tradevest'] as const) {
    const jwt = decodeJwt(await ccToken(dialect, plain));
    assert.equal(jwt.exp! - jwt.iat!, 3600, dialect);
  }
  const res = await s.postForm('/v1/auth/token', { client_id: plain.id, client_secret: plain.secret });
  assert.equal(((await s.json(res)).data as { expires_in: number }).expires_in, 3600, 'fuuffy (opaque)');
  const short = await s.client({ scopes: ['read'], ttl: 300 });
  const jwt = decodeJwt(await ccToken('oauth2', short));
  assert.equal(jwt.exp! - jwt.iat!, 300);
  await assert.rejects(s.keymint.clients.create({ name: 'long', ttl: 86_401 }, 'test'), /ttl must be a whole number of seconds in 1\.\.86400/);
});

test('B-04 a revoked JWT reaches verifiers through the revocation feed', async () => {
  const c = await s.client({ scopes: ['read'] });
  const rs = await s.client({ scopes: ['keymint:revocations'] });
  const token = await ccToken('oauth2', c);
  const auth = { authorization: basic(rs.id, rs.secret) };
  const before = await s.json(await fetch(`${s.url}/oauth2/revocations`, { headers: auth }));
  assert.equal((await s.postForm('/oauth2/revoke', { token }, { authorization: basic(c.id, c.secret) })).status, 200);
  const feed = await s.json(await fetch(`${s.url}/oauth2/revocations?after=${String(before.cursor)}`, { headers: auth }));
  assert.deepEqual(feed.revocations, [{ jti: decodeJwt(token).jti, exp: decodeJwt(token).exp }]);
});

test('B-05 tokens are restricted to one audience and to the granted scopes, and a verifier of another audience or scope refuses them', async () => {
  const c = await s.client({ scopes: ['read', 'write'], audiences: ['https://payments.example', 'https://ledger.example'] });
  const token = await ccToken('oauth2', c, { scope: 'read', audience: 'https://ledger.example' });
  const claims = decodeJwt(token);
  assert.equal(claims.aud, 'https://ledger.example');
  assert.equal(claims.scope, 'read');
  assert.equal(decodeJwt(await ccToken('oauth2', c)).aud, 'https://payments.example', 'no resource: the first registered audience');

  const notAllowed = await s.postForm('/oauth2/token', { grant_type: 'client_credentials', resource: 'https://elsewhere.example' }, { authorization: basic(c.id, c.secret) });
  assert.equal(notAllowed.status, 400);
  assert.equal((await s.json(notAllowed)).error, 'invalid_target');

  const verifierFor = (audience: string) => createVerifier({ issuer: ISSUER, audience, jwksUri: `${s.url}/oauth2/jwks`, algorithms: ['EdDSA'] });
  assert.equal((await verifierFor('https://ledger.example').verify(token, { requiredScopes: ['read'] })).client_id, c.id);
  await assert.rejects(verifierFor('https://payments.example').verify(token), (e: unknown) => e instanceof VerifyError && e.code === 'invalid_token');
  await assert.rejects(verifierFor('https://ledger.example').verify(token, { requiredScopes: ['write'] }), (e: unknown) => e instanceof VerifyError && e.code === 'insufficient_scope');
});

/**
 * JWT introspection answers (RFC 9701) at the `oauth2` mount, on the wire: what a caller that asks
 * for one gets (status, headers, the JWT's header and claims, its signature through the JWKS), how
 * `Accept` is negotiated (src/wire/accept.ts), hostile headers, errors that stay JSON, the per-client
 * alg and a stored alg the keyring no longer keeps, discovery, and Polar's mount, which ignores Accept.
 * Real client libraries: introspection-jwt-clients.test.ts.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { assertion, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { basic, startGrantServer, type GrantServer } from './support.ts';

const JWT_TYPE = 'application/token-introspection+jwt';

describe('JWT introspection answers (RFC 9701, I-08..)', () => {
  let s: GrantServer;
  let issuer: string;
  let a: { id: string; secret: string };
  let jwks: ReturnType<typeof createLocalJWKSet>;
  before(async () => {
    s = await startGrantServer({ issuer: undefined });
    issuer = s.keymint.config.issuer;
    a = await s.client({ grants: ['client_credentials', 'web'], scopes: ['openid', 'read'] });
    jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
  });
  after(() => s.close());

  const introspect = (token: string, accept?: string, path = '/oauth2/introspect', c = a) =>
    s.postForm(path, { token }, { authorization: basic(c.id, c.secret), ...(accept === undefined ? {} : { accept }) });
  const accessToken = async () => String((await s.token(a.id, a.secret, { scope: 'read' })).access_token);

  /** Asserts a JWT answer's status and headers; resolves its verified claims. */
  async function jwtAnswer(res: Response) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), JWT_TYPE);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    assert.equal(res.headers.get('vary'), 'Accept');
    const jwt = await res.text();
    const header = decodeProtectedHeader(jwt);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.typ, 'token-introspection+jwt');
    const { payload } = await jwtVerify(jwt, jwks, { typ: 'token-introspection+jwt', issuer, audience: a.id });
    return { header, payload };
  }

  /** Asserts a plain answer's status and headers; resolves its body. */
  async function jsonAnswer(res: Response) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('vary'), 'Accept');
    return (await res.json()) as Record<string, unknown>;
  }

  test('I-08 I-10 Accept: application/token-introspection+jwt → a signed JWT: typ, iss, aud (the caller), iat, and the plain answer as token_introspection', async () => {
    const token = await accessToken();
    const plain = await jsonAnswer(await introspect(token));
    assert.equal(plain.active, true);
    const before = Math.floor(Date.now() / 1000);
    const { header, payload } = await jwtAnswer(await introspect(token, JWT_TYPE));
    assert.equal(header.alg, 'RS256');
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'iat', 'iss', 'token_introspection']);
    assert.equal(payload.iss, issuer);
    assert.equal(payload.aud, a.id);
    assert.ok(typeof payload.iat === 'number' && payload.iat >= before - 1 && payload.iat <= Math.floor(Date.now() / 1000));
    assert.deepEqual(payload.token_introspection, plain);
  });

  test('I-08 an inactive, unknown or malformed token: token_introspection is exactly {"active":false}', async () => {
    for (const token of ['nope', 'a.b.c', `km_rt_${'A'.repeat(43)}`]) {
      const { payload } = await jwtAnswer(await introspect(token, JWT_TYPE));
      assert.deepEqual(payload.token_introspection, { active: false }, token);
    }
  });

  // What each Accept gets: the JWT only when it names the type, with a q > 0 at least JSON's.
  const NEGOTIATION: ReadonlyArray<readonly [string | undefined, 'jwt' | 'json']> = [
    [undefined, 'json'],
    ['*/*', 'json'],
    ['application/json', 'json'],
    ['application/*', 'json'],
    ['text/html', 'json'],
    ['', 'json'],
    [JWT_TYPE, 'jwt'],
    ['APPLICATION/Token-Introspection+JWT', 'jwt'],
    [` ${JWT_TYPE} ; charset=utf-8 `, 'jwt'],
    [`${JWT_TYPE}, application/json`, 'jwt'],
    [`application/json, ${JWT_TYPE}`, 'jwt'],
    [`${JWT_TYPE};q=0.5, application/json;q=0.4`, 'jwt'],
    [`${JWT_TYPE};q=0.5, application/json`, 'json'],
    [`${JWT_TYPE};q=0.5, */*`, 'json'],
    [`${JWT_TYPE};q=0.5, application/*;q=0.6, */*;q=0.1`, 'json'],
    [`${JWT_TYPE};q=0.5, application/json;q=0.1, */*`, 'jwt'],
    [`${JWT_TYPE};q=0`, 'json'],
    [`${JWT_TYPE};q=0.000`, 'json'],
    [`${JWT_TYPE};q=0.001`, 'jwt'],
    [`${JWT_TYPE};Q=1.000`, 'jwt'],
    // Malformed elements are skipped, as if not sent.
    [`${JWT_TYPE};q=2`, 'json'],
    [`${JWT_TYPE};q=0.5000`, 'json'],
    [`${JWT_TYPE};q=-1`, 'json'],
    [`${JWT_TYPE};q=`, 'json'],
    [`${JWT_TYPE};q=0.9, application/json;q=bogus`, 'jwt'],
    ['application/token-introspection+jwt2', 'json'],
    ['token-introspection+jwt', 'json'],
    ['application/token introspection+jwt', 'json'],
    [',,,;;;, /, */, /*', 'json'],
    [`"${JWT_TYPE}"`, 'json'],
  ];

  test('I-09 Accept negotiation: JSON unless the JWT type is named with q > 0 and at least JSON\'s q; malformed elements skipped; Vary: Accept', async () => {
    const token = await accessToken();
    for (const [accept, expected] of NEGOTIATION) {
      const res = await introspect(token, accept);
      if (expected === 'jwt') assert.equal((await jwtAnswer(res)).payload.aud, a.id, String(accept));
      else assert.equal((await jsonAnswer(res)).active, true, String(accept));
    }
  });

  /** Sends raw header lines (two Accept headers, which fetch would join) and resolves status line, headers and body. */
  function raw(headerLines: readonly string[], body: string): Promise<string> {
    const { hostname, port } = new URL(s.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write([`POST /oauth2/introspect HTTP/1.1`, `Host: ${hostname}`, 'Connection: close', 'Content-Type: application/x-www-form-urlencoded', `Content-Length: ${Buffer.byteLength(body)}`, ...headerLines, '', body].join('\r\n'));
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  }

  test('I-09 hostile Accept headers: two header lines read as one list, 8 KiB of junk costs nothing, one past the header limit is 431, never a 5xx', async () => {
    const token = await accessToken();
    const auth = `Authorization: ${basic(a.id, a.secret)}`;
    const body = new URLSearchParams({ token }).toString();
    // Two Accept lines: Node joins them with a comma, one list (RFC 9110 §5.3).
    const two = await raw([auth, 'Accept: application/json;q=0.5', `Accept: ${JWT_TYPE}`], body);
    assert.match(two, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(two, /\r\nContent-Type: application\/token-introspection\+jwt\r\n/i);
    const twoJson = await raw([auth, `Accept: ${JWT_TYPE};q=0.5`, 'Accept: application/json'], body);
    assert.match(twoJson, /\r\nContent-Type: application\/json;charset=UTF-8\r\n/i);

    // Thousands of elements, parameters and commas: answered at once, in the shape they ask for.
    const junk = Array.from({ length: 700 }, (_, i) => `x/y${i};q=0.${i % 10};a=b`).join(',');
    const started = performance.now();
    await jwtAnswer(await introspect(token, `${junk},${JWT_TYPE}`));
    assert.equal((await jsonAnswer(await introspect(token, `${junk},${JWT_TYPE};q=0`))).active, true);
    assert.equal((await jsonAnswer(await introspect(token, `${';'.repeat(8000)}`))).active, true);
    assert.equal((await jsonAnswer(await introspect(token, `${JWT_TYPE};q=0.${'9'.repeat(8000)}`))).active, true);
    assert.ok(performance.now() - started < 2000, 'no backtracking on a long header');

    const huge = await raw([auth, `Accept: ${'a/b,'.repeat(5000)}${JWT_TYPE}`], body);
    assert.match(huge, /^HTTP\/1\.1 431 /);
  });

  test('I-10 errors stay the plain JSON error whatever the Accept: bad client, no token', async () => {
    for (const accept of [JWT_TYPE, `${JWT_TYPE}, application/json;q=0`]) {
      const wrong = await s.postForm('/oauth2/introspect', { token: 'x' }, { authorization: basic(a.id, `${a.secret}x`), accept });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('content-type'), 'application/json;charset=UTF-8');
      assert.equal(wrong.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await wrong.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' });
      const missing = await s.postForm('/oauth2/introspect', {}, { authorization: basic(a.id, a.secret), accept });
      assert.equal(missing.status, 400);
      assert.equal(missing.headers.get('content-type'), 'application/json;charset=UTF-8');
      assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'The token parameter is required.' });
    }
  });

  test('I-11 a client whose stored alg the keyring no longer keeps: its JWT requests are 400 unauthorized_client, its JSON answers unchanged', async () => {
    const moved = await s.client({ grants: ['client_credentials'], scopes: ['read'] });
    // As registered under --alg ES256, before the deployment went back to RS256.
    await s.keymint.store.clients.update(moved.id, (c) => ({ ...c, introspectionAlg: 'ES256' as const }));
    const token = String((await s.token(moved.id, moved.secret)).access_token);
    const refused = await introspect(token, JWT_TYPE, '/oauth2/introspect', moved);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.deepEqual(await refused.json(), {
      error: 'unauthorized_client',
      error_description: 'This client\'s introspection answers are to be signed with ES256, which this server no longer signs with; its introspection_signed_response_alg must be changed.',
    });
    assert.equal((await jsonAnswer(await introspect(token, undefined, '/oauth2/introspect', moved))).active, true);
  });

  test('I-12 discovery names introspection_signing_alg_values_supported (the keyring\'s algs) and no introspection encryption', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.deepEqual(meta.introspection_signing_alg_values_supported, ['RS256']);
    assert.equal(meta.introspection_encryption_alg_values_supported, undefined);
    assert.equal(meta.introspection_encryption_enc_values_supported, undefined);
  });

  test('I-13 polar\'s introspection ignores Accept: byte for byte the answer without it, no Vary', async () => {
    const { session_token } = await s.session();
    const web = await s.postForm('/v1/oauth2/token', { grant_type: 'web', session_token }, { authorization: basic(a.id, a.secret) });
    const polarToken = String(((await web.json()) as Record<string, unknown>).access_token);
    for (const token of [polarToken, 'nope']) {
      const plain = await introspect(token, undefined, '/v1/oauth2/introspect');
      const plainBody = await plain.text();
      for (const accept of [JWT_TYPE, `${JWT_TYPE}, application/json;q=0`]) {
        const asked = await introspect(token, accept, '/v1/oauth2/introspect');
        assert.equal(asked.status, plain.status);
        const headers = (r: Response) => [...r.headers].filter(([k]) => k !== 'date');
        assert.deepEqual(headers(asked), headers(plain));
        assert.equal(asked.headers.get('vary'), null);
        assert.equal(await asked.text(), plainBody);
      }
    }
  });
});

describe('I-11 I-12 I-15 under --alg ES256', () => {
  let s: GrantServer;
  before(async () => {
    s = await startGrantServer({ issuer: undefined, alg: 'ES256' });
  });
  after(() => s.close());

  test('I-11 I-12 a client with introspection_signed_response_alg ES256 gets ES256 answers; the default stays RS256; discovery lists both', async () => {
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/oauth2/jwks`)).json()) as JSONWebKeySet);
    const meta = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(meta.introspection_signing_alg_values_supported, ['RS256', 'ES256']);
    for (const [alg, input] of [['ES256', { introspectionAlg: 'ES256' }], ['RS256', {}]] as const) {
      const c = await s.client({ scopes: ['read'], ...input });
      const token = String((await s.token(c.id, c.secret)).access_token);
      const res = await s.postForm('/oauth2/introspect', { token }, { authorization: basic(c.id, c.secret), accept: JWT_TYPE });
      assert.equal(res.status, 200);
      const jwt = await res.text();
      assert.equal(decodeProtectedHeader(jwt).alg, alg);
      const { payload } = await jwtVerify(jwt, jwks, { typ: 'token-introspection+jwt', issuer: s.keymint.config.issuer, audience: c.id, algorithms: [alg] });
      assert.equal((payload.token_introspection as Record<string, unknown>).client_id, c.id);
    }
  });

  test('I-15 a fapi2 client asking for a JWT answer signed RS256 gets 400 unauthorized_client (JSON); registered with ES256 it gets an ES256 JWT', async () => {
    const key = await keyPair('ES256', 'intro-fapi-1');
    const fapi = { grants: ['client_credentials'], scopes: ['read'], securityProfile: 'fapi2' } as const;
    const ask = async (id: string) => {
      const form = { token: 'nope', client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: id, aud: s.keymint.config.issuer }) };
      return s.postForm('/oauth2/introspect', form, { accept: JWT_TYPE });
    };
    const rs = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...fapi, name: 'FAPI RS resource server' });
    const refused = await ask(rs);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.deepEqual(await refused.json(), {
      error: 'unauthorized_client',
      error_description: 'A fapi2 client\'s introspection answers are not signed with RS256 (FAPI 2.0 §5.4.1); its introspection_signed_response_alg must be changed to the server\'s --alg.',
    });
    const es = await privateKeyJwtClient(s.keymint, { keys: [key] }, { ...fapi, name: 'FAPI ES resource server', introspectionAlg: 'ES256' });
    const ok = await ask(es);
    assert.equal(ok.status, 200);
    const jwt = await ok.text();
    assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
    assert.deepEqual(decodeJwt(jwt).token_introspection, { active: false });
  });
});

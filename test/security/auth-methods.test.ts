/**
 * docs/requirements.md M-09, every dialect: what it declares (`authMethods`, `dpop`; discovery
 * advertises these) is what its endpoints read. On a real server mounting the dialect alone, each
 * declared method gets a token (and authenticates at introspection and revocation where the dialect
 * has them); each other method is refused in the dialect's own error shape; a DPoP proof binds the
 * token only where `dpop` is declared.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { DIALECTS } from '../../src/dialects/index.ts';
import type { Dialect } from '../../src/dialects/types.ts';
import { advertisedAuthMethods, type ClientAuthMethodName } from '../../src/protocol/client-auth/index.ts';
import { storedDigest } from '../../src/tokens/digest.ts';
import { validate } from '../dialects/support/json-schema.ts';
import { seedRefreshToken } from '../grants/support.ts';
import { basic, startServer, type TestServer } from '../support/harness.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';

const ISSUER = 'http://localhost:8080';
// The RFC 8705 methods need a TLS client certificate: test/protocol/mtls.test.ts drives them.
type TestedMethod = Exclude<ClientAuthMethodName, 'tls_client_auth' | 'self_signed_tls_client_auth'>;
const METHODS: readonly TestedMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

type Answer = readonly [status: number, body: unknown];

const OAUTH_INVALID_CLIENT: Answer = [401, { error: 'invalid_client', error_description: 'Client authentication failed.' }];
const orum = (code: string, message: string): Answer => [400, { error_code: code, message, details: null }];
const fuuffy = (field: string): Answer => [400, { error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters', error_trace: { [field]: 'is required' } } }];
const polygon = (cause: string): Answer => [400, { error: 'InvalidArgument', code: 2001, msg: 'invalid argument', cause, status: 400 }];

/**
 * Per dialect: the exact answer to each method it does not declare (the same at every endpoint it
 * serves), and `none` at introspection, which admits confidential clients only (RFC 7662 §2.1).
 * `names`: its wire names for the client's id and secret and the grant (null: not sent).
 */
const CASES: Record<string, { refused: Partial<Record<ClientAuthMethodName, Answer>>; introspectNone?: Answer; names?: Record<string, string | null> }> = {
  oauth2: { refused: {}, introspectNone: OAUTH_INVALID_CLIENT },
  // The assertion is not read: a client_id alone names a confidential client, which must prove itself.
  polar: { refused: { private_key_jwt: OAUTH_INVALID_CLIENT }, introspectNone: OAUTH_INVALID_CLIENT },
  // Credentials from the body only (docs/dialects/tradevest.md); absent ones are 400 invalid_client.
  tradevest: { refused: { client_secret_basic: [400, { error: 'invalid_client' }], private_key_jwt: [400, { error: 'invalid_client' }], none: [400, { error: 'invalid_client' }] } },
  orum: {
    refused: {
      client_secret_basic: orum('missing_client_id', 'client_id is required'),
      private_key_jwt: orum('missing_client_secret', 'client_secret is required'),
      none: orum('missing_client_secret', 'client_secret is required'),
    },
  },
  fuuffy: { refused: { client_secret_basic: fuuffy('client_id'), private_key_jwt: fuuffy('client_secret'), none: fuuffy('client_secret') } },
  'polygon-oms': {
    refused: { client_secret_basic: polygon('apiKey'), private_key_jwt: polygon('apiSecret'), none: polygon('apiSecret') },
    names: { client_id: 'apiKey', client_secret: 'apiSecret', grant_type: null },
  },
};

/** The dialect's clients, and how it is called: credentials as each method presents them, in its wire format. */
async function setUp(server: TestServer, dialect: Dialect) {
  const names = CASES[dialect.name]!.names ?? {};
  const userGrants = dialect.grants === 'all' || dialect.grants.includes('refresh_token');
  const grants = dialect.grants === 'all' ? ['client_credentials'] : [...dialect.grants];
  const confidential = await server.client({ grants, scopes: ['openid'] });
  const pub = await server.client({ type: 'public', grants: ['authorization_code', 'refresh_token'], scopes: ['openid'], redirectUris: ['https://app.example/cb'] });
  const key = await keyPair('ES256', 'k');
  const keyClient = await privateKeyJwtClient(server.keymint, { keys: [key] }, { grants });
  const json = !('application/x-www-form-urlencoded' in dialect.contract.requestBodies);
  const send = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const wire: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      const as = names[name] === undefined ? name : names[name];
      if (as !== null) wire[as] = value;
    }
    return json
      ? fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(wire) })
      : server.postForm(path, wire, headers);
  };
  /** The fields of a request that earns a token once the client is authenticated. */
  const grant = async (method: TestedMethod): Promise<Record<string, string>> => {
    if (method === 'none' && userGrants) return { grant_type: 'refresh_token', refresh_token: (await seedRefreshToken(server, pub.id, { scope: 'openid' })).token };
    if (grants.includes('client_credentials')) return { grant_type: 'client_credentials' };
    return { grant_type: 'web', session_token: (await server.keymint.sessions.create({ subject: 'user-1' }, 'test')).sessionToken };
  };
  /** `fields` sent by a client authenticating with `method` at `path`. */
  const call = async (method: TestedMethod, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) => {
    switch (method) {
      case 'client_secret_basic':
        return send(path, fields, { authorization: basic(confidential.id, confidential.secret), ...headers });
      case 'client_secret_post':
        return send(path, { ...fields, client_id: confidential.id, client_secret: confidential.secret }, headers);
      case 'private_key_jwt': {
        const signed = await assertion(key, { clientId: keyClient, aud: [ISSUER, ISSUER + path] });
        return send(path, { ...fields, client_id: keyClient, client_assertion_type: JWT_BEARER, client_assertion: signed }, headers);
      }
      case 'none':
        return send(path, { ...fields, client_id: pub.id }, headers);
    }
  };
  return { grant, call };
}

/** The access token and its type from a 200, checked against the dialect's success schema. */
async function tokenOf(dialect: Dialect, res: Response, label: string): Promise<{ token: string; type: string }> {
  const body = (await res.json()) as Record<string, any>;
  assert.equal(res.status, 200, `${label}: ${JSON.stringify(body)}`);
  assert.deepEqual(validate(dialect.contract.success, body), [], label);
  const answer = body.data ?? body;
  return { token: answer.access_token ?? answer.accessToken, type: answer.token_type ?? answer.tokenType };
}

async function expectRefused(dialect: Dialect, res: Response, expected: Answer | undefined, label: string): Promise<void> {
  const body = (await res.json()) as unknown;
  assert.deepEqual([res.status, body], expected, label);
  assert.deepEqual(validate(dialect.contract.error, body), [], label);
}

/** The key thumbprint a token is bound to: a JWT's `cnf.jkt`, or an opaque token's stored record's. */
async function boundTo(server: TestServer, token: string): Promise<string | undefined> {
  if (token.split('.').length === 3) return (decodeJwt(token).cnf as { jkt?: string } | undefined)?.jkt;
  const record = await server.keymint.store.tokens.find([storedDigest(server.keymint.keyring.pepper(), token)]);
  assert.ok(record, 'the opaque token is stored');
  return record.meta?.jkt;
}

for (const dialect of DIALECTS.values()) {
  const declared = dialect.authMethods;
  test(`M-09 every dialect (${dialect.name}): each declared auth method gets a token at each endpoint, every other is refused in its own error shape; a DPoP proof binds the token only where dpop is declared`, async (t) => {
    const server = await startServer({ issuer: ISSUER, alg: 'ES256', dialects: [dialect.name] });
    t.after(() => server.close());
    const { refused, introspectNone } = CASES[dialect.name]!;
    assert.equal(dialect.contract.basicAuth, declared.includes('client_secret_basic'), 'contract.basicAuth');
    const { grant, call } = await setUp(server, dialect);
    const path = dialect.defaultPath;
    const dir = path.slice(0, path.lastIndexOf('/'));

    for (const method of METHODS) {
      const res = await call(method, path, await grant(method));
      if (!declared.includes(method)) {
        await expectRefused(dialect, res, refused[method], `token endpoint, ${method}`);
        continue;
      }
      const { token } = await tokenOf(dialect, res, `token endpoint, ${method}`);
      // Where the dialect has them, the same method authenticates at introspection and revocation.
      if (dialect.endpoints?.includes('introspect')) {
        const answer = await call(method, `${dir}/introspect`, { token });
        if (advertisedAuthMethods([method], false).length === 0) await expectRefused(dialect, answer, introspectNone, `introspection, ${method}`);
        else assert.deepEqual([answer.status, ((await answer.json()) as { active: boolean }).active], [200, true], `introspection, ${method}`);
      }
      if (dialect.endpoints?.includes('revoke')) {
        const answer = await call(method, `${dir}/revoke`, { token });
        assert.deepEqual([answer.status, await answer.text()], [200, String(dialect.encodeRevocation?.().body ?? '')], `revocation, ${method}`);
      }
    }
    for (const method of METHODS.filter((m) => !declared.includes(m))) {
      for (const endpoint of (['introspect', 'revoke'] as const).filter((e) => dialect.endpoints?.includes(e))) {
        await expectRefused(dialect, await call(method, `${dir}/${endpoint}`, { token: 'x' }), refused[method], `${endpoint}, ${method}`);
      }
    }

    // A valid DPoP proof: the token is bound to its key (token type DPoP) only where `dpop` is declared.
    const first = declared[0] as TestedMethod;
    const plain = await tokenOf(dialect, await call(first, path, await grant(first)), 'without DPoP');
    const proofKey = await keyPair('ES256');
    const withProof = await tokenOf(dialect, await call(first, path, await grant(first), { dpop: await dpopProof(proofKey, { htu: ISSUER + path }) }), 'with DPoP');
    if (dialect.dpop) {
      assert.deepEqual([withProof.type, await boundTo(server, withProof.token)], ['DPoP', await calculateJwkThumbprint(proofKey.jwk)]);
    } else {
      assert.deepEqual([withProof.type, await boundTo(server, withProof.token)], [plain.type, undefined]);
    }
    assert.equal(await boundTo(server, plain.token), undefined);
    // The table above answers for exactly the methods the dialect does not declare.
    assert.deepEqual(Object.keys(refused).sort(), METHODS.filter((m) => !declared.includes(m)).sort(), 'the undeclared methods');
  });
}

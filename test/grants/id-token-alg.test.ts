/**
 * A client's `id_token_signed_response_alg` (OIDC Dynamic Client Registration §2): RS256 unless it
 * registers the deployment's `--alg` (ES256, EdDSA). openid-client v6, told the alg the app expects,
 * runs the code flow and refresh against servers started with `--alg ES256` and `--alg EdDSA` and
 * checks the ID token's alg and signature through the JWKS (enableNonRepudiationChecks); `at_hash` is
 * computed here as oauth4webapi's `idTokenHash` does (SHA-512 for EdDSA, OIDC Core errata set 2),
 * since the library checks it only in the hybrid flow. Then every surface that sets the alg (CLI,
 * apply, admin API, dynamic registration) and its refusals; a client whose stored alg the keyring no
 * longer keeps; and the FAPI 2.0 profile's rule (FAPI-11).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as openid from 'openid-client';
import { FAPI2_NEEDS_ALG, ClientInputError } from '../../src/credentials/client-rules.ts';
import { basic, registrarOf, startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { keyPair } from '../support/sender.ts';
import { browseApproving, openidLogin, startGrantServer, USER } from './support.ts';

const CB = 'https://app.example/cb';
const data = tempDir('keymint-id-token-alg-');
after(() => rmSync(data, { recursive: true, force: true }));

/** OIDC Core §3.1.3.6: the left half of the hash of the access token, the hash being the alg's. */
const expectedAtHash = (token: string, alg: string) => {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(token).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
};

const app = { grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] };

for (const alg of ['PS256', 'ES256', 'EdDSA'] as const) {
  describe(`--alg ${alg}`, () => {
    test(`IDT-02 IDT-04 openid-client expecting ${alg} ID tokens: code flow and refresh; discovery lists RS256 and ${alg}; an RS256 client is unchanged`, async (t) => {
      const s = await startGrantServer({ issuer: undefined, alg });
      t.after(() => s.close());
      const issuer = new URL(s.keymint.config.issuer);
      const execute = [openid.allowInsecureRequests, openid.enableNonRepudiationChecks];
      const client = await s.client({ ...app, name: `${alg} app`, idTokenAlg: alg });
      const config = await openid.discovery(issuer, client.id, { id_token_signed_response_alg: alg }, openid.ClientSecretBasic(client.secret), { execute });
      assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, ['RS256', alg]);

      const { location, checks } = await openidLogin(s, config, 'alg-user-1');
      const tokens = await openid.authorizationCodeGrant(config, location, checks);
      assert.deepEqual(decodeProtectedHeader(tokens.id_token!).alg, alg);
      const claims = tokens.claims()!;
      assert.deepEqual([claims.sub, claims.aud, claims.nonce], ['alg-user-1', client.id, checks.expectedNonce]);
      assert.equal(claims.at_hash, expectedAtHash(tokens.access_token, alg));
      const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
      assert.equal(decodeProtectedHeader(refreshed.id_token!).alg, alg);
      assert.equal(refreshed.claims()!.at_hash, expectedAtHash(refreshed.access_token, alg));

      // A client that registered nothing gets RS256, as before; an app that expects another alg refuses it itself.
      const plain = await s.client({ ...app, name: 'RS256 app' });
      const rsConfig = await openid.discovery(issuer, plain.id, { id_token_signed_response_alg: 'RS256' }, openid.ClientSecretBasic(plain.secret), { execute });
      const rsLogin = await openidLogin(s, rsConfig, 'alg-user-2');
      const rsTokens = await openid.authorizationCodeGrant(rsConfig, rsLogin.location, rsLogin.checks);
      assert.equal(decodeProtectedHeader(rsTokens.id_token!).alg, 'RS256');
      assert.equal(rsTokens.claims()!.at_hash, expectedAtHash(rsTokens.access_token, 'RS256'));
      const wrong = await openid.discovery(issuer, plain.id, { id_token_signed_response_alg: alg }, openid.ClientSecretBasic(plain.secret), { execute });
      const wrongLogin = await openidLogin(s, wrong, 'alg-user-3');
      await assert.rejects(openid.authorizationCodeGrant(wrong, wrongLogin.location, wrongLogin.checks), (e: unknown) => {
        assert.ok(e instanceof openid.ClientError, String(e));
        assert.equal(e.code, 'OAUTH_INVALID_RESPONSE');
        assert.equal((e.cause as Error | undefined)?.message, 'unexpected JWT "alg" header parameter');
        return true;
      });
    });
  });
}

test('IDT-01 the CLI sets --id-token-alg to RS256 or the --alg it runs with, and refuses any other', async () => {
  const args = ['clients', 'create', '--data', data, '--name', 'cli app', '--grant', 'authorization_code', '--redirect-uri', CB, '--scope', 'openid', '--json'];
  const refused = await cli([...args, '--id-token-alg', 'ES256']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stderr.trim(), 'keymint: id_token_signed_response_alg: this server signs ID tokens with RS256 only (PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA)');
  const created = await cli([...args, '--id-token-alg', 'ES256', '--alg', 'ES256']);
  assert.equal(created.code, 0, created.stderr);
  const view = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.equal(view.id_token_signed_response_alg, 'ES256');
  const other = await cli(['clients', 'update', String(view.client_id), '--data', data, '--id-token-alg', 'EdDSA', '--alg', 'ES256']);
  assert.equal(other.code, 2, other.stderr);
  assert.equal(other.stderr.trim(), 'keymint: id_token_signed_response_alg: this server signs ID tokens with RS256 or ES256 (its --alg)');
  const back = await cli(['clients', 'update', String(view.client_id), '--data', data, '--id-token-alg', 'RS256', '--json']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((JSON.parse(back.stdout) as Record<string, unknown>).id_token_signed_response_alg, 'RS256');
});

test('IDT-01 a configuration file sets idTokenAlg (export writes it back) and is refused it without the matching --alg', async () => {
  const dir = join(data, 'apply');
  const file = join(data, 'keymint.yaml');
  writeFileSync(file, `version: 1
clients:
  web:
    name: Web app
    type: public
    grants: [authorization_code]
    scopes: [openid]
    redirectUris: [${CB}]
    idTokenAlg: EdDSA
`);
  const refused = await cli(['apply', '-f', file, '--data', dir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /clients\.web\.idTokenAlg: this server signs ID tokens with RS256 only \(PS256, ES256 or EdDSA need it started with --alg PS256, --alg ES256 or --alg EdDSA\)/);
  const applied = await cli(['apply', '-f', file, '--data', dir, '--alg', 'EdDSA']);
  assert.equal(applied.code, 0, applied.stderr);
  const exported = await cli(['export', '--data', dir]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {4}idTokenAlg: EdDSA$/m);
});

test('IDT-01 the admin API takes id_token_signed_response_alg on create and PATCH (RS256 by default) and refuses another alg', async (t) => {
  const s = await startGrantServer({ alg: 'ES256' });
  t.after(() => s.close());
  const created = await s.admin('POST', '/clients', { name: 'Web app', grants: ['authorization_code'], scopes: ['openid'], redirect_uris: [CB], id_token_signed_response_alg: 'ES256' });
  const body = await s.json(created);
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.equal(body.id_token_signed_response_alg, 'ES256');
  const id = String(body.client_id);
  assert.equal((await s.json(await s.admin('PATCH', `/clients/${id}`, { id_token_signed_response_alg: 'RS256' }))).id_token_signed_response_alg, 'RS256');
  const plain = await s.json(await s.admin('POST', '/clients', { name: 'Plain app' }));
  assert.equal(plain.id_token_signed_response_alg, 'RS256');
  for (const alg of ['EdDSA', 'PS256', 'HS256', 'none']) {
    const refused = await s.admin('PATCH', `/clients/${id}`, { id_token_signed_response_alg: alg });
    assert.equal(refused.status, 400, alg);
    assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'this server signs ID tokens with RS256 or ES256 (its --alg)', field: 'id_token_signed_response_alg' });
  }
});

/** A registrar's initial access token and a register() call on a server with registration behind a token. */
async function registrar(flags: Record<string, string | string[]>) {
  const s = await startServer({ registration: 'token', registrationScopes: ['openid', 'read'], ...flags });
  return { s, register: await registrarOf(s) };
}

test('IDT-01 dynamic registration takes id_token_signed_response_alg (the --alg) and echoes it; refuses another', async (t) => {
  const { s, register } = await registrar({ alg: 'EdDSA' });
  t.after(() => s.close());
  const created = await register({ redirect_uris: [CB], scope: 'openid', id_token_signed_response_alg: 'EdDSA' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.id_token_signed_response_alg, 'EdDSA');
  assert.equal((await s.keymint.store.clients.get(String(created.body.client_id)))?.idTokenAlg, 'EdDSA');
  const plain = await register({ redirect_uris: [CB], scope: 'openid' });
  assert.equal(plain.status, 201);
  assert.equal(plain.body.id_token_signed_response_alg, undefined, 'RS256, the default, is not echoed (OIDC DCR §2)');
  assert.equal((await s.keymint.store.clients.get(String(plain.body.client_id)))?.idTokenAlg, undefined);
  for (const alg of ['ES256', 'PS256', 7]) {
    assert.deepEqual(await register({ redirect_uris: [CB], id_token_signed_response_alg: alg }), {
      status: 400, body: { error: 'invalid_client_metadata', error_description: 'id_token_signed_response_alg: this server signs ID tokens with RS256 or EdDSA (its --alg)' },
    }, String(alg));
  }
});

test('IDT-03 a client whose stored alg the keyring no longer keeps (--alg changed) gets no ID token: unauthorized_client, the code left unspent; fixed, the code redeems', async (t) => {
  const s = await startGrantServer();
  t.after(() => s.close());
  const client = await s.client({ ...app, name: 'Moved app', trusted: true });
  // As registered under --alg ES256, before the deployment went back to RS256.
  await s.keymint.store.clients.update(client.id, (c) => ({ ...c, idTokenAlg: 'ES256' as const }));
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL(`${s.url}/oauth2/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: client.id, redirect_uri: CB, scope: 'openid read', state: 'st', code_challenge: challenge, code_challenge_method: 'S256' })) url.searchParams.set(k, v);
  const { location } = await browseApproving(s, url, USER);
  const redeem = () => s.postForm('/oauth2/token', { grant_type: 'authorization_code', code: String(location.searchParams.get('code')), redirect_uri: CB, code_verifier: verifier }, { authorization: basic(client.id, client.secret) });
  const refused = await redeem();
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), {
    error: 'unauthorized_client',
    error_description: 'This client\'s ID tokens are to be signed with ES256, which this server no longer signs with; its id_token_signed_response_alg must be changed.',
  });
  await s.keymint.clients.update(client.id, { idTokenAlg: 'RS256' }, 'test');
  const res = await redeem();
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(decodeProtectedHeader(String(body.id_token)).alg, 'RS256');
  assert.equal(decodeJwt(String(body.id_token)).at_hash, expectedAtHash(String(body.access_token), 'RS256'));
});

describe('FAPI-11 a fapi2 client with the openid scope has non-RS256 ID tokens', () => {
  const keyed = async () => ({ authMethod: 'private_key_jwt' as const, jwks: { keys: [(await keyPair('ES256', 'f-1')).jwk] } });
  const fapi = { name: 'Bank app', securityProfile: 'fapi2', grants: ['authorization_code'], redirectUris: [CB] } as const;
  const refusal = (field: string, message: string) => (e: unknown) => {
    assert.ok(e instanceof ClientInputError, String(e));
    assert.deepEqual([e.field, e.message], [field, message]);
    return true;
  };

  test('FAPI-11 under --alg RS256 the profile is refused with openid (naming --alg), taken without it', async (t) => {
    const s = await startGrantServer();
    t.after(() => s.close());
    await assert.rejects(s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['openid'] }, 'test'), refusal('security_profile', FAPI2_NEEDS_ALG));
    assert.equal(FAPI2_NEEDS_ALG, 'a fapi2 client with the openid scope needs ID tokens signed with PS256, ES256 or EdDSA (FAPI 2.0 §5.4.1): start the server with --alg PS256, --alg ES256 or --alg EdDSA');
    const made = await s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['accounts'] }, 'test');
    assert.equal(made.client.security_profile, 'fapi2');
    await assert.rejects(s.keymint.clients.update(made.client.client_id, { addScopes: ['openid'] }, 'test'), refusal('security_profile', FAPI2_NEEDS_ALG));
  });

  test('FAPI-11 under --alg PS256 it registers PS256 (RS256 refused naming the field)', async (t) => {
    const s = await startGrantServer({ alg: 'PS256' });
    t.after(() => s.close());
    await assert.rejects(
      s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['openid'] }, 'test'),
      refusal('id_token_signed_response_alg', 'a fapi2 client with the openid scope has its ID tokens signed with PS256, not RS256 (FAPI 2.0 §5.4.1)'),
    );
    const made = await s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['openid'], idTokenAlg: 'PS256' }, 'test');
    assert.equal(made.client.id_token_signed_response_alg, 'PS256');
  });

  test('FAPI-11 under --alg ES256 it must register ES256 (CLI/API rules and dynamic registration)', async (t) => {
    const s = await startGrantServer({ alg: 'ES256' });
    t.after(() => s.close());
    await assert.rejects(
      s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['openid'] }, 'test'),
      refusal('id_token_signed_response_alg', 'a fapi2 client with the openid scope has its ID tokens signed with ES256, not RS256 (FAPI 2.0 §5.4.1)'),
    );
    const made = await s.keymint.clients.create({ ...fapi, ...(await keyed()), scopes: ['openid'], idTokenAlg: 'ES256' }, 'test');
    assert.equal(made.client.id_token_signed_response_alg, 'ES256');
    // A client without the profile keeps RS256 at will.
    assert.equal((await s.keymint.clients.create({ ...app, name: 'Plain' }, 'test')).client.id_token_signed_response_alg, 'RS256');

    const { s: r, register } = await registrar({ alg: 'ES256' });
    t.after(() => r.close());
    const key = await keyPair('ES256', 'dcr-f');
    const body = { redirect_uris: [CB], scope: 'openid', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, security_profile: 'fapi2' };
    assert.deepEqual(await register(body), { status: 400, body: { error: 'invalid_client_metadata', error_description: 'a fapi2 client with the openid scope registers id_token_signed_response_alg ES256' } });
    const ok = await register({ ...body, id_token_signed_response_alg: 'ES256' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.id_token_signed_response_alg, 'ES256');
    const { s: rs, register: registerRs } = await registrar({});
    t.after(() => rs.close());
    assert.deepEqual(await registerRs(body), {
      status: 400, body: { error: 'invalid_client_metadata', error_description: 'a fapi2 client with the openid scope needs ID tokens signed with PS256, ES256 or EdDSA, which this server does not sign with' },
    });
  });
});

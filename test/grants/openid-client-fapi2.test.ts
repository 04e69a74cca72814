/**
 * The FAPI 2.0 Security Profile flow as a real relying party drives it against a fapi2 client
 * (`security_profile: fapi2`): openid-client v6 with private_key_jwt (ES256, aud the issuer),
 * `buildAuthorizationUrlWithPAR` with a DPoP handle and PKCE S256, the browser's visit, the
 * authorization response's `iss` checked by the library (RFC 9207), `authorizationCodeGrant` and
 * `refreshTokenGrant` twice with the same refresh token (not rotated, RT-11) and DPoP handle; every
 * token DPoP-bound. Then the same client
 * without the DPoP handle: the library gets invalid_dpop_proof.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK } from 'jose';
import * as openid from 'openid-client';
import { keyPair, privateKeyJwtClient } from '../support/sender.ts';
import { browseApproving, startGrantServer, type GrantServer } from './support.ts';

const CB = 'https://app.example/cb';
const SCOPE = 'openid accounts:read';

let s: GrantServer;
let issuer: URL;
before(async () => {
  // --alg ES256: the fapi2 client's ID tokens are ES256 (FAPI 2.0 §5.4.1, FAPI-11).
  s = await startGrantServer({ issuer: undefined, dpopNonce: true, alg: 'ES256' });
  issuer = new URL(s.keymint.config.issuer);
});
after(() => s.close());

describe('real clients: openid-client (FAPI 2.0)', () => {
  test('FAPI-10 openid-client: PAR + private_key_jwt + DPoP + PKCE → DPoP-bound tokens → refresh, for a fapi2 client; without DPoP the token request is invalid_dpop_proof', async () => {
    const key = await keyPair('ES256', 'fapi-rp-1');
    const id = await privateKeyJwtClient(s.keymint, { keys: [key] }, {
      name: 'Bank app', securityProfile: 'fapi2', idTokenAlg: 'ES256', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'accounts:read'], redirectUris: [CB],
    });
    // The app expects ES256 ID tokens: oauth4webapi refuses one signed with any other alg.
    const config = await openid.discovery(issuer, id, { id_token_signed_response_alg: 'ES256' }, openid.PrivateKeyJwt({ key: key.privateKey, kid: 'fapi-rp-1' }), { execute: [openid.allowInsecureRequests] });
    const dpopKeys = await openid.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey), 'sha256');
    const DPoP = openid.getDPoPHandle(config, dpopKeys);

    const start = async (subject: string) => {
      const pkceCodeVerifier = openid.randomPKCECodeVerifier();
      const expectedState = openid.randomState();
      const url = await openid.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: CB, scope: SCOPE, state: expectedState,
        code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
      }, { DPoP });
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      const { location } = await browseApproving(s, url, subject);
      assert.equal(location.searchParams.get('iss'), config.serverMetadata().issuer);
      return { location, checks: { pkceCodeVerifier, expectedState } };
    };

    const first = await start('fapi-user-1');
    const tokens = await openid.authorizationCodeGrant(config, first.location, first.checks, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });
    assert.equal(tokens.claims()?.sub, 'fapi-user-1');
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
    assert.ok(tokens.refresh_token);

    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.equal(refreshed.token_type, 'dpop');
    assert.deepEqual(decodeJwt(refreshed.access_token).cnf, { jkt });
    // RT-11: a fapi2 client's refresh token is not rotated (§5.3.2.1 item 10): the library keeps it.
    assert.equal(refreshed.refresh_token, undefined);
    const again = await openid.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.deepEqual(decodeJwt(again.access_token).cnf, { jkt });

    // The push may go without a proof (FAPI 2 does not need one there); the token request may not.
    const pkceCodeVerifier = openid.randomPKCECodeVerifier();
    const url = await openid.buildAuthorizationUrlWithPAR(config, { redirect_uri: CB, scope: SCOPE, state: 'st', code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256' });
    const { location } = await browseApproving(s, url, 'fapi-user-2');
    await assert.rejects(openid.authorizationCodeGrant(config, location, { pkceCodeVerifier, expectedState: 'st' }), (e: unknown) => {
      assert.ok(e instanceof openid.ResponseBodyError, String(e));
      assert.deepEqual([e.status, e.error, e.error_description], [400, 'invalid_dpop_proof', 'This client must send a DPoP proof.']);
      return true;
    });
  });
});

describe('real clients: openid-client (FAPI 2.0, all PS256)', () => {
  test('FAPI-13 openid-client with an RSA-only stack: under --alg PS256, PS256 private_key_jwt and DPoP proofs, PAR and PKCE give PS256 access and ID tokens (the library checks the ID token\'s alg and signature)', async (t) => {
    const ps = await startGrantServer({ issuer: undefined, alg: 'PS256' });
    t.after(() => ps.close());
    const psIssuer = new URL(ps.keymint.config.issuer);
    const key = await keyPair('PS256', 'bank-rp-1');
    const id = await privateKeyJwtClient(ps.keymint, { keys: [key] }, {
      name: 'Bank app', securityProfile: 'fapi2', idTokenAlg: 'PS256', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'accounts:read'], redirectUris: [CB],
    });
    const execute = [openid.allowInsecureRequests, openid.enableNonRepudiationChecks];
    const config = await openid.discovery(psIssuer, id, { id_token_signed_response_alg: 'PS256' }, openid.PrivateKeyJwt({ key: key.privateKey, kid: 'bank-rp-1' }), { execute });
    const metadata = config.serverMetadata();
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256', 'PS256']);
    const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair('PS256'));

    const pkceCodeVerifier = openid.randomPKCECodeVerifier();
    const expectedState = openid.randomState();
    const url = await openid.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CB, scope: SCOPE, state: expectedState,
      code_challenge: await openid.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
    }, { DPoP });
    const { location } = await browseApproving(ps, url, 'bank-user-1');
    const tokens = await openid.authorizationCodeGrant(config, location, { pkceCodeVerifier, expectedState }, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual([decodeProtectedHeader(tokens.access_token).alg, decodeProtectedHeader(tokens.id_token!).alg], ['PS256', 'PS256']);
    assert.equal(tokens.claims()?.sub, 'bank-user-1');
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    assert.deepEqual([decodeProtectedHeader(refreshed.access_token).alg, decodeProtectedHeader(refreshed.id_token!).alg], ['PS256', 'PS256']);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { introspect } from '../../src/protocol/introspection.ts';
import { issue } from '../../src/protocol/issue.ts';
import { createMemoryStore } from '../../src/storage/memory/index.ts';
import type { ClientRecord } from '../../src/storage/types.ts';
import { Keyring } from '../../src/tokens/keyring.ts';
import { localJwtVerifier } from '../../src/tokens/local-verify.ts';
import { fuuffy } from '../../src/dialects/fuuffy.ts';
import { accessTokenFormat, opaqueFormatsOf, refreshTokenFormat } from '../../src/tokens/formats.ts';

const client: ClientRecord = {
  id: 'sk_live_c1', name: 'c', mode: 'live', environment: 'prod', type: 'confidential', status: 'active', grants: ['client_credentials'],
  scopes: ['read'], audiences: [], dialects: [], redirectUris: [], trusted: false, accessTokenTtl: null, secrets: [], createdAt: 0, updatedAt: 0,
};

test('introspection finds the opaque tokens of any dialect that declares its format (fuuffy sk-…), by digest', async () => {
  const store = createMemoryStore();
  const keyring = await Keyring.open(store.keys, { kek: randomBytes(32), algs: ['RS256'], maxTokenTtl: 3600 });
  const formats = { access: accessTokenFormat(fuuffy.accessToken, keyring, 'RS256', 'inline'), refresh: refreshTokenFormat(undefined, keyring), idToken: 'openid' } as const;
  const settings = { issuer: 'http://localhost', tokenTtl: 3600, refreshTokenTtl: 600, refreshTokenIdleTtl: 600, alg: 'RS256' } as const;
  const now = Date.now();
  const decision = { subject: client.id, scopes: ['read'], audience: ['http://localhost'], refreshToken: false, familyId: null };
  const { result } = await issue(decision, { client, credentialId: null }, formats, now, { keyring, store, settings });
  assert.match(result.accessToken, /^sk-[0-9a-f]{32}$/);
  const deps = { store, keyring, settings, opaqueFormats: opaqueFormatsOf([fuuffy]), verifyJwt: localJwtVerifier(keyring, settings.issuer) };
  const body = await introspect(result.accessToken, client, now, deps);
  assert.equal(body.active, true);
  assert.equal(body.client_id, client.id);
  // Without the format registered, the token is not even looked up.
  assert.deepEqual(await introspect(result.accessToken, client, now, { ...deps, opaqueFormats: opaqueFormatsOf([]) }), { active: false });
  await keyring.rotate({ pepper: true }); // D-01: found under a retired pepper too
  assert.equal((await introspect(result.accessToken, client, now, deps)).active, true);
});

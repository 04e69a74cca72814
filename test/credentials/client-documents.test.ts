/**
 * Client ID metadata documents (src/credentials/client-documents.ts): which URLs are client ids,
 * and what a document must say to describe a client; the fetch itself is the guarded one of
 * jwks_uri (test/credentials/client-keys.test.ts), and the whole path runs in test/mcp/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientFromDocument, DocumentRefused, isDocumentId } from '../../src/credentials/client-documents.ts';

const ID = 'https://app.example/oauth/client.json';
const settings = { environment: 'prod', dialects: ['oauth2'], policy: { scopes: ['mcp:tools', 'mcp:read'], audiences: ['https://mcp.example/mcp'] }, now: () => 1_800_000_000_000 };
const doc = (extra: Record<string, unknown> = {}) => ({ client_id: ID, client_name: 'App', redirect_uris: ['https://app.example/cb'], ...extra });

test('RG-03 a client id is an https URL with a path, without fragment, userinfo, dot segments or another spelling', () => {
  assert.equal(isDocumentId(ID), true);
  for (const id of ['http://app.example/client.json', 'https://app.example/', 'https://app.example', 'https://app.example/a#f', 'https://u:p@app.example/c',
    'https://app.example/a/../c', 'https://app.example/./c', 'https://APP.example/c', `https://app.example/${'x'.repeat(600)}`, 'sk_live_abc']) {
    assert.equal(isDocumentId(id), false, id);
  }
});

test('RG-03 a document describes a public client of the code flow within the policy; never trusted; its host beside its name', () => {
  const c = clientFromDocument(ID, doc({ grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'mcp:tools other' }), settings);
  assert.equal(c.id, ID);
  assert.equal(c.type, 'public');
  assert.deepEqual(c.grants, ['authorization_code', 'refresh_token'], 'client_credentials is not a public client\'s');
  assert.deepEqual(c.scopes, ['mcp:tools'], 'the policy\'s scopes, narrowed to the document\'s');
  assert.deepEqual(c.audiences, ['https://mcp.example/mcp']);
  assert.equal(c.trusted, false);
  assert.equal(c.name, 'App (app.example)');
  // A name that would reorder the host after it, or is not well-formed, is left out: the host alone.
  for (const client_name of ['moc.live\u202e', 'a\u2067b', 'a\ud800', 'x'.repeat(101), 'a\u0000']) assert.equal(clientFromDocument(ID, doc({ client_name }), settings).name, 'app.example', JSON.stringify(client_name));
  const keyed = clientFromDocument(ID, doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks.json' }), settings);
  assert.deepEqual([keyed.type, keyed.authMethod, keyed.jwksUri], ['confidential', 'private_key_jwt', 'https://app.example/jwks.json']);
});

test('RG-03 refused: another client_id, a secret, a shared-secret method, a jwks_uri that is not an https URL, bad redirect URIs, no code flow', () => {
  const refused: Array<Record<string, unknown> | unknown> = [
    [],
    doc({ client_id: 'https://app.example/other.json' }),
    doc({ client_secret: 'x' }),
    doc({ token_endpoint_auth_method: 'client_secret_basic' }),
    doc({ token_endpoint_auth_method: 'private_key_jwt' }),
    ...['', 'not a url', 'javascript:alert(1)', 'http://app.example/jwks.json', 'https://u:p@app.example/jwks.json', 'https://app.example/jwks.json#k', 7].map((jwks_uri) => doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri })),
    doc({ redirect_uris: [] }),
    doc({ redirect_uris: ['javascript:alert(1)'] }),
    doc({ redirect_uris: ['http://app.example/cb'] }),
    doc({ grant_types: ['refresh_token'] }),
    doc({ response_types: ['token'] }),
  ];
  for (const d of refused) assert.throws(() => clientFromDocument(ID, d, settings), DocumentRefused, JSON.stringify(d));
});

test('BCL-10 BCL-01 a document\'s post_logout_redirect_uris and backchannel_logout_uri are read as registration reads them; one a redirect URI may not be is refused', () => {
  const c = clientFromDocument(ID, doc({ post_logout_redirect_uris: ['https://app.example/bye', 'http://127.0.0.1:9000/bye'], backchannel_logout_uri: 'https://app.example/backchannel', backchannel_logout_session_required: true }), settings);
  assert.deepEqual(c.postLogoutRedirectUris, ['https://app.example/bye', 'http://127.0.0.1:9000/bye']);
  assert.equal(c.backchannelLogoutUri, 'https://app.example/backchannel');
  assert.equal(c.backchannelLogoutSessionRequired, true);
  const plain = clientFromDocument(ID, doc(), settings);
  assert.deepEqual([plain.postLogoutRedirectUris, plain.backchannelLogoutUri, plain.backchannelLogoutSessionRequired], [undefined, undefined, undefined]);
  for (const d of [
    doc({ post_logout_redirect_uris: 'https://app.example/bye' }),
    doc({ post_logout_redirect_uris: ['javascript:alert(1)'] }),
    doc({ post_logout_redirect_uris: ['http://app.example/bye'] }),
    doc({ post_logout_redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/bye${i}`) }),
    doc({ backchannel_logout_uri: 'http://app.example/backchannel' }),
    doc({ backchannel_logout_uri: 'com.example.app:/logout' }),
    doc({ backchannel_logout_uri: 'https://app.example/backchannel#f' }),
    doc({ backchannel_logout_uri: 7 }),
    doc({ backchannel_logout_session_required: 'yes' }),
  ]) assert.throws(() => clientFromDocument(ID, d, settings), DocumentRefused, JSON.stringify(d));
});

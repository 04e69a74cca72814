/**
 * RFC 9700 §4.15.1: a client must not be able to pose as a resource owner, nor a user as a client,
 * where a resource server looks only at `sub`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { basic, startGrantServer, USER, type GrantServer } from '../grants/support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer();
});
after(() => s.close());

test('BCP-11 no client id can be a user subject; a session cannot take a client\'s id as subject; user and client tokens are told apart', async () => {
  // An operator may import a client with a chosen id (docs/clients.md), but never one shaped as a
  // user or organization subject; nothing is created.
  const before = (await s.keymint.clients.list()).length;
  const chosen = await s.admin('POST', '/clients', { name: 'svc', client_id: USER, client_secret: 'a-chosen-secret-0123456789', scopes: ['read'] });
  assert.equal(chosen.status, 400);
  assert.deepEqual(await s.json(chosen), { error: 'invalid_request', error_description: 'client_id must not be a UUID: user and organization subjects are UUIDs (RFC 9700 §4.15.1)', field: 'client_id' });
  assert.equal((await s.keymint.clients.list()).length, before);
  // Generated ids are in their own namespace.
  const created = await s.admin('POST', '/clients', { name: 'svc', scopes: ['read'], grants: ['client_credentials', 'web'] });
  assert.equal(created.status, 201);
  const client = (await s.json(created)) as { client_id: string; client_secret: string };
  assert.notEqual(client.client_id, USER);
  assert.match(client.client_id, /^sk_live_[0-9A-Za-z]+$/);

  // The platform cannot register a user whose subject is that client's id.
  const posing = await s.admin('POST', '/sessions', { subject: client.client_id });
  assert.equal(posing.status, 400);
  assert.deepEqual(await s.json(posing), { error: 'invalid_request', error_description: 'subject must not be the id of a client (RFC 9700 §4.15.1)', field: 'subject' });

  // A client token's sub is its id and it carries no sub_type; a user token carries sub_type.
  const auth = { authorization: basic(client.client_id, client.client_secret) };
  const cc = decodeJwt(String((await s.json(await s.postForm('/oauth2/token', { grant_type: 'client_credentials' }, auth))).access_token));
  assert.equal(cc.sub, client.client_id);
  assert.equal(cc.sub_type, undefined);
  const { session_token } = await s.session();
  const user = decodeJwt(String((await s.json(await s.postForm('/oauth2/token', { grant_type: 'web', session_token }, auth))).access_token));
  assert.equal(user.sub, USER);
  assert.equal(user.sub_type, 'user');
});

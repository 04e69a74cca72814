/**
 * `web` is an extension grant name (RFC 6749 §4.5, App. A.10) that no registry holds: it is served
 * only where a dialect declares it, only to clients registered for it, and advertised and documented
 * where it is served.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { basic, startGrantServer, type GrantServer } from '../grants/support.ts';

let s: GrantServer;
before(async () => {
  s = await startGrantServer({ dialects: ['oauth2', 'polar', 'orum', 'fuuffy', 'polygon-oms', 'tradevest=/tradevest/oauth2/token'] });
});
after(() => s.close());

test('T-10 the web grant: served by the oauth2 and polar dialects to clients registered for it, refused everywhere else, advertised and documented', async () => {
  const web = await s.client({ grants: ['web'], scopes: ['read'] });
  const other = await s.client({ grants: ['client_credentials'], scopes: ['read'] });
  const { session_token } = await s.session();
  const form = (c: { id: string; secret: string }) => ({ grant_type: 'web', session_token, client_id: c.id, client_secret: c.secret });

  for (const path of ['/oauth2/token', '/v1/oauth2/token']) {
    const ok = await s.postForm(path, { grant_type: 'web', session_token }, { authorization: basic(web.id, web.secret) });
    assert.equal(ok.status, 200, path);
    const refused = await s.postForm(path, { grant_type: 'web', session_token }, { authorization: basic(other.id, other.secret) });
    assert.equal(refused.status, 400, path);
    assert.equal((await s.json(refused)).error, 'unauthorized_client', path);
  }
  // Dialects whose contract has one grant: grant_type=web is refused in their own shape, no token issued.
  for (const path of ['/oauth/token', '/v1/auth/token', '/tradevest/oauth2/token']) {
    const res = await s.postForm(path, form(web));
    const text = await res.text();
    assert.equal(res.status, 400, `${path}: ${text}`);
    assert.ok(!text.includes('access_token') && !text.includes('accessToken'), path);
  }

  const metadata = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
  assert.ok(metadata.grant_types_supported.includes('web'));
  const docs = readFileSync(new URL('../../docs/user-grants.md', import.meta.url), 'utf8');
  assert.match(docs, /`web` is an unregistered extension grant name \(RFC 6749 §4\.5/);
});

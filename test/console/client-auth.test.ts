/**
 * The console's client form for secretless, sender-constrained and FAPI clients, over HTTP with no
 * script (the form posted as a browser without JavaScript posts it): a private_key_jwt client made
 * from a pasted JWKS gets no secret and authenticates with an assertion; an edit to tls_client_auth
 * stores exactly the one name typed (the JWKS still in the hidden input is not read); refusals come
 * from the client rules, beside the field, the form as typed, nothing changed; switching a secret
 * client to private_key_jwt and back ends up where the admin API's PATCH does; the algorithm
 * choices are the deployment's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientFormValues, emptyClientForm } from '../../src/console/pages/client-form.ts';
import type { ClientView } from '../../src/credentials/clients.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { assertion, JWT_BEARER, keyPair } from '../support/sender.ts';
import { type Browser, signedIn } from './support.ts';

const key = await keyPair('ES256', 'console-key');
const JWKS = JSON.stringify({ keys: [key.jwk] }, null, 2);

/** The urlencoded body a browser posts for these form values (unchecked boxes absent). */
function formBody(values: Record<string, unknown>, csrf: string): Record<string, string> {
  const body = new URLSearchParams({ csrf });
  for (const [k, v] of Object.entries(values)) {
    if (Array.isArray(v)) for (const x of v) body.append(k, x);
    else if (typeof v === 'boolean') {
      if (v) body.set(k, 'on');
    } else body.set(k, String(v));
  }
  return Object.fromEntries(body) as Record<string, string>;
}

/** The edit form of a client as the browser shows it, posted with `change` typed over it. */
async function postEdit(b: Browser, server: TestServer, id: string, change: Record<string, unknown>): Promise<Response> {
  const csrf = await b.csrf(`/console/clients/${id}/edit`);
  const values = { ...clientFormValues(await server.keymint.clients.show(id)), ...change };
  // Repeated controls (grants, dialects) go as arrays; URLSearchParams keeps the last of a key, so post them by hand.
  const body = new URLSearchParams(formBody(values, csrf));
  for (const k of ['grants', 'dialects'] as const) {
    body.delete(k);
    for (const x of values[k] as string[]) body.append(k, x);
  }
  return fetch(`${server.url}/console/clients/${id}/edit`, { method: 'POST', redirect: 'manual', headers: { cookie: b.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
}

const assertionToken = async (server: TestServer, id: string) =>
  fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, { clientId: id, aud: server.keymint.config.issuer }) }).toString(),
  });

/** A view without what differs between two clients made alike (id, dates, secret ids). */
const settings = (v: ClientView) => {
  const { client_id: _i, created_at: _c, updated_at: _u, secrets, name: _n, ...rest } = v;
  return { ...rest, live_secrets: secrets.length };
};

describe('console: the client form for secretless and sender-constrained clients', () => {
  let server: TestServer;
  let ann: Browser;
  before(async () => {
    server = await startServer({ console: 'true', alg: 'ES256' });
    ann = await signedIn(server, 'ann', 'admin');
  });
  after(() => server.close());

  /** The new-client form as a browser posts it: every control at its default, `form` typed over them. */
  const create = async (form: Record<string, string>) => ann.post('/console/clients/new', formBody({ ...emptyClientForm(), grants: 'client_credentials', ...form }, await ann.csrf('/console/clients/new')));

  test('CO-05 a private_key_jwt client from a pasted JWKS: no secret made or shown, and an assertion gets a token', async () => {
    const res = await create({ name: 'Keyed', auth_method: 'private_key_jwt', jwks: JWKS, tls_subject_dn: 'CN=typed,O=but hidden', dpop_bound: '', refresh_token_rotation: 'on' });
    assert.equal(res.status, 303, await res.text());
    const id = decodeURIComponent(/\/console\/clients\/([^?]+)\?done=created$/.exec(res.headers.get('location') ?? '')![1]!);
    const client = await server.keymint.clients.show(id);
    assert.equal(client.token_endpoint_auth_method, 'private_key_jwt');
    assert.deepEqual(client.jwks, { keys: [key.jwk] });
    assert.equal(client.tls_client_auth_subject_dn, undefined, 'the other method\'s input is not read');
    assert.deepEqual(client.secrets, []);
    const detail = await (await ann.get(res.headers.get('location')!)).text();
    assert.match(detail, /It authenticates without a secret, so none was made\./);
    assert.match(detail, /<dt>Authentication<\/dt><dd><code>private_key_jwt<\/code><\/dd>/);
    assert.match(detail, /<dt>Keys \(JWKS\)<\/dt><dd>1 key: <code>console-key<\/code> \(EC P-256\)<\/dd>/);
    assert.doesNotMatch(detail, /Rotate secret|id="secrets-h"/);
    const token = await assertionToken(server, id);
    assert.equal(token.status, 200, await token.clone().text());
  });

  test('CO-05 the edit form sets the method\'s name, the bindings, exchange policy, profile settings and the deployment\'s algorithms', async () => {
    const { id } = await server.client({ name: 'To mTLS', grants: ['client_credentials'] });
    const form = await (await ann.get(`/console/clients/${id}/edit`)).text();
    for (const select of ['id_token_alg', 'authorization_response_alg', 'introspection_alg']) {
      const options = [...new RegExp(`<select id="f-${select}"[^>]*>([\\s\\S]*?)</select>`).exec(form)![1]!.matchAll(/value="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(options, ['RS256', 'ES256'], `${select}: RS256 and this deployment's --alg`);
    }
    const res = await postEdit(ann, server, id, {
      auth_method: 'tls_client_auth', tls_subject_dn: 'CN=billing,O=Acme', jwks: JWKS, cert_bound: true, dpop_bound: false, token_reuse: true, refresh_token_rotation: false,
      exchange_audiences: 'https://api.example.com', exchange_scopes: 'payments:read', id_token_alg: 'ES256', introspection_alg: 'ES256',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/console/clients/${id}?done=auth-changed`);
    const c = await server.keymint.clients.show(id);
    assert.equal(c.token_endpoint_auth_method, 'tls_client_auth');
    assert.equal(c.tls_client_auth_subject_dn, 'CN=billing,O=Acme');
    assert.equal(c.jwks, undefined, 'the JWKS of another method is not read');
    assert.deepEqual([c.tls_client_certificate_bound_access_tokens, c.dpop_bound_access_tokens, c.token_reuse, c.refresh_token_rotation], [true, false, true, false]);
    assert.deepEqual([c.exchange_audiences, c.exchange_scopes], [['https://api.example.com'], ['payments:read']]);
    assert.deepEqual([c.id_token_signed_response_alg, c.authorization_signed_response_alg, c.introspection_signed_response_alg], ['ES256', 'RS256', 'ES256']);
    const detail = await (await ann.get(res.headers.get('location')!)).text();
    assert.match(detail, /<dt>Certificate name \(tls_client_auth\)<\/dt><dd>subject DN <code>CN=billing,O=Acme<\/code><\/dd>/);
    assert.match(detail, /<dt>Certificate-bound tokens<\/dt><dd>yes: bound to its TLS client certificate<\/dd>/);
    assert.match(detail, /<dt>Token exchange audiences<\/dt><dd><code>https:\/\/api.example.com<\/code><\/dd>/);
    // The edit form shows it back as stored: the name in its input, the method chosen.
    const again = await (await ann.get(`/console/clients/${id}/edit`)).text();
    assert.match(again, /<option value="tls_client_auth" selected>/);
    assert.match(again, /name="tls_subject_dn" value="CN=billing,O=Acme"/);
  });

  test('CO-05 a fapi2 client is made in the form, with its keys, PAR and DPoP', async () => {
    const res = await create({ name: 'FAPI', auth_method: 'private_key_jwt', jwks: JWKS, security_profile: 'fapi2', require_par: 'on', dpop_bound: 'on', id_token_alg: 'ES256' });
    assert.equal(res.status, 303, await res.text());
    const id = decodeURIComponent(/\/console\/clients\/([^?]+)\?done=created$/.exec(res.headers.get('location') ?? '')![1]!);
    const c = await server.keymint.clients.show(id);
    assert.deepEqual([c.security_profile, c.token_endpoint_auth_method, c.dpop_bound_access_tokens, c.require_pushed_authorization_requests], ['fapi2', 'private_key_jwt', true, true]);
    assert.match(await (await ann.get(`/console/clients/${id}`)).text(), /<dt>Security profile<\/dt><dd>FAPI 2.0 Security Profile<\/dd>/);
  });

  test('CO-06 a refusal is the client rules\' message beside the field, the form as typed, nothing made or changed', async () => {
    const before = (await server.keymint.clients.list()).length;
    const symmetric = '{"keys": [{"kty": "oct", "k": "c2VjcmV0LWtleS1tYXRlcmlhbA"}]}';
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ auth_method: 'private_key_jwt', jwks: symmetric }, 'jwks', 'the JWKS holds private or symmetric key material'],
      [{ auth_method: 'private_key_jwt', jwks: '{"keys": [' }, 'jwks', 'JSON, a key set such as {&quot;keys&quot;: [{&quot;kty&quot;: &quot;EC&quot;, …}]}'],
      [{ auth_method: 'private_key_jwt' }, 'jwks', 'a private_key_jwt client has exactly one of jwks and jwks_uri'],
      [{ auth_method: 'private_key_jwt', jwks: JWKS, jwks_uri: 'https://keys.example/jwks' }, 'jwks', 'a private_key_jwt client has exactly one of jwks and jwks_uri'],
      [{ auth_method: 'tls_client_auth' }, 'tls_subject_dn', 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ auth_method: 'tls_client_auth', tls_subject_dn: 'CN=a', tls_san_dns: 'a.example' }, 'tls_san_dns', 'a tls_client_auth client has exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email'],
      [{ auth_method: 'tls_client_auth', tls_san_ip: '999.1.1.1' }, 'tls_san_ip', 'tls_client_auth_san_ip is an IPv4 or IPv6 address'],
      [{ security_profile: 'fapi2' }, 'auth_method', 'a fapi2 client authenticates with private_key_jwt, tls_client_auth, self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1)'],
      [{ id_token_alg: 'EdDSA' }, 'id_token_alg', 'this server signs ID tokens with RS256 or ES256 (its --alg)'],
      [{ type: 'public', grants: 'authorization_code', redirect_uris: 'https://app.example/cb', auth_method: 'private_key_jwt', jwks: JWKS }, 'auth_method', 'a public client authenticates with none'],
    ];
    for (const [form, field, message] of cases) {
      const res = await create({ name: 'Refused', ...form });
      const doc = await res.text();
      assert.equal(res.status, 400, JSON.stringify(form));
      assert.ok(doc.includes(`<p class="error-text" id="f-${field}-error">${message}</p>`), `${JSON.stringify(form)}: ${/error-text[^<]*<\/p>|error-text"[^>]*>[^<]*/.exec(doc)?.[0]}`);
      assert.ok(doc.includes(`<li><a href="#f-${field}">`), `${field} in the summary`);
      // As typed: the pasted JWKS comes back in its textarea, the method chosen.
      if (form.jwks) assert.ok(doc.includes(`>${form.jwks.replaceAll('"', '&quot;')}</textarea>`), 'the JWKS as typed');
      if (form.auth_method) assert.ok(doc.includes(`<option value="${form.auth_method}" selected>`));
    }
    assert.equal((await server.keymint.clients.list()).length, before, 'nothing was created');

    const { id } = await server.client({ name: 'Untouched' });
    const was = await server.keymint.clients.show(id);
    const refused = await postEdit(ann, server, id, { auth_method: 'private_key_jwt', jwks: symmetric, scopes: 'changed:too' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /the JWKS holds private or symmetric key material/);
    assert.deepEqual(await server.keymint.clients.show(id), was, 'the refused edit changed nothing');
  });

  test('CO-07 a secret client moved to private_key_jwt and back ends where the admin API\'s PATCH does: secrets ended, tokens revoked, none until a rotation', async () => {
    const adminClient = await server.client({ name: 'ops', admin: true });
    const adminToken = String((await server.token(adminClient.id, adminClient.secret, { scope: 'keymint:admin' })).access_token);
    const patch = async (id: string, body: unknown) => {
      const res = await fetch(`${server.url}/admin/v1/clients/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200);
      return (await res.json()) as ClientView;
    };
    const viaConsole = await server.client({ name: 'by console', scopes: ['payments:read'] });
    const viaApi = await server.client({ name: 'by API', scopes: ['payments:read'] });
    const issued = await server.token(viaConsole.id, viaConsole.secret);

    const toKeys = await postEdit(ann, server, viaConsole.id, { auth_method: 'private_key_jwt', jwks: JWKS });
    assert.equal(toKeys.headers.get('location'), `/console/clients/${viaConsole.id}?done=auth-changed`);
    const api1 = await patch(viaApi.id, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    assert.deepEqual(settings(await server.keymint.clients.show(viaConsole.id)), settings(api1));
    assert.equal(api1.secrets.length, 0);
    // The secret no longer works; the token it got is revoked; an assertion works.
    assert.equal((await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${viaConsole.id}:${viaConsole.secret}`).toString('base64')}` })).status, 401);
    const introspected = await server.postForm('/oauth2/introspect', { token: String(issued.access_token) }, { authorization: `Basic ${Buffer.from(`${adminClient.id}:${adminClient.secret}`).toString('base64')}` });
    assert.equal(((await introspected.json()) as { active: boolean }).active, false);
    assert.equal((await assertionToken(server, viaConsole.id)).status, 200);

    const back = await postEdit(ann, server, viaConsole.id, { auth_method: 'client_secret_basic' });
    assert.equal(back.headers.get('location'), `/console/clients/${viaConsole.id}?done=secret-needed`);
    const api2 = await patch(viaApi.id, { token_endpoint_auth_method: 'client_secret_basic' });
    const shown = await server.keymint.clients.show(viaConsole.id);
    assert.deepEqual(settings(shown), settings(api2));
    assert.deepEqual([shown.token_endpoint_auth_method, shown.jwks, shown.secrets.length], ['client_secret_basic', undefined, 0]);
    const detail = await (await ann.get(back.headers.get('location')!)).text();
    assert.match(detail, /It authenticates with a secret now but holds none: rotate its secret to issue one\./);
    assert.match(detail, /No live secret: the client cannot authenticate until one is issued\./);
    // The rotation page issues one, and it works.
    const rotated = await ann.post(`/console/clients/${viaConsole.id}/rotate`, { csrf: await ann.csrf(`/console/clients/${viaConsole.id}/rotate`), overlap: '0' });
    const secret = /id="secret-value" value="([^"]+)"/.exec(await rotated.text())![1]!;
    assert.equal(typeof (await server.token(viaConsole.id, secret)).access_token, 'string');
  });
});

/**
 * The console's pages as HTML: escaping, the CSRF field in every form, the viewer role's pages
 * without a single control that changes state, no inline script or style (CO-04), filters and form
 * parsing, chart geometry, assets and page weight.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assetBytes, assetResponse, assetUrl } from '../../src/console/assets/index.ts';
import * as p from '../../src/console/pages/index.ts';
import { points } from '../../src/console/pages/chart.ts';
import { admin, certificateClient, clients, keyedClient, viewer } from './support/fixtures.ts';
import { PAGES } from './support/preview.ts';

const render = (ctx: p.PageContext) => Object.entries(PAGES).map(([path, page]) => [path, page(ctx, '')] as const);
const forms = (doc: string) => [...doc.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]);

describe('console pages', () => {
  test('html escapes every interpolation that is not itself html', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    assert.equal(p.html`<p title="${name}">${name}</p>`.toString(), '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>');
    assert.equal(p.html`${[p.html`<b>`, '<i>', null, false, undefined, 0]}`.toString(), '<b>&lt;i&gt;0');
  });

  test('a client name with markup is shown as text on every page that names it', () => {
    const hostile = clients[1]!;
    const list = PAGES['/console/clients']!(admin, '');
    const detail = PAGES[p.paths.client(hostile.client_id)]!(admin, '');
    for (const doc of [list, detail]) {
      assert.ok(doc.includes('Reports &lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(!doc.includes('<script>alert'));
    }
  });

  test('CO-03: every POST form carries the session CSRF token', () => {
    for (const [path, doc] of render(admin)) {
      for (const form of forms(doc).filter((f) => /method="post"/.test(f))) {
        assert.match(form, /<input type="hidden" name="csrf" value="csrf-token-(fixture|anon)">/, `${path}: ${form.slice(0, 120)}`);
      }
    }
  });

  test('CO-03: a viewer sees no control that changes anything but signing out', () => {
    for (const path of ['/console/clients', p.paths.client(clients[0]!.client_id), '/console/keys', '/console/audit', '/console/traffic']) {
      const doc = PAGES[path]!(viewer, '');
      const posts = forms(doc).filter((f) => /method="post"/.test(f));
      assert.deepEqual(posts.map((f) => /action="([^"]+)"/.exec(f)![1]), [p.paths.signOut], path);
      for (const link of [p.paths.newClient, p.paths.editClient(clients[0]!.client_id), p.paths.deleteClient(clients[0]!.client_id), p.paths.rotateSecret(clients[0]!.client_id)]) {
        assert.ok(!doc.includes(`href="${link}"`), `${path} links ${link}`);
      }
      assert.match(doc, /<span class="badge badge-role">viewer<\/span>/);
    }
    const adminDetail = PAGES[p.paths.client(clients[0]!.client_id)]!(admin, '');
    assert.ok(adminDetail.includes(`href="${p.paths.editClient(clients[0]!.client_id)}"`));
  });

  test('CO-04: no page has inline script, inline style, event-handler attributes or remote URLs', () => {
    for (const [path, doc] of [...render(admin), ...render(viewer)]) {
      assert.doesNotMatch(doc, /<script(?![^>]*\bsrc=)[^>]*>/, path);
      assert.doesNotMatch(doc, /<style|\sstyle=/, path);
      assert.doesNotMatch(doc, /\son[a-z]+=/, path);
      assert.doesNotMatch(doc, /(src|href)="(https?:)?\/\/(?!127\.0\.0\.1)/, path);
      assert.doesNotMatch(doc, /javascript:/, path);
    }
  });

  test('every page has lang, a title, one h1, a skip link to main and labelled controls', () => {
    for (const [path, doc] of render(admin)) {
      assert.match(doc, /<html lang="en">/, path);
      assert.match(doc, /<title>[^<]+ · Keymint console<\/title>/, path);
      assert.equal(doc.match(/<h1[ >]/g)?.length, 1, path);
      assert.match(doc, /<body>\s*<a class="skip" href="#main">/, path);
      assert.match(doc, /<main id="main"/, path);
      for (const m of doc.matchAll(/<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"/g)) {
        assert.ok(doc.includes(`<label for="${m[1]}">`) || new RegExp(`<label class="check"><input[^>]*id="${m[1]}"`).test(doc), `${path}: #${m[1]} has no label`);
      }
    }
  });

  test('the clients filter matches name or id, dialect (unrestricted clients included), mode, environment, status', () => {
    const f = (q: string) => p.filterClients(clients, p.parseClientFilter(q)).map((c) => c.name);
    assert.deepEqual(f(''), clients.map((c) => c.name));
    assert.deepEqual(f('q=ACME'), ['Acme Payments']);
    assert.deepEqual(f('q=Pp1Qq2'), ['Mobile app']);
    assert.deepEqual(f('dialect=polar'), ['Reports <script>alert(1)</script>', 'Legacy batch']);
    assert.deepEqual(f('mode=sandbox'), ['Reports <script>alert(1)</script>']);
    assert.deepEqual(f('status=disabled'), ['Legacy batch']);
    assert.deepEqual(f('environment=prod'), []);
    assert.deepEqual(f('status=active&dialect=orum&q=mobile'), ['Mobile app']);
    assert.match(PAGES['/console/clients']!(admin, 'status=disabled'), /1 of 4 clients match the filters\./);
  });

  test('the client form round-trips a client and parses into the service input', () => {
    const values = p.clientFormValues(clients[0]!);
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) {
      if (Array.isArray(v)) for (const x of v) body.append(k, x);
      else if (typeof v === 'boolean') { if (v) body.set(k, 'on'); }
      else body.set(k, v as string);
    }
    const parsed = p.parseClientForm(p.clientFormFromBody(body), 'edit');
    assert.ok('input' in parsed);
    assert.deepEqual(parsed.input, {
      name: 'Acme Payments', scopes: ['payments:read', 'payments:write'], grants: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null, backchannelLogoutSessionRequired: false, audiences: ['https://api.example.com'],
      ttl: 900, rateLimit: 600, dialects: ['orum'], trusted: false, pkceRequired: true, requirePar: false, requireSignedRequestObject: false, claims: { org_id: 'acme' }, metadata: { team: 'payments', ticket: 'OPS-1234' },
      authMethod: 'client_secret_basic', jwks: null, jwksUri: null, tlsSubjectDn: null, tlsSanDns: null, tlsSanUri: null, tlsSanIp: null, tlsSanEmail: null,
      dpopBound: false, certBound: false, refreshTokenRotation: true, tokenReuse: false, exchangeAudiences: [], exchangeScopes: [], introspectionAudiences: [],
      securityProfile: 'none', idTokenAlg: 'RS256', authorizationResponseAlg: 'RS256', introspectionAlg: 'RS256',
    });
  });

  test('CO-05 the client page shows a secretless client\'s keys or certificate name, its bindings and exchange policy, and no secret or Rotate secret', () => {
    const keyed = PAGES[p.paths.client(keyedClient.client_id)]!(admin, '');
    assert.match(keyed, /<dt>Authentication<\/dt><dd><code>private_key_jwt<\/code><\/dd>\s*<dt>Keys \(JWKS\)<\/dt><dd>1 key: <code>svc-2026<\/code> \(EC P-256\)<\/dd>/);
    assert.match(keyed, /<dt>DPoP-bound tokens<\/dt><dd>required<\/dd>/);
    assert.match(keyed, /<dt>Token exchange scopes<\/dt><dd><code>ledger:read<\/code><\/dd>/);
    assert.match(keyed, /<dt>Security profile<\/dt><dd>FAPI 2.0 Security Profile<\/dd>/);
    const certified = PAGES[p.paths.client(certificateClient.client_id)]!(admin, '');
    assert.match(certified, /<dt>Certificate name \(tls_client_auth\)<\/dt><dd>subject DN <code>CN=batch,O=Acme<\/code><\/dd>/);
    assert.match(certified, /<dt>Certificate-bound tokens<\/dt><dd>yes: bound to its TLS client certificate<\/dd>/);
    for (const c of [keyedClient, certificateClient, { ...certificateClient, token_endpoint_auth_method: 'self_signed_tls_client_auth' }]) {
      const doc = p.clientDetailPage(admin, { client: c, events: [] });
      assert.ok(!doc.includes(`href="${p.paths.rotateSecret(c.client_id)}"`), `${c.token_endpoint_auth_method}: no Rotate secret`);
      assert.doesNotMatch(doc, /id="secrets-h"/, c.token_endpoint_auth_method);
    }
    assert.ok(PAGES[p.paths.client(clients[0]!.client_id)]!(admin, '').includes(`href="${p.paths.rotateSecret(clients[0]!.client_id)}"`), 'a secret client has it');
  });

  test('CO-05 the edit form of a public client has no authentication method or keys; the script is linked', () => {
    const mobile = clients[3]!;
    const doc = p.clientFormPage(admin, { kind: 'edit', clientId: mobile.client_id, values: p.clientFormValues(mobile), grants: ['authorization_code'], dialects: ['oauth2'], publicClient: true });
    for (const control of ['auth_method', 'jwks', 'jwks_uri', 'tls_subject_dn']) assert.doesNotMatch(doc, new RegExp(`name="${control}"`), control);
    assert.match(doc, /name="dpop_bound"/);
    assert.match(doc, new RegExp(`<script src="${assetUrl('console.js').replace(/[?.]/g, '\\$&')}" defer></script>`));
    // Posted without a method, an edit leaves the method as it is, and clears what only methods with keys or names hold.
    const parsed = p.parseClientForm(p.clientFormFromBody(new URLSearchParams({ name: 'Mobile app', grants: 'authorization_code' })), 'edit');
    assert.ok('input' in parsed);
    assert.equal('authMethod' in parsed.input, false);
    assert.deepEqual([parsed.input.jwks, parsed.input.jwksUri, parsed.input.tlsSubjectDn], [null, null, null]);
  });

  test('CO-05 a fapi2 client\'s form, where rotation shows off (it never rotates), does not store rotation off by being saved', () => {
    const parsed = p.parseClientForm(p.clientFormValues(keyedClient), 'edit');
    assert.ok('input' in parsed);
    assert.equal(keyedClient.refresh_token_rotation, false);
    assert.equal('refreshTokenRotation' in parsed.input, false);
    const dropped = p.parseClientForm({ ...p.clientFormValues(keyedClient), security_profile: 'none' }, 'edit');
    assert.ok('input' in dropped);
    assert.equal(dropped.input.refreshTokenRotation, false, 'without the profile the box says what it says');
  });

  test('OBJ-01 the client form keeps a metadata key named __proto__ or constructor, as the admin API does', () => {
    const values = { ...p.emptyClientForm(), name: 'x', metadata: '__proto__=a\nconstructor=b\ntoString=c' };
    const parsed = p.parseClientForm(values, 'create');
    assert.ok('input' in parsed);
    assert.deepEqual(Object.entries(parsed.input.metadata as object), [['__proto__', 'a'], ['constructor', 'b'], ['toString', 'c']]);
    assert.equal(Object.getPrototypeOf(parsed.input.metadata), Object.prototype);
  });

  test('the client form names each field it cannot read, and maps the service field names to its controls', () => {
    const values = { ...p.emptyClientForm(), name: 'x', ttl: '1.5', rate_limit: '-3', claims: '[1]', metadata: 'novalue', mode: 'prod' };
    assert.deepEqual(p.parseClientForm(values, 'create'), {
      errors: { ttl: 'a whole number, or empty for the deployment default', rate_limit: 'a whole number, or empty for the deployment default', claims: 'a JSON object, e.g. {"org_id": "acme"}', metadata: '"novalue" is not key=value', mode: 'live or sandbox' },
    });
    assert.equal(p.formFieldOf('scope'), 'scopes');
    assert.equal(p.formFieldOf('redirect_uri'), 'redirect_uris');
    const doc = p.clientFormPage(admin, { kind: 'create', values, errors: { scopes: 'bad scope' }, grants: ['client_credentials'], dialects: ['oauth2'] });
    assert.match(doc, /<a href="#f-scopes">Scopes<\/a>: bad scope/);
    assert.match(doc, /<textarea id="f-scopes" name="scopes" rows="3" spellcheck="false" aria-describedby="f-scopes-hint f-scopes-error" aria-invalid="true">/);
  });

  test('the one-time secret page shows the secret once, with a copy button the script reveals', () => {
    const doc = PAGES['/console/secret']!(admin, '');
    assert.equal(doc.split('ks_test_Q2hhbmdlTWVJbW1lZGlhdGVseQ').length, 2);
    assert.match(doc, /<button type="button" data-copy="secret-value" hidden>Copy secret<\/button>/);
    assert.match(doc, new RegExp(`<script src="${assetUrl('console.js').replace(/[?.]/g, '\\$&')}" defer></script>`));
  });

  test('line charts: round ceilings, newest point at the right edge, latest values in text', () => {
    assert.deepEqual([0, 0.3, 1, 7, 10, 11, 240, 1001].map(p.niceCeiling), [1, 1, 1, 10, 10, 20, 500, 2000]);
    assert.equal(points([0, 5, 10], 3, 10), '48.0,176.0 258.0,93.0 468.0,10.0');
    assert.equal(points([10], 3, 10), '468.0,10.0');
    const svg = p.lineChart({ id: 'c', title: 'T', series: [{ name: 'orum', values: [1, 2.5] }], stepSeconds: 2, unit: '/s' }).toString();
    assert.match(svg, /<desc id="c-desc">Last 2 seconds\. Latest: orum 2\.5\/s\.<\/desc>/);
    assert.match(svg, /<polyline class="line s0" data-series="orum" points="48.0,142.8 468.0,93.0"\/>/);
  });

  test('assets: versioned URLs cached for a year, others revalidated, unknown names absent', () => {
    const url = new URL(assetUrl('console.css'), 'http://x');
    const hit = assetResponse(url.pathname, url.search.slice(1))!;
    assert.equal(hit.status, 200);
    assert.deepEqual(hit.headers, { 'Content-Type': 'text/css;charset=utf-8', 'Cache-Control': 'public, max-age=31536000, immutable', ETag: `"${url.searchParams.get('v')}"`, 'X-Content-Type-Options': 'nosniff' });
    assert.equal(assetResponse('/console/assets/console.css', 'v=old')!.headers['Cache-Control'], 'no-cache');
    assert.equal(assetResponse('/console/assets/../index.ts', ''), undefined);
    assert.equal(assetResponse('/console/assets/index.ts', ''), undefined);
  });

  test('every page with its assets weighs under 200 KB', () => {
    for (const [path, doc] of render(admin)) assert.ok(Buffer.byteLength(doc) + assetBytes() < 200_000, path);
    assert.ok(assetBytes() < 30_000, `assets weigh ${assetBytes()} bytes`);
  });
});

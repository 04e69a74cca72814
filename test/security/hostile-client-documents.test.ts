/**
 * Hostile client ID metadata documents (`--client-id-metadata-documents`, docs/registration.md),
 * served from an https host on 127.0.0.1 (`--client-urls-allow-private`), and the authorization and
 * token requests that name them. A host that misbehaves (an error status, a redirect, a type that is
 * not JSON, too many bytes, bytes too slowly, a reset) and a document that breaks a rule (RG-03)
 * make the client unknown: the authorization endpoint's error page and the token endpoint's
 * `invalid_client`, within the fetch's deadline, the reason logged. A document that keeps the rules
 * gets the consent page, never more; a private_key_jwt document authenticates only with its real
 * key (inline or at a `jwks_uri` on the host) and a valid assertion. Never a 5xx; no markup from a
 * document on a page; no secret echoed or logged; nothing stored.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/harness.ts';
import { assertion, JWT_BEARER, keyPair } from '../support/sender.ts';
import {
  assertAlive, assertErrorShape, assertNoBidiControl, assertNoMarkupEchoed, assertNoSecret, assertNot5xx, assertNotLogged, assertRegistrableRedirectUri, assertSameStore, capturingLog, documentHost, HOSTILE_REDIRECT_URIS,
  hostileJwk, hostileJwt, hostileSegment, hostileString, hostileValue, parseJson, send, storeFingerprint, type DocumentHost,
} from '../support/hostile.ts';

const ISSUER = 'http://localhost:8080';
const REDIRECT = 'https://app.example/cb';
const VERIFIER = 'v'.repeat(43);
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
let s: TestServer;
let host: DocumentHost;
/** Every log line the server wrote, at debug level: refusals are logged with their reason; no secret may be among them (S-06). */
const logged = capturingLog();
let session: string;
let secrets: string[];
/** A public key a private_key_jwt document may carry. */
let clientJwk: Record<string, unknown>;

before(async () => {
  host = await documentHost();
  s = await startServer(
    { dialects: ['oauth2'], issuer: ISSUER, clientIdMetadataDocuments: 'true', clientUrlsAllowPrivate: 'true', lockoutThreshold: '1000', resources: ['https://api.example/v1=read,write'] },
    { log: logged.log },
  );
  session = (await s.keymint.sessions.create({ subject: 'user-1', subjectType: 'user' }, 'test')).sessionToken;
  secrets = [session];
  clientJwk = { ...(await keyPair('ES256', 'doc-1')).jwk };
});
after(async () => {
  await s.close();
  await host.close();
});

const fingerprint = () => storeFingerprint(s.dataDir);

/** A document that keeps every rule, for `url`. */
const validDocument = (url: string): Record<string, unknown> => ({
  client_id: url, client_name: 'Doc client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
});

const json = (body: string | Buffer, type = 'application/json') => (_req: unknown, res: ServerResponse) => void res.writeHead(200, { 'content-type': type }).end(body);

/** The authorization request of a signed-in user naming `clientId`, PKCE and all. */
function authorize(clientId: string, redirectUri: string) {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'read', state: 'st', code_challenge: CHALLENGE, code_challenge_method: 'S256' });
  return send(`${s.url}/oauth2/authorize?${query}`, { method: 'GET', headers: { cookie: `keymint_session=${session}` } });
}

/** A code redemption by `clientId` (a public client: no credentials) with a code nobody issued. */
function redeem(clientId: string, redirectUri: string) {
  const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code: 'km_ac_notacodeanyoneissued000000000000000000', redirect_uri: redirectUri, code_verifier: VERIFIER }).toString();
  return send(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

/** The authorization endpoint's page for a client it does not know (a refused document). */
function expectUnknownClientPage(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.equal(res.status, 400, `${what} → ${res.status} ${res.headers.get('location') ?? res.text.slice(0, 200)}`);
  assert.equal(res.headers.get('content-type'), 'text/html;charset=utf-8', what);
  assert.match(res.text, /The application is unknown or disabled\./, what);
}

/** The token endpoint's answer to a client it does not know: 401 invalid_client in the oauth2 shape. */
function expectInvalidClient(res: { status: number; headers: Headers; text: string }, what: string): void {
  assert.equal(res.status, 401, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
  const body = parseJson(res.text, what);
  assertErrorShape(body, what);
  assert.equal(body.error, 'invalid_client', what);
}

/** How a document host may misbehave; each makes the client unknown. */
const MISBEHAVING: Record<string, (url: string) => (req: unknown, res: ServerResponse) => void> = {
  'a 404': () => (_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end('{}'),
  'a 500': () => (_req, res) => void res.writeHead(500).end(),
  'a 204': () => (_req, res) => void res.writeHead(204).end(),
  'a redirect to a valid document': () => (_req, res) => void res.writeHead(302, { location: host.url('/valid.json') }).end(),
  'a 301 with the document as its body': (url) => (_req, res) => void res.writeHead(301, { location: host.url('/valid.json'), 'content-type': 'application/json' }).end(JSON.stringify(validDocument(url))),
  'the document as text/html': (url) => json(JSON.stringify(validDocument(url)), 'text/html'),
  'the document as text/plain': (url) => json(JSON.stringify(validDocument(url)), 'text/plain'),
  'the document without a content type': (url) => (_req, res) => void res.writeHead(200).end(JSON.stringify(validDocument(url))),
  'the document as application/jwt': (url) => json(JSON.stringify(validDocument(url)), 'application/jwt'),
  'HTML': () => json('<!doctype html><html><body>"<script>alert(1)</script></body></html>', 'text/html'),
  'not JSON': () => json('client_id=x'),
  'an empty body': () => json(''),
  'a JSON array': (url) => json(JSON.stringify([validDocument(url)])),
  'JSON null': () => json('null'),
  'a JSON string': (url) => json(JSON.stringify(url)),
  'a byte-order mark before the document': (url) => json(`\ufeff${JSON.stringify(validDocument(url))}`),
  'bytes that are not UTF-8': () => json(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
  'deep nesting': () => json(`${'['.repeat(2500)}${']'.repeat(2500)}`),
  'a declared length past the limit': (url) => (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-length': '6000' }).end(JSON.stringify({ ...validDocument(url), pad: 'x'.repeat(6000 - JSON.stringify(validDocument(url)).length - 10) })),
  'a chunked body past the limit': (url) => (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(JSON.stringify(validDocument(url)).slice(0, -1));
    res.end(`,"pad":"${'x'.repeat(200_000)}"}`);
  },
  'headers that never come': () => () => {},
  'a body that never ends': (url) => (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).write(JSON.stringify(validDocument(url)).slice(0, 20)),
  'a body one byte at a time past the deadline': (url) => (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const bytes = Buffer.from(JSON.stringify(validDocument(url)));
    let i = 0;
    const timer = setInterval(() => (i < bytes.length && !res.destroyed ? res.write(bytes.subarray(i, ++i)) : (clearInterval(timer), res.end())), 100);
  },
  'a connection reset mid-body': (url) => (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
    res.write(JSON.stringify(validDocument(url)).slice(0, 30), () => res.socket?.destroy());
  },
};

/** The hosts above that only the fetch's deadline ends. */
const ENDLESS = new Set(['headers that never come', 'a body that never ends', 'a body one byte at a time past the deadline']);

test('S-08 RG-03 a document host that misbehaves (error status, redirect, not JSON, too big, too slow, reset) makes the client unknown within the fetch deadline, the reason logged, nothing stored', async () => {
  host.serve('/valid.json', json(JSON.stringify(validDocument(host.url('/valid.json')))));
  const before = fingerprint();
  // One at a time would take the slow ones' 3 s each; they are independent URLs.
  await Promise.all(
    Object.entries(MISBEHAVING).map(async ([name, make], i) => {
      const path = `/misbehaving/${i}.json`;
      const url = host.url(path);
      host.serve(path, make(url));
      const what = `${name} (${path})`;
      const page = await authorize(url, REDIRECT);
      expectUnknownClientPage(page, what);
      assertNoMarkupEchoed(page.text, page.headers, what);
      expectInvalidClient(await redeem(url, REDIRECT), what);
      assert.equal(host.hits(path), 1, `${what}: a refusal is cached, not fetched again at once`);
      assert.ok(logged.lines.some((l) => l.includes('client metadata document refused') && l.includes(JSON.stringify(url))), `${what}: the refusal is logged with the document's URL`);
      // Not a wall-clock bound (a loaded machine stretches every answer): a host that never finishes
      // is given up on by the fetch's deadline, which is shorter than the ~20 s the byte-at-a-time
      // host takes to send a valid document (a later deadline would accept it).
      if (ENDLESS.has(name)) assert.ok(logged.lines.some((l) => l.includes('client metadata document refused') && l.includes(JSON.stringify(url)) && l.includes('timed out')), `${what}: refused by the fetch deadline`);
    }),
  );
  assert.equal(host.hits('/valid.json'), 0, 'a redirect is not followed');
  assertSameStore(fingerprint(), before, 'misbehaving hosts');
  // The control: the same document, served properly, is a client that reaches the consent page.
  const ok = await authorize(host.url('/valid.json'), REDIRECT);
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  assert.match(ok.text, /Doc client \(127\.0\.0\.1:\d+\)/, 'the consent page names the document\'s host beside its name');
  await assertAlive(s.url);
});

const DOCUMENT_FIELDS = ['client_id', 'client_name', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'scope', 'jwks', 'jwks_uri', 'client_secret', 'client_secret_expires_at', 'client_uri', 'logo_uri', '__proto__', 'constructor', 'toString'];

/** Values of the right JSON type for some member that are wrong all the same (`URL` stands for the document's own URL). */
const DOCUMENT_VALUES = (url: string): unknown[] => [
  ...HOSTILE_REDIRECT_URIS.map((u) => [u]), HOSTILE_REDIRECT_URIS.slice(0, 11), [REDIRECT, REDIRECT], [], Array.from({ length: 11 }, (_, i) => `${REDIRECT}${i}`),
  `${url}/`, `${url}#`, `${url}?`, url.toUpperCase(), url.replace('127.0.0.1', '127.000.000.001'), url.replace('https:', 'http:'), 'https://evil.example/client.json', ` ${url}`, encodeURI(url).replace('/', '%2F'),
  ['authorization_code'], ['refresh_token'], ['client_credentials'], ['implicit'], ['code'], ['token'], ['code', 'token'],
  'none', 'private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'read', 'read write keymint:admin', 'keymint:admin', 'openid',
  '"<script>alert(1)</script>', `<img src=x onerror=alert(1)>`, 'x'.repeat(101), 'a\u0000b', '\u202eevil', 'lanigiro\u202e', 'a\u2066b', '\ud800',
  { keys: [] }, { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, { keys: 'x' }, 'https://app.example/jwks.json', 'javascript:alert(1)', 'http://127.0.0.1/jwks.json', 'not a url', '',
  { polluted: true, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['javascript:alert(1)'] }, 'secret', 0,
];

/**
 * A document for the URL it will be served at (each run serves a fresh one: refusals are cached):
 * valid but for one to three hostile members, set as JSON.parse would set them (`__proto__` an own
 * key); or raw text with duplicate names, which JSON.stringify would not write.
 */
const hostileDocument: fc.Arbitrary<(url: string) => string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        names: fc.array(fc.constantFrom(...DOCUMENT_FIELDS), { minLength: 1, maxLength: 3 }),
        values: fc.array(fc.oneof({ arbitrary: fc.nat().map((i) => ({ pick: i })), weight: 4 }, hostileValue, fc.array(hostileString, { minLength: 1, maxLength: 3 }), hostileJwk.map((k) => ({ keys: [k] }))), { minLength: 3, maxLength: 3 }),
        keyed: fc.constantFrom(undefined, 'jwks_uri', 'jwks'),
        jwksUri: fc.constantFrom('https://app.example/jwks.json', '', 'not a url', 'javascript:alert(1)', 'http://app.example/jwks.json', 'https://u:p@app.example/jwks.json', 'https://app.example/jwks.json#k', '/jwks.json'),
      })
      .map(({ names, values, keyed, jwksUri }) => (url: string) => {
        const choices = DOCUMENT_VALUES(url);
        const keys = keyed === 'jwks_uri' ? { jwks_uri: jwksUri } : { jwks: { keys: [clientJwk] } };
        const doc: Record<string, unknown> = { ...validDocument(url), ...(keyed === undefined ? {} : { token_endpoint_auth_method: 'private_key_jwt', ...keys }) };
        for (const [i, name] of names.entries()) {
          const v = values[i];
          const value = v !== null && typeof v === 'object' && 'pick' in v && typeof v.pick === 'number' ? choices[v.pick % choices.length] : v;
          Object.defineProperty(doc, name, { value, enumerable: true, writable: true, configurable: true });
        }
        return JSON.stringify(doc);
      }),
  },
  fc.constantFrom<(url: string) => string>(
    (url) => `{"client_id":"https://evil.example/c.json",${JSON.stringify(validDocument(url)).slice(1)}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"client_id":"https://evil.example/c.json"}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"redirect_uris":["javascript:alert(1)"]}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"client_secret":null}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"__proto__":{"client_secret":"x","trusted":true}}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"redirect_uris":{"0":"${REDIRECT}","length":1}}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"client_name":"\\ud800\\u0000"}`,
    (url) => `${JSON.stringify(validDocument(url)).slice(0, -1)},"scope":1e999}`,
  ),
);

/**
 * Whether `doc` keeps the rules a consent page depends on, judged from the document alone: its
 * `client_id` is its URL, it holds no secret, and `redirectUri` is among its redirect URIs.
 */
function mayConsent(doc: Record<string, unknown>, url: string, redirectUri: string): boolean {
  return doc.client_id === url && !('client_secret' in doc) && Array.isArray(doc.redirect_uris) && doc.redirect_uris.includes(redirectUri) && keysUsable(doc);
}

/** A private_key_jwt document names its keys at an https URL (as RFC 7591 registration requires) or inline. */
function keysUsable(doc: Record<string, unknown>): boolean {
  if (doc.token_endpoint_auth_method !== 'private_key_jwt') return true;
  if (doc.jwks !== undefined) return doc.jwks_uri === undefined;
  const uri = typeof doc.jwks_uri === 'string' ? URL.parse(doc.jwks_uri) : null;
  return uri !== null && uri.protocol === 'https:' && uri.username === '' && uri.password === '' && uri.hash === '' && !String(doc.jwks_uri).includes('#');
}

test('S-08 RG-03 hostile documents (wrong types, another client_id, secrets, prototype keys, bad redirect URIs, junk keys, duplicate names) and the requests naming them: the consent page only for a document that keeps the rules, else an error page or invalid_client, never a code', async () => {
  const before = fingerprint();
  let n = 0;
  let consents = 0;
  let refusals = 0;
  const request = fc.record({ document: hostileDocument, redirect: fc.oneof({ arbitrary: fc.constant(REDIRECT), weight: 3 }, fc.constantFrom(...HOSTILE_REDIRECT_URIS)) });
  await fc.assert(
    fc.asyncProperty(request, async ({ document, redirect }) => {
      const path = `/generated/${n++}.json`;
      const url = host.url(path);
      const body = document(url);
      host.serve(path, json(body));
      const doc = JSON.parse(body) as Record<string, unknown>;
      const what = `${path} ${body.slice(0, 400)} (redirect_uri ${JSON.stringify(redirect.slice(0, 100))})`;
      const page = await authorize(url, redirect);
      assertNot5xx(page.status, what);
      assertNoMarkupEchoed(page.text, page.headers, what);
      assertNoSecret(page.text, page.headers, secrets, what);
      if (page.status === 200) {
        assert.ok(mayConsent(doc, url, redirect), `${what}: a consent page for a document that breaks the rules`);
        assertRegistrableRedirectUri(redirect, what);
        assertNoBidiControl(page.text, what);
        assert.match(page.text, /You will be sent back to <code>(https?:\/\/[^<]+|[a-z][a-z0-9+.-]*:)<\/code>\./, `${what}: the page says where the user goes`);
        assert.match(page.text, /<strong>(?:[^<]* \()?127\.0\.0\.1:\d+\)?<\/strong>/, `${what}: the consent page names the document's host`);
        consents++;
      } else if (page.status === 302) {
        // An error sent back to the client: only to a redirect URI its document lists and a live client may use.
        const location = page.headers.get('location') ?? '';
        assert.ok(mayConsent(doc, url, redirect) && location.startsWith(redirect), `${what}: redirected to ${location.slice(0, 200)}`);
        assertRegistrableRedirectUri(redirect, what);
        assert.ok(new URL(location).searchParams.get('error'), `${what}: an error redirect`);
        assert.equal(new URL(location).searchParams.get('code'), null, `${what}: never a code`);
      } else {
        assert.equal(page.status, 400, `${what} → ${page.status}`);
        assert.equal(page.headers.get('content-type'), 'text/html;charset=utf-8', what);
        refusals++;
      }
      const token = await redeem(url, redirect);
      assertNot5xx(token.status, what);
      assertNoSecret(token.text, token.headers, secrets, what);
      const answer = parseJson(token.text, what);
      assertErrorShape(answer, what);
      // A public client's junk code is invalid_grant; a client that does not exist, or that must authenticate, is invalid_client.
      assert.ok((token.status === 400 && answer.error === 'invalid_grant') || (token.status === 401 && answer.error === 'invalid_client'), `${what}: token → ${token.status} ${token.text.slice(0, 200)}`);
      if (token.status === 400) assert.ok(mayConsent(doc, url, doc.redirect_uris && Array.isArray(doc.redirect_uris) ? String(doc.redirect_uris[0]) : ''), `${what}: a client from a document that breaks the rules`);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 150, seed: 20261214 },
  );
  assert.ok(consents > 0 && refusals > 0, `the documents reached both the consent page (${consents}) and the refusal (${refusals})`);
  await assertAlive(s.url);
});

/**
 * Whether `id` may name a document at all, judged here rather than by the code under test (RG-03):
 * https, a path, no fragment, no userinfo, no dot segments, no other spelling of itself.
 */
function mayBeDocumentId(id: string): boolean {
  const url = URL.parse(id);
  return id.length <= 512 && id.startsWith('https://') && url !== null && url.href === id && url.pathname !== '/' && !id.includes('#') && url.username === '' && url.password === '' && !/\/\.\.?(\/|$)/.test(url.pathname);
}

test('S-08 RG-03 hostile client ids near a document\'s URL (dot segments, fragments, userinfo, http, other spellings, junk paths): an error page and invalid_client; only an id that keeps the rules is fetched', async () => {
  const before = fingerprint();
  const origin = host.url('');
  const authority = origin.slice('https://'.length);
  const ids = fc.oneof(
    fc.constantFrom(
      `${origin}/a/../valid.json`, `${origin}/./valid.json`, `${origin}/%2e%2e/valid.json`, `${origin}/%2E/valid.json`, `${origin}/valid.json#`, `${origin}/valid.json#x`, `https://u:p@${authority}/valid.json`,
      `https://u@${authority}/valid.json`, `http://${authority}/valid.json`, `${origin}/`, origin, `HTTPS://${authority}/valid.json`, `${origin}\\valid.json`, `${origin}//valid.json`, `${origin}/valid.json?`,
      `${origin}/valid.json?a=b`, `${origin}/valid.json%00`, `${origin}/valid.json `, ` ${origin}/valid.json`, `${origin}/${'x'.repeat(600)}`, `https://[::1]:${authority.split(':')[1]}/valid.json`,
      `https://127.1:${authority.split(':')[1]}/valid.json`, `https://0x7f000001:${authority.split(':')[1]}/valid.json`, 'https://10.0.0.1/client.json', 'https://169.254.169.254/latest/meta-data', 'https://localhost/client.json', `${origin}/valid.json/`,
    ),
    fc.array(hostileSegment, { minLength: 1, maxLength: 3 }).map((segments) => `${origin}/${segments.join('/')}`),
  );
  await fc.assert(
    fc.asyncProperty(ids, async (id) => {
      const hits = host.hits();
      const what = JSON.stringify(id.slice(0, 200));
      const page = await authorize(id, REDIRECT);
      assertNot5xx(page.status, what);
      assertNoMarkupEchoed(page.text, page.headers, what);
      const token = await redeem(id, REDIRECT);
      assertNot5xx(token.status, what);
      if (host.hits() > hits) assert.ok(mayBeDocumentId(id), `${what}: fetched a client id that breaks the rules`);
      if (id === `${origin}/valid.json`) return; // a generated path may name the valid document
      expectUnknownClientPage(page, what);
      expectInvalidClient(token, what);
      assertSameStore(fingerprint(), before, what);
    }),
    { numRuns: 120, seed: 20261216 },
  );
  await assertAlive(s.url);
});

/**
 * Key sets a private_key_jwt document may name (inline, or at its `jwks_uri`) built around the
 * client's real public key: private members, another kid, duplicate kids, an alg or use that does
 * not fit, another curve, points that are not on the curve or not base64url, too-short RSA, junk.
 */
const HOSTILE_KEY_SETS = (jwk: Record<string, unknown>): Array<[string, unknown]> => [
  ['the real key', { keys: [jwk] }],
  ['the real key without kid', { keys: [{ ...jwk, kid: undefined }] }],
  ['the real key with a private member', { keys: [{ ...jwk, d: 'AAAA' }] }],
  ['the real key under another kid', { keys: [{ ...jwk, kid: 'other' }] }],
  ['the real key twice', { keys: [jwk, jwk] }],
  ['the real key, alg RS256', { keys: [{ ...jwk, alg: 'RS256' }] }],
  ['the real key, alg ES384', { keys: [{ ...jwk, alg: 'ES384' }] }],
  ['the real key, use enc', { keys: [{ ...jwk, use: 'enc' }] }],
  ['the real key, key_ops encrypt', { keys: [{ ...jwk, key_ops: ['encrypt'] }] }],
  ['the real key, crv P-384', { keys: [{ ...jwk, crv: 'P-384' }] }],
  ['a point off the curve', { keys: [{ ...jwk, y: jwk.x }] }],
  ['coordinates too short', { keys: [{ ...jwk, x: 'AA', y: 'AA' }] }],
  ['coordinates not base64url', { keys: [{ ...jwk, x: '!!!', y: '%%%' }] }],
  ['coordinates of the wrong type', { keys: [{ ...jwk, x: 7, y: ['a'] }] }],
  ['an Ed25519 key of junk', { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '!!!', kid: jwk.kid }] }],
  ['an Ed25519 key too short', { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', kid: jwk.kid }] }],
  ['an RSA key of zeros', { keys: [{ kty: 'RSA', n: 'A'.repeat(342), e: 'AQAB', kid: jwk.kid }] }],
  ['an RSA key with an empty exponent', { keys: [{ kty: 'RSA', n: `x${'A'.repeat(341)}`, e: '', kid: jwk.kid }] }],
  ['an RSA key with a huge exponent', { keys: [{ kty: 'RSA', n: `x${'A'.repeat(341)}`, e: 'A'.repeat(400), kid: jwk.kid }] }],
  ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: jwk.kid }] }],
  ['no keys', { keys: [] }],
  ['keys of the wrong type', { keys: { 0: jwk } }],
  ['a key that is an array', { keys: [[jwk]] }],
  ['kid of the wrong type', { keys: [{ ...jwk, kid: 7 }] }],
  ['a prototype key', JSON.parse(`{"keys":[${JSON.stringify(jwk)}],"__proto__":{"keys":[]}}`) as unknown],
  ['a hundred keys', { keys: Array.from({ length: 100 }, (_, i) => ({ ...jwk, kid: `k${i}` })) }],
];

/** The sets that hold the real key usably (RFC 7523 section 3: the audience is the token endpoint or the issuer). */
const AUTHENTICATES = ['the real key', 'the real key without kid', 'a prototype key'];

test('S-08 PJ-02 PJ-03 private_key_jwt documents with hostile keys (inline or at a jwks_uri on the host) and assertions naming them: invalid_client, or past authentication only with the real key and a valid assertion', async () => {
  // A verified assertion is spent whatever the request's outcome (RFC 7523 section 3): its jti may be added.
  const before = storeFingerprint(s.dataDir, ['replays']);
  const key = await keyPair('ES256', 'doc-1');
  const other = await keyPair('ES256', 'doc-1');
  const sets = HOSTILE_KEY_SETS({ ...key.jwk });
  let n = 0;
  let authenticated = 0;
  const request = fc.record({
    set: fc.nat({ max: sets.length - 1 }),
    where: fc.constantFrom('jwks', 'jwks_uri', 'jwks_uri as text/plain', 'jwks_uri that redirects', 'jwks_uri that is too big'),
    signer: fc.constantFrom('the key', 'the key', 'another key', 'junk'),
    junk: hostileJwt,
    aud: fc.constantFrom(`${ISSUER}/oauth2/token`, `${ISSUER}/oauth2/token`, ISSUER, 'https://evil.example/token'),
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ set, where, signer, junk, aud }) => {
      const [label, keys] = sets[set]!;
      const path = `/keyed/${n++}`;
      const url = host.url(`${path}/client.json`);
      const served = JSON.stringify(keys);
      host.serve(`${path}/jwks.json`, (_req, res) => {
        if (where === 'jwks_uri that redirects') return void res.writeHead(302, { location: host.url('/nowhere') }).end();
        const body = where === 'jwks_uri that is too big' ? `${served.slice(0, -1)},"pad":"${'x'.repeat(70_000)}"}` : served;
        res.writeHead(200, { 'content-type': where === 'jwks_uri as text/plain' ? 'text/plain' : 'application/jwk-set+json' }).end(body);
      });
      const doc = { ...validDocument(url), token_endpoint_auth_method: 'private_key_jwt', ...(where === 'jwks' ? { jwks: keys } : { jwks_uri: host.url(`${path}/jwks.json`) }) };
      host.serve(`${path}/client.json`, json(JSON.stringify(doc)));
      const clientAssertion = signer === 'junk' ? junk : await assertion(signer === 'the key' ? key : other, { clientId: url, aud });
      const body = new URLSearchParams({
        grant_type: 'authorization_code', code: 'km_ac_notacodeanyoneissued000000000000000000', redirect_uri: REDIRECT, code_verifier: VERIFIER,
        client_id: url, client_assertion_type: JWT_BEARER, client_assertion: clientAssertion,
      }).toString();
      const res = await send(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      const what = `${label} as ${where}, signed by ${signer} for ${aud}`;
      assertNot5xx(res.status, what);
      assertNoSecret(res.text, res.headers, secrets, what);
      const answer = parseJson(res.text, what);
      assertErrorShape(answer, what);
      if (res.status === 400 && answer.error === 'invalid_grant') {
        // Authenticated: only the real key, signing a valid assertion for the token endpoint, gets here.
        assert.ok(signer === 'the key' && aud !== 'https://evil.example/token' && AUTHENTICATES.includes(label), `${what}: authenticated → ${res.text.slice(0, 200)}`);
        assert.ok(where === 'jwks' || where === 'jwks_uri' || where === 'jwks_uri as text/plain', `${what}: keys from a host that misbehaved`);
        authenticated++;
      } else {
        assert.deepEqual([res.status, answer.error], [401, 'invalid_client'], `${what}: ${res.text.slice(0, 200)}`);
      }
      assertSameStore(storeFingerprint(s.dataDir, ['replays']), before, what);
    }),
    { numRuns: 150, seed: 20261215 },
  );
  assert.ok(authenticated > 0, 'some requests got past authentication: the property reached the grant behind it');
  await assertAlive(s.url);
});

test('RG-03 a document that turns hostile after its client was given tokens: the next refresh is invalid_client and spends nothing; once the document is sound again the same refresh token works', async (t) => {
  let clock = Date.now();
  const timed = await startServer(
    { dialects: ['oauth2'], issuer: ISSUER, clientIdMetadataDocuments: 'true', clientUrlsAllowPrivate: 'true', resources: ['https://api.example/v1=read,write'] },
    { log: logged.log, now: () => clock },
  );
  t.after(() => timed.close());
  const user = (await timed.keymint.sessions.create({ subject: 'user-2', subjectType: 'user' }, 'test')).sessionToken;
  secrets.push(user);
  const url = host.url('/turns/client.json');
  let document = JSON.stringify(validDocument(url));
  host.serve('/turns/client.json', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(document));
  // The code flow as a browser does it: the consent page, approval, the code at the token endpoint.
  const query = new URLSearchParams({ response_type: 'code', client_id: url, redirect_uri: REDIRECT, scope: 'read', code_challenge: CHALLENGE, code_challenge_method: 'S256' });
  const page = await send(`${timed.url}/oauth2/authorize?${query}`, { method: 'GET', headers: { cookie: `keymint_session=${user}` } });
  assert.equal(page.status, 200, page.text.slice(0, 200));
  const fields = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
  const approved = await send(`${timed.url}/oauth2/authorize`, { method: 'POST', headers: { cookie: `keymint_session=${user}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, decision: 'approve' }).toString() });
  const code = new URL(approved.headers.get('location') ?? 'x:').searchParams.get('code');
  assert.ok(code, `a code: ${approved.status} ${approved.headers.get('location')}`);
  const form = (f: Record<string, string>) => send(`${timed.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: url, ...f }).toString() });
  const issued = await form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
  assert.equal(issued.status, 200, issued.text);
  const tokens = parseJson(issued.text, 'tokens');
  const refresh = String(tokens.refresh_token);
  assert.match(refresh, /./, 'a refresh token');
  secrets.push(refresh, String(tokens.access_token));
  for (const [what, hostile] of [
    ['another client_id', JSON.stringify({ ...validDocument(url), client_id: host.url('/other.json') })],
    ['a secret', JSON.stringify({ ...validDocument(url), client_secret: 'x' })],
    ['no code flow', JSON.stringify({ ...validDocument(url), grant_types: ['refresh_token'] })],
    ['not JSON', '<html>'],
  ] as const) {
    document = hostile;
    clock += 301_000; // past the 5 minutes a sound document is kept
    const before = storeFingerprint(timed.dataDir);
    const res = await form({ grant_type: 'refresh_token', refresh_token: refresh });
    expectInvalidClient(res, `refresh after the document turned to ${what}`);
    assertNoSecret(res.text, res.headers, secrets, what);
    assertSameStore(storeFingerprint(timed.dataDir), before, `refresh after the document turned to ${what}`);
    document = JSON.stringify(validDocument(url));
    clock += 31_000; // past the 30 s a refusal is kept
  }
  const renewed = await form({ grant_type: 'refresh_token', refresh_token: refresh });
  assert.equal(renewed.status, 200, `the sound document's client refreshes with the token it kept: ${renewed.text.slice(0, 200)}`);
  secrets.push(String(parseJson(renewed.text, 'refresh').refresh_token), String(parseJson(renewed.text, 'refresh').access_token));
});

test('S-06 nothing the hostile documents and requests above carried reached the server\'s log: no session', () => {
  assertNotLogged(logged.lines, secrets);
});

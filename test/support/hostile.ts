/**
 * Hostile input for the property tests of every HTTP surface (test/security/hostile-*.test.ts):
 * fast-check generators of strings, values, JSON and form bodies, content types, base64url, JWTs,
 * JWKs, percent-encoding and methods; and the checks every error answer shares (a 4xx, no secret
 * echoed, the server still answers, nothing in the store changed).
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import fc from 'fast-check';
import { createLogger, type Logger } from '../../src/util/log.ts';
import type { CryptoKey, JWK } from 'jose';
import { request, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';

/** Strings a parser trips on: lone surrogates, NUL, RTL overrides, `%` that does not decode, prototype names, huge. */
export const NASTY_STRINGS = [
  '', ' ', '%', '%zz', '%E0%A4%A', '%00', '+', '&', '=', '\ud800', '\udfff', 'a\ud800b', '\u0000', 'a\u0000b', '\u202e\u0645abc',
  '\ufeff', '"<script>', '../..', '..%2F', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '1e400', '-0', 'null', 'true',
  'x'.repeat(3000),
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 1 },
);

/** Names a bag may carry: the endpoint's own, prototype names, and random ones. */
export const hostileKey = (names: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof({ arbitrary: fc.constantFrom(...names, '__proto__', 'constructor', 'prototype', 'toString'), weight: 4 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 });

/** Numbers where a count, a duration or a limit belongs: negative, fractional, past 2^53, past Date's range, past a double's. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, 1.5, -0, 1e-300, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 8.64e15, 1e21, 1e308, -1e308, Number.MAX_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
);

/** A JSON value of the wrong kind as often as the right one: numbers where strings belong, arrays for scalars, huge integers. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 4 },
  fc.constantFrom(null, true, false),
  hostileNumber,
  fc.array(hostileString, { maxLength: 3 }),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'a', 'keys', 'kty'), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxKeys: 3 }),
);

/** An object of `names` (and others) with hostile values; `fixed` entries are set as given (a valid grant type, a real id). */
export const hostileBag = (names: readonly string[], fixed: fc.Arbitrary<Record<string, unknown>> = fc.constant({})): fc.Arbitrary<Record<string, unknown>> =>
  fc.tuple(fc.dictionary(hostileKey(names), hostileValue, { maxKeys: 6 }), fixed).map(([bag, f]) => {
    const out: Record<string, unknown> = {};
    // defineProperty: `__proto__` stays an own key, as JSON.parse would make it.
    for (const [k, v] of [...Object.entries(bag), ...Object.entries(f)]) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });

/** A form body from a bag: each value as the caller's library would stringify it, arrays as repeated names. */
export function formOf(bag: Record<string, unknown>): string {
  const parts: string[] = [];
  const enc = (s: string) => (s.isWellFormed() ? encodeURIComponent(s) : '%ED%A0%80'); // a lone surrogate as its raw bytes
  for (const [k, v] of Object.entries(bag)) {
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${enc(k)}=${typeof item === 'string' ? enc(item) : enc(JSON.stringify(item) ?? '')}`);
  }
  return parts.join('&');
}

/** Raw bodies no serializer makes: broken JSON, duplicated names, deep nesting, raw bytes, bad `%`. */
export const RAW_BODIES = [
  '', '{', '}', '[]', 'null', '0', '"x"', '{"a":1,"a":2}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`, `{"a":${'{"a":'.repeat(2000)}1${'}'.repeat(2001)}`, '{"a":1e99999}', '{"a":123456789012345678901234567890}',
  'a=1&a=2', '=', '&&&', '%', '%zz=1', 'a=%E0%A4%A', 'a=%ED%A0%80', '\u0000', 'a\u0000=b', '\ufeff{}', '{"a":"\\ud800"}',
];

const utf8Invalid = Buffer.from([0xff, 0xfe, 0x25, 0x7b]);

/** A body: JSON of a bag, a form of it, a raw one, or bytes that are not UTF-8. */
export const hostileBody = (bag: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    bag.map((b) => JSON.stringify(b)),
    bag.map(formOf),
    fc.tuple(bag, bag).map(([a, b]) => `${formOf(a)}&${formOf(b)}`),
    fc.constantFrom<string | Buffer>(...RAW_BODIES, utf8Invalid),
    fc.string({ maxLength: 60 }),
  );

export const hostileContentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined, '', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=latin1',
  'application/x-www-form-urlencoded;charset=', 'multipart/form-data; boundary=x', 'APPLICATION/JSON', 'application/jwt', '*/*',
);

/** base64url that does not decode to what it claims: junk characters, padding, wrong lengths, JSON that is not an object. */
export const hostileB64 = fc.oneof(
  fc.constantFrom('', '=', '====', '!!!', 'e30', 'bnVsbA', 'W10', 'IiI', 'eyJhbGciOiJub25lIn0', 'eyJhbGciOiJIUzI1NiJ9', 'AAAA+/==', '\u0000', '\ud800', 'x'.repeat(4000)),
  fc.string({ maxLength: 20 }).map((s) => Buffer.from(s).toString('base64url')),
  fc.dictionary(hostileKey(['alg', 'typ', 'jwk', 'kid', 'x5c', 'jku', 'crit', 'b64']), hostileValue, { maxKeys: 4 }).map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
);

/** JWKs that are not keys: private members, wrong types, missing members, symmetric, huge exponents. */
export const hostileJwk: fc.Arbitrary<unknown> = fc.oneof(
  hostileValue,
  fc.constantFrom(
    { kty: 'oct', k: 'AAAA' },
    { kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB' },
    { kty: 'RSA', n: '', e: '' },
    { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' },
    { kty: 'EC', crv: 'P-999', x: 1, y: [] },
    { kty: 'OKP', crv: 'Ed25519', x: '!!!' },
    { kty: 'RSA', n: 'A'.repeat(5000), e: 'AQAB' },
    { kty: ['RSA'] },
    {},
  ),
  fc.dictionary(hostileKey(['kty', 'crv', 'x', 'y', 'n', 'e', 'd', 'k', 'alg', 'use', 'key_ops']), hostileValue, { maxKeys: 5 }),
);

/**
 * Redirect URIs a client may try to register: schemes that run content, fragments, userinfo,
 * relative references, `localhost` (sandbox only), control characters, odd spellings of loopback
 * hosts, huge; and a few that are fine (a loopback literal, a private-use scheme), so some get through.
 */
export const HOSTILE_REDIRECT_URIS = [
  'javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'vbscript:x', 'about:blank', 'blob:https://app.example/x',
  'https://app.example/cb#frag', 'https://app.example/cb#', 'https://user:pw@app.example/cb', 'https://@app.example/cb', 'https://', 'https:app.example', '/relative/cb', 'app.example/cb', '',
  'http://localhost/cb', 'http://localhost:8080/cb', 'http://app.example/cb', 'http://10.0.0.1/cb', 'http://0x7f.1/cb', 'http://127.1/cb', 'myapp://cb', 'urn:ietf:wg:oauth:2.0:oob',
  'https://app.example/cb\n', ' https://app.example/cb', 'https://app.example/c b', 'https://app.example/cb\u0000', 'https://app.example/%zz', 'https://[::1', 'https://app.example:99999/cb',
  'https://app.example/cb?x="<script>', 'https://\u00e1pp.example/cb', `https://app.example/${'x'.repeat(2100)}`,
  'http://127.0.0.1:7777/cb', 'http://[::1]/cb', 'com.example.app:/cb', 'https://app.example/cb',
];

/** Compact JWTs that do not verify: malformed segments, `alg: none`, hostile headers (jwk, kid, crit), junk signatures. */
export const hostileJwt: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(hostileB64, hostileB64, hostileB64).map((p) => p.join('.')),
  fc
    .tuple(fc.constantFrom('RS256', 'ES256', 'EdDSA', 'none', 'HS256', 'PS256', 7, null), fc.constantFrom('dpop+jwt', 'JWT', 'at+jwt', undefined), hostileJwk, hostileBagLite())
    .map(([alg, typ, jwk, claims]) => [{ alg, typ, jwk }, claims].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.') + '.' + 'AAAA'),
  fc.constantFrom('', '.', '..', '...', 'a.b', 'a.b.c.d', 'a.b.c.d.e', '\u0000.\u0000.\u0000'),
  hostileString,
);

function hostileBagLite(): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(hostileKey(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'htm', 'htu', 'ath', 'nonce', 'client_id', 'scope']), hostileValue, { maxKeys: 6 });
}

/** Claim values a verifier must not trust: wrong types, huge and negative numbers, empty and huge strings. */
export const HOSTILE_CLAIM_VALUES: readonly unknown[] = [
  null, true, 0, -1, 1.5, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER, '1', '', 'x'.repeat(3000), [], ['a', 'b'], {}, JSON.parse('{"__proto__":1}') as unknown, 'http://%zz', '\u0000', '\ud800',
];

/**
 * JWTs with a valid signature by `key` whose claims (or header members) are hostile: every claim of
 * `claims` replaced in turn by each of HOSTILE_CLAIM_VALUES, and the claims missing one by one.
 * Signed ahead of the property (signing is async), so a property picks from them.
 */
export async function signedHostileJwts(key: { privateKey: CryptoKey; alg: 'ES256' | string }, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string[]> {
  const variants: Array<[Record<string, unknown>, Record<string, unknown>]> = [];
  for (const name of Object.keys(claims)) {
    const { [name]: _dropped, ...without } = claims;
    variants.push([header, without]);
    for (const v of HOSTILE_CLAIM_VALUES) variants.push([header, { ...claims, [name]: v }]);
  }
  for (const name of ['typ', 'kid', 'crit', 'b64']) for (const v of HOSTILE_CLAIM_VALUES.slice(0, 8)) variants.push([{ ...header, [name]: v }, claims]);
  return Promise.all(variants.map(([h, c]) => signEs256({ ...h, alg: key.alg }, c, key.privateKey)));
}

/** A compact JWS signed with an ES256 key, header and claims as given (jose refuses to sign a hostile header). */
async function signEs256(header: Record<string, unknown>, claims: Record<string, unknown>, key: CryptoKey): Promise<string> {
  const input = [header, claims].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.');
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

export type { JWK };

/** Authorization header values: junk schemes, Basic that is not base64 or has no colon, Bearer with junk. */
export const hostileAuthorization = (known: { id: string; secret: string }): fc.Arbitrary<string | string[] | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('Basic', 'Basic ', 'Basic !!!', 'Basic Og==', 'Basic =', 'Bearer', 'Bearer ', 'Bearer a b', 'Digest x', 'basic   ', `Basic ${Buffer.from(`${known.id}`).toString('base64')}`, `Basic ${Buffer.from(`${known.id}:%zz`).toString('base64')}`),
    fc.tuple(hostileString, hostileString).map(([a, b]) => `Basic ${Buffer.from(`${a}:${b}`).toString('base64')}`),
    hostileJwt.map((t) => `Bearer ${t}`),
    fc.constant(`Basic ${Buffer.from(`${known.id}:${known.secret}`).toString('base64')}`).map((v): string[] => [v, v]),
  );

/** A path segment: bad percent-encoding, encoded slashes and dots, NUL, unicode, huge. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%2F', '%2e%2e', '..', '.', '%00', '%u0041', '%C0%AF', 'x'.repeat(2000), '', '__proto__', 'constructor', 'toString'),
  fc.string({ maxLength: 12 }).map((s) => (s.isWellFormed() ? encodeURIComponent(s) : '%ED%A0%80')),
);

/** A query string: bad percent-encoding, duplicates, huge, no `=`. */
export const hostileQuery = (names: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.tuple(hostileKey(names), hostileSegment), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')),
    fc.constantFrom('', '&', '=', '==', '%', 'a', 'a=1&a=1', `a=${'x'.repeat(6000)}`, '?', '#'),
  );

export const hostileMethod = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'get');

/** The request's headers, without undefined ones. */
export function headersOf(entries: Record<string, string | string[] | undefined>): [string, string][] {
  return Object.entries(entries).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])));
}

/**
 * With HOSTILE_STATS=1, how often each answer came (by path, method, status, error and its text),
 * printed at exit: to see how deep a generator reaches, past decoding into the checks behind it.
 */
const STATS = process.env.HOSTILE_STATS ? new Map<string, number>() : undefined;
if (STATS) process.on('exit', () => process.stderr.write([...STATS].sort().map(([k, v]) => `${v}\t${k}\n`).join('')));

function count(stats: Map<string, number>, path: string, method: string, status: number, text: string): void {
  const error = /"error":"([^"]*)"/.exec(text)?.[1] ?? '';
  const description = /"error_description":"([^"]*)"/.exec(text)?.[1] ?? /<h1[^>]*>([^<]*)/.exec(text)?.[1] ?? '';
  const key = `${path.split('/').slice(0, 3).join('/').slice(0, 60)} ${method} ${status} ${error} ${description.slice(0, 70)}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
}

/**
 * Sends one request through node:http (fetch refuses methods like TRACE and rewrites some paths):
 * the path as given, duplicate header names kept, redirects not followed.
 */
export function send(url: string, init: { method: string; headers?: Record<string, string | string[] | undefined>; body?: string | Buffer }): Promise<{ status: number; headers: Headers; text: string }> {
  const target = new URL(url);
  const raw: string[] = ['host', target.host];
  for (const [k, v] of headersOf(init.headers ?? {})) raw.push(k, toByteString(v));
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  if (body !== undefined) raw.push('content-length', String(body.length));
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method: init.method, path: url.slice(url.indexOf('/', url.indexOf('//') + 2)), headers: raw, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const text = Buffer.concat(chunks).toString('utf8');
        if (STATS) count(STATS, target.pathname, init.method, res.statusCode ?? 0, text);
        resolve({ status: res.statusCode ?? 0, headers, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A header value as the bytes a client would put on the wire (fetch refuses non-Latin-1 characters). */
const toByteString = (s: string): string => Buffer.from(s.isWellFormed() ? s : s.toWellFormed(), 'utf8').toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, ' ');

/** Fails when any of `secrets` appears in the answer. */
export function assertNoSecret(text: string, headers: Headers, secrets: readonly string[], what: string): void {
  const all = `${text}\n${[...headers].map(([k, v]) => `${k}: ${v}`).join('\n')}`;
  for (const s of secrets) assert.ok(!all.includes(s), `${what}: the answer echoes a secret`);
}

/**
 * A fingerprint of everything a request could change in a SQLite store: each table's rows, except
 * tables in `skip` and a secret's last-use mark (written by every successful authentication, by design).
 */
export function storeFingerprint(dataDir: string, skip: readonly string[] = []): Record<string, string> {
  const db = new DatabaseSync(join(dataDir, 'keymint.db'), { readOnly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    const out: Record<string, string> = {};
    for (const t of tables) {
      if (skip.includes(t)) continue;
      const rows = db.prepare(`SELECT * FROM "${t}"`).all();
      out[t] = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v)).replace(/\\"lastUsedAt\\":(?:\d+|null)/g, '');
    }
    return out;
  } finally {
    db.close();
  }
}

/** Fails naming the tables whose rows differ (the rows themselves hold digests and sealed keys: not worth printing). */
export function assertSameStore(now: Record<string, string>, before: Record<string, string>, what: string): void {
  const changed = Object.keys({ ...now, ...before }).filter((t) => now[t] !== before[t]);
  assert.deepEqual(changed, [], `${what}: an error answer changed the store (${changed.map((t) => `${t}: ${now[t]?.slice(-300)}`).join('; ')})`);
}

/** Fails when an HTML answer carries markup the input brought (NASTY_STRINGS holds `"<script>`): every reflected value is escaped. */
export function assertNoMarkupEchoed(text: string, headers: Headers, what: string): void {
  if (!(headers.get('content-type') ?? '').startsWith('text/html')) return;
  assert.ok(!text.includes('"<script>') && !/<script>/i.test(text), `${what}: the page repeats markup from the request unescaped`);
}

/**
 * Fails when a page shows a bidirectional control (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069)
 * or a replaced lone surrogate: a name from a request could then make the page read as something else.
 */
export function assertNoBidiControl(text: string, what: string): void {
  assert.ok(!/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/.test(text), `${what}: the page shows a bidirectional control or a broken character`);
}

/** A logger at debug level that keeps every line, for a test to search for secrets (S-06). */
export function capturingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('debug', (line) => lines.push(line)), lines };
}

/** Fails naming the first secret found in the captured log lines (never printing it). */
export function assertNotLogged(lines: readonly string[], secrets: readonly string[]): void {
  assert.ok(lines.length > 0, 'the log captured something');
  const text = lines.join('');
  for (const [i, secret] of secrets.entries()) assert.ok(!text.includes(secret), `secret #${i} (${secret.slice(0, 6)}…) is in the log`);
}

/** Fails unless the server still answers a plain request. */
export async function assertAlive(base: string): Promise<void> {
  const res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200, 'the server still answers');
  await res.arrayBuffer();
}

/** The check of any answer: never a 5xx. */
export function assertNot5xx(status: number, what: string): void {
  assert.ok(status < 500, `${what} → ${status}`);
}

/** RFC 9110 §15.5.6: a 405 names the methods the resource takes. */
export function assertAllowOn405(res: { status: number; headers: Headers }, what: string): void {
  if (res.status === 405) assert.match(res.headers.get('allow') ?? '', /^[A-Z]+(, [A-Z]+)*$/, `${what}: a 405 without Allow`);
}

/** JSON of a body, or a failure naming what was expected. */
export function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what}: the body is a JSON object`);
    return v as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) assert.fail(`${what}: the body is not JSON: ${text.slice(0, 120)}`);
    throw err;
  }
}

/**
 * An OAuth-style error object (`error`, `error_description`, and only the members listed in `extra`).
 * `prose`: the description is Keymint's own text (the admin API), any printable characters; else
 * RFC 6749 §5.2's set.
 */
export function assertErrorShape(body: Record<string, unknown>, what: string, extra: readonly string[] = [], prose = false): void {
  assert.equal(typeof body.error, 'string', `${what}: error is a string (${JSON.stringify(body).slice(0, 200)})`);
  assert.match(String(body.error), /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, `${what}: error code characters`);
  if (body.error_description !== undefined) assert.match(String(body.error_description), prose ? /^[^\p{C}]+$/u : /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, `${what}: error_description characters`);
  for (const k of Object.keys(body)) assert.ok(['error', 'error_description', 'error_uri', ...extra].includes(k), `${what}: unexpected member ${k}`);
}

/** A document host: an https origin on 127.0.0.1 that serves, per path, what a test says. */
export interface DocumentHost {
  /** The https URL of `path` (which starts with `/`). */
  url(path: string): string;
  /** Answers requests for `path` with `handler` (unknown paths are 404). */
  serve(path: string, handler: RequestListener): void;
  /** How many requests `path` has had; without a path, every path's. */
  hits(path?: string): number;
  close(): Promise<void>;
}

/**
 * An https server on 127.0.0.1 for the documents a client names (client ID metadata documents, a
 * `jwks_uri`), hostile ones included, with a fresh self-signed certificate that this process
 * trusts from now on: Keymint runs in-process and fetches with the default CA store. It still
 * needs `--client-urls-allow-private` to reach a loopback address.
 */
export async function documentHost(): Promise<DocumentHost> {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-doc-host-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    setDefaultCACertificates([...getCACertificates('default'), cert]);
    const handlers = new Map<string, RequestListener>();
    const counts = new Map<string, number>();
    const server = createHttpsServer({ key, cert }, (req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const handler = handlers.get(path);
      if (handler) handler(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url: (path) => origin + path,
      serve: (path, handler) => void handlers.set(path, handler),
      hits: (path) => (path === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : counts.get(path) ?? 0),
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Fails unless `uri` is a redirect URI a live client may use (RED-01..03), judged here rather than
 * by the code under test: https, http on a loopback IP literal, or a private-use scheme in
 * reverse-domain form; no fragment, userinfo, whitespace or control characters.
 */
export function assertRegistrableRedirectUri(uri: unknown, what: string): void {
  const text = String(uri);
  const url = URL.parse(text);
  assert.ok(typeof uri === 'string' && url !== null && !text.includes('#') && url.username === '' && url.password === '' && !/[\s\u0000-\u001f\u007f]/.test(text), `${what}: redirect URI ${JSON.stringify(uri)}`);
  const loopback = ['127.0.0.1', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  assert.ok((url.protocol === 'https:' && url.hostname !== '') || (url.protocol === 'http:' && loopback) || /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol), `${what}: redirect URI scheme ${JSON.stringify(uri)}`);
}

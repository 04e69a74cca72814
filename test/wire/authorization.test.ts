/** The Authorization header reader every token-taking route shares (src/wire/authorization.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readCredentials } from '../../src/wire/authorization.ts';

const SCHEMES = ['Bearer', 'DPoP'] as const;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/';
/** b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 §2.1). */
const b64token = fc
  .tuple(fc.string({ unit: fc.constantFrom(...B64), minLength: 1 }), fc.nat({ max: 3 }))
  .map(([body, pad]) => body + '='.repeat(pad));
/** A scheme name in any case: schemes are case-insensitive (RFC 9110 §11.1). */
const spelling = (scheme: string) => fc.array(fc.boolean(), { minLength: scheme.length, maxLength: scheme.length }).map((up) => [...scheme].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
const spaces = fc.integer({ min: 1, max: 3 }).map((n) => ' '.repeat(n));

test('B-01 B-02 a scheme in any case, 1*SP and a b64token is read as that token, the scheme spelt as the route names it', () => {
  const scheme = fc.constantFrom(...SCHEMES).chain((name) => spelling(name).map((spelt) => ({ name, spelt })));
  fc.assert(
    fc.property(scheme, b64token, spaces, fc.constantFrom('', ' ', '\t '), ({ name, spelt }, token, sp, ows) => {
      assert.deepEqual(readCredentials([`${ows}${spelt}${sp}${token}${ows}`], SCHEMES), { kind: 'token', scheme: name, token });
    }),
  );
});

test('B-02 credentials of an accepted scheme that are not one b64token are malformed; so is more than one header', () => {
  const notB64 = fc.string({ minLength: 1 }).filter((s) => !/^ *[A-Za-z0-9\-._~+/]+=*[ \t]*$/.test(s));
  fc.assert(
    fc.property(fc.constantFrom(...SCHEMES), notB64, (scheme, junk) => {
      assert.deepEqual(readCredentials([`${scheme} ${junk}`], SCHEMES), { kind: 'malformed', scheme }, JSON.stringify(junk));
    }),
  );
  for (const value of ['Bearer', 'bearer a b', 'Bearer =abc', 'Bearer a=b', 'Bearer a,b', 'Bearer "a"', 'DPoP a\tb', 'Bearer é']) {
    assert.equal(readCredentials([value], SCHEMES).kind, 'malformed', value);
  }
  fc.assert(
    fc.property(fc.array(fc.string(), { minLength: 2, maxLength: 4 }), (values) => {
      assert.deepEqual(readCredentials(values, SCHEMES), { kind: 'malformed', scheme: undefined });
    }),
  );
});

test('B-02 no header is absent; a header of a scheme the route does not take is another scheme, whatever follows', () => {
  assert.deepEqual(readCredentials(undefined, SCHEMES), { kind: 'absent' });
  assert.deepEqual(readCredentials([], SCHEMES), { kind: 'absent' });
  for (const value of ['', 'Basic YTpi', 'Bearerx abc', 'Bearer\tabc', 'DPoPabc', 'Digest username="a"', 'Token abc', 'İ abc']) {
    assert.deepEqual(readCredentials([value], SCHEMES), { kind: 'other' }, value);
  }
  // A route taking Bearer alone sees DPoP as another scheme.
  assert.deepEqual(readCredentials(['DPoP abc'], ['Bearer']), { kind: 'other' });
});

test('B-02 any value: a token comes back only as the reference grammar reads it, and nothing throws', () => {
  const reference = /^[ \t]*(bearer|dpop) +([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
  const value = fc.oneof(fc.string(), fc.tuple(fc.constantFrom('Bearer ', 'dpop ', 'BEARER  ', 'Basic '), fc.string()).map(([a, b]) => a + b));
  fc.assert(
    fc.property(value, (v) => {
      const read = readCredentials([v], SCHEMES);
      const m = reference.exec(v);
      if (m) assert.deepEqual(read, { kind: 'token', scheme: m[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: m[2] });
      else assert.notEqual(read.kind, 'token', JSON.stringify(v));
    }),
    { numRuns: 2000 },
  );
});

/** Property tests for the shared decoding and the token/secret formats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { firstDuplicateKey, formUrlDecode, parseForm } from '../src/dialects/codec/params.ts';
import { newClientSecret, looksLikeClientSecret } from '../src/credentials/secrets.ts';
import { newClientId, parseClientId } from '../src/credentials/ids.ts';
import { opaqueFormat } from '../src/tokens/opaque.ts';
import { fuuffyShape } from '../src/dialects/fuuffy.ts';
import { parseScope } from '../src/protocol/scope.ts';

test('firstDuplicateKey: none in any JSON.stringify output; finds an injected duplicate at any depth', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.equal(firstDuplicateKey(JSON.stringify(v)), undefined);
    }),
  );
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.string(), (obj, key) => {
      const text = JSON.stringify(obj);
      const inner = `{${JSON.stringify(key)}:1,${JSON.stringify(key)}:2}`;
      assert.equal(firstDuplicateKey(`[${text},${inner}]`), key);
      assert.equal(firstDuplicateKey(`{"a":${inner}}`), key);
    }),
  );
});

test('parseForm never throws anything but OAuthError, and never yields a bag that inherits anything', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        const p = parseForm(s);
        // Its prototype is empty, frozen and has none itself: nothing to inherit, nothing to pollute.
        const proto = Object.getPrototypeOf(p) as object;
        assert.deepEqual(Reflect.ownKeys(proto), []);
        assert.equal(Object.getPrototypeOf(proto), null);
        assert.ok(Object.isFrozen(proto));
        for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.equal(name in p, Object.hasOwn(p, name));
      } catch (err) {
        assert.equal((err as Error).name, 'OAuthError');
      }
    }),
  );
});

test('parseForm reads a body that starts with ? as the form parser does: the ? belongs to the first name, with or without escapes', () => {
  assert.deepEqual({ ...parseForm('?grant_type=client_credentials') }, { '?grant_type': 'client_credentials' });
  assert.deepEqual({ ...parseForm('?grant_type=client%5Fcredentials&scope=a+b') }, { '?grant_type': 'client_credentials', scope: 'a b' });
  assert.deepEqual({ ...parseForm('?=x%21') }, { '?': 'x!' });
});

test('formUrlDecode inverts form encoding of any string, and returns undefined (not a throw) on bad %', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const wellFormed = s.isWellFormed();
      const encoded = new URLSearchParams({ v: s }).toString().slice(2);
      if (wellFormed) assert.equal(formUrlDecode(encoded), s);
    }),
  );
  assert.equal(formUrlDecode('100%'), undefined);
  assert.equal(formUrlDecode('%E0%A4%A'), undefined);
});

test('client secrets: only [A-Za-z0-9_], checksum catches every single-character typo', () => {
  for (let i = 0; i < 200; i++) {
    const s = newClientSecret();
    assert.ok(looksLikeClientSecret(s));
    const pos = 3 + (i % (s.length - 3));
    const typo = s.slice(0, pos) + (s[pos] === 'a' ? 'b' : 'a') + s.slice(pos + 1);
    assert.equal(looksLikeClientSecret(typo), false);
  }
});

test('client ids round-trip their mode and environment', () => {
  for (const environment of ['prod', 'dev', 'stg']) {
    for (const mode of ['live', 'sandbox'] as const) {
      const id = newClientId({ idPrefix: 'sk', environment }, mode);
      assert.match(id, /^[A-Za-z0-9_]+$/);
      assert.deepEqual(parseClientId({ idPrefix: 'sk', environment }, id), { environment, mode });
    }
  }
  assert.match(newClientId({ idPrefix: 'sk', environment: 'prod' }, 'live'), /^sk_live_/);
  assert.match(newClientId({ idPrefix: 'sk', environment: 'dev' }, 'sandbox'), /^sk_dev_sdbx_/);
  assert.equal(parseClientId({ idPrefix: 'sk', environment: 'prod' }, 'pk_live_AAAAAAAAAAAAAAAAAAAAAAAA'), undefined);
  assert.equal(parseClientId({ idPrefix: 'sk', environment: 'prod' }, 'sk_live_short'), undefined);
  // The same answer as the definition: prefix `_`, then at most one environment part, the mode's tag
  // and 24 base62 characters, all `_`-separated.
  const byParts = (prefix: string, id: string) => {
    if (!id.startsWith(`${prefix}_`)) return undefined;
    const parts = id.slice(prefix.length + 1).split('_');
    const random = parts.pop();
    const tag = parts.pop();
    if (random === undefined || !/^[0-9A-Za-z]{24}$/.test(random) || parts.length > 1) return undefined;
    const mode = tag === 'live' ? 'live' : tag === 'sdbx' ? 'sandbox' : undefined;
    const environment = parts[0] ?? 'prod';
    return mode && /^[a-z0-9]{1,16}$/.test(environment) ? { environment, mode } : undefined;
  };
  const random = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'Z', '0'), minLength: 23, maxLength: 25 }),
    fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_'), minLength: 23, maxLength: 25 }),
  );
  const piece = fc.oneof(fc.constantFrom('sk', 'km2', 'live', 'sdbx', 'prod', 'dev', '', 'Live', 'a'.repeat(16), 'a'.repeat(17), 'AbCdEfGhIjKlMnOpQrStUvWx'), fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '-'), maxLength: 26 }), random);
  fc.assert(
    fc.property(fc.constantFrom('sk', 'km2'), fc.oneof(fc.array(piece, { maxLength: 5 }), fc.tuple(fc.constantFrom('sk', 'km2'), piece, fc.constantFrom('live', 'sdbx', 'sdb'), random)), (prefix, pieces) => {
      const id = pieces.join('_');
      assert.deepEqual(parseClientId({ idPrefix: prefix, environment: 'prod' }, id), byParts(prefix, id), id);
    }),
    { numRuns: 5000 },
  );
});

test('D-03 opaque formats recognise their own tokens and reject altered ones before any lookup', () => {
  const polar = opaqueFormat({ kind: 'checksummed', prefix: 'polar_at_u_' });
  const fuuffyFormat = opaqueFormat(fuuffyShape);
  for (let i = 0; i < 100; i++) {
    const t = polar.mint();
    assert.match(t, /^polar_at_u_[0-9A-Za-z]{43}$/);
    assert.ok(polar.recognises(t));
    assert.equal(polar.recognises(`${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}`), false);
    const f = fuuffyFormat.mint();
    assert.match(f, /^sk-[0-9a-f]{32}$/);
    assert.ok(fuuffyFormat.recognises(f));
  }
});

test('T-07 parseScope: exactly the RFC 6749 §3.3 grammar', () => {
  assert.deepEqual(parseScope('a b:c d/e'), ['a', 'b:c', 'd/e']);
  assert.deepEqual(parseScope('a a'), ['a']);
  for (const bad of ['', ' a', 'a ', 'a  b', 'a\tb', 'é', '"', '\\']) assert.throws(() => parseScope(bad), { name: 'OAuthError' }, JSON.stringify(bad));
});

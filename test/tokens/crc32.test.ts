/**
 * The checksum of secrets and opaque tokens is CRC-32 computed in JavaScript (tokens/random.ts, to
 * spare loading node:zlib at start): it must equal zlib's for every string, ASCII or not, so every
 * secret and token issued before keeps its checksum.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { BASE62, checksum, crc32, hasValidChecksum, withChecksum } from '../../src/tokens/random.ts';

test('crc32 equals node:zlib crc32 over UTF-8 for any string', () => {
  for (const s of ['', 'a', '123456789', 'kmcs_0123456789abcdefghij', 'é', '✓', '😀', '\u0000\u007f\u0080\uffff']) assert.equal(crc32(s), zlibCrc32(s), JSON.stringify(s));
  // The standard check value of CRC-32/ISO-HDLC.
  assert.equal(crc32('123456789'), 0xcbf43926);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => crc32(s) === zlibCrc32(s)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), (s) => crc32(s) === zlibCrc32(s)), { numRuns: 2000 });
});

test('checksum is the CRC-32 as 6 base62 digits', () => {
  assert.equal(checksum('123456789'), '3jZRME');
  assert.equal(checksum(''), '000000');
});

test('hasValidChecksum holds exactly when the last 6 characters are the checksum of the rest', () => {
  assert.equal(hasValidChecksum('1234567893jZRME'), true);
  assert.equal(hasValidChecksum('1234567893jZRMF'), false);
  assert.equal(hasValidChecksum('000000'), false, 'too short to carry a checksum');
  assert.equal(hasValidChecksum('x000000'), checksum('x') === '000000');
  // Not a base62 digit, or spelling a number of 2^32 and more: never a checksum.
  assert.equal(hasValidChecksum('abc3jZRM-'), false);
  assert.equal(hasValidChecksum('abczzzzzz'), false);
  // The definition it stands for, over any body (non-ASCII ones too) and any suffix.
  const suffix = fc.string({ unit: fc.constantFrom(...BASE62, '-', '_', 'é'), minLength: 6, maxLength: 6 });
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), suffix, fc.boolean(), (body, tail, real) => {
      const value = real ? withChecksum(body) : body + tail;
      return hasValidChecksum(value) === (value.length >= 7 && checksum(value.slice(0, -6)) === value.slice(-6));
    }),
    { numRuns: 3000 },
  );
});

/**
 * A resource server sprayed with made-up opaque tokens: strings that fit no expected format are
 * refused without a network call; well-formed unknown ones are asked about once and their inactive
 * answer is kept briefly, in a cache bounded apart from the active answers.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { checksum, randomBase62, withChecksum } from '../../src/tokens/random.ts';
import { createVerifier, OPAQUE_FORMATS, VerifyError } from '../../src/verify/index.ts';
import { crc32Base62 } from '../../src/verify/opaque-formats.ts';
import { clock } from './fixtures.ts';
import { stubServer } from './stub.ts';

const ISSUER = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const exp = Math.floor(Date.now() / 1000) + 3600;
const GOOD = withChecksum(`polar_at_u_${randomBase62(37)}`);
const stub = await stubServer((req) => {
  const token = new URLSearchParams(req.body).get('token');
  return { status: 200, body: token === GOOD ? { active: true, client_id: 'c1', exp, iss: ISSUER, aud: AUD } : { active: false } };
});
after(() => stub.close());
const introspection = { endpoint: `${stub.url}/oauth2/introspect`, clientId: 'rs', clientSecret: 'secret' };
const refused = (p: Promise<unknown>) => assert.rejects(p, (e: unknown) => e instanceof VerifyError && e.code === 'invalid_token');

test('VER-01 a spray of strings that fit no expected format is refused locally: no introspection call', async () => {
  const c = clock();
  const verifier = createVerifier({ issuer: ISSUER, audience: AUD, jwksUri: `${ISSUER}/jwks`, now: c.now, introspection });
  const before = stub.requests.length;
  const body = withChecksum(`km_at_${randomBase62(37)}`).slice(6);
  const junk = [
    'x', 'sk-', `sk-${'A'.repeat(32)}`, `sk-${'0'.repeat(31)}`, `sk-${'0'.repeat(33)}`, `sk_${'0'.repeat(32)}`,
    `km_at_${body.slice(0, -1)}${body.at(-1) === 'A' ? 'B' : 'A'}`, // checksum off by one character
    `km_at_${body}x`, `polar_at_x_${body}`, `polar_at_u_${body.slice(0, -6)}`, `km_at_${body.slice(0, 20)}-${body.slice(21)}`,
  ];
  for (const t of junk) await refused(verifier.verify(t));
  await fc.assert(
    fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80 }).filter((s) => /^[A-Za-z0-9._~+/-]+=*$/.test(s) && s.split('.').length !== 3), async (t) => {
      await refused(verifier.verify(t));
    }),
    { numRuns: 500 },
  );
  assert.equal(stub.requests.length, before, 'not one introspection call');
  // A token of an expected format with a valid checksum is asked about.
  assert.equal((await verifier.verify(GOOD)).client_id, 'c1');
  assert.equal(stub.requests.length, before + 1);
});

test('VER-01 formats narrow what is asked about; a format that cannot be met is refused at construction', async () => {
  const fuuffyOnly = createVerifier({ issuer: ISSUER, audience: AUD, jwksUri: `${ISSUER}/jwks`, introspection: { ...introspection, formats: [OPAQUE_FORMATS.fuuffy] } });
  const before = stub.requests.length;
  await refused(fuuffyOnly.verify(GOOD));
  assert.equal(stub.requests.length, before);
  await refused(fuuffyOnly.verify(`sk-${'ab'.repeat(16)}`)); // asked: the stub says inactive
  assert.equal(stub.requests.length, before + 1);
  const make = (formats: unknown) => () => createVerifier({ issuer: ISSUER, audience: AUD, introspection: { ...introspection, formats: formats as [] } });
  for (const bad of [[{ prefix: '', length: 10, charset: 'hex' }], [{ prefix: 'x_', length: 0, charset: 'hex' }], [{ prefix: 'x_', length: 10, charset: 'base64' }], [{ prefix: 'x_', length: 10, charset: 'hex', checksum: 'crc32-base62' }], [{ prefix: 'x_', length: 6, charset: 'base62', checksum: 'crc32-base62' }]]) {
    assert.throws(make(bad), TypeError, JSON.stringify(bad));
  }
});

test('VER-01 the verifier\'s checksum is the one Keymint mints with', () => {
  fc.assert(fc.property(fc.string({ maxLength: 64 }), (s) => crc32Base62(s) === checksum(s)), { numRuns: 2000 });
  for (const f of Object.values(OPAQUE_FORMATS)) assert.ok(f.prefix.length > 0);
});

test('VER-02 inactive answers are cached briefly in their own bounded cache: a spray of well-formed unknown tokens neither repeats calls nor evicts good answers', async () => {
  const c = clock();
  const verifier = createVerifier({
    issuer: ISSUER, audience: AUD, jwksUri: `${ISSUER}/jwks`, now: c.now,
    introspection: { ...introspection, maxEntries: 3, inactiveCacheTtlMs: 2_000, cacheTtlMs: 60_000 },
  });
  const before = stub.requests.length;
  await verifier.verify(GOOD);
  const unknown = Array.from({ length: 5 }, () => withChecksum(`polar_at_u_${randomBase62(37)}`));
  for (const t of unknown) await refused(verifier.verify(t));
  assert.equal(stub.requests.length, before + 6);
  // The three most recent inactive answers are kept; the two oldest were dropped (bounded, LRU).
  for (const t of unknown.slice(2)) await refused(verifier.verify(t));
  assert.equal(stub.requests.length, before + 6);
  await refused(verifier.verify(unknown[0]!));
  assert.equal(stub.requests.length, before + 7);
  // The good token's answer was not evicted by the spray.
  assert.equal((await verifier.verify(GOOD)).client_id, 'c1');
  assert.equal(stub.requests.length, before + 7);
  // Inactive answers live inactiveCacheTtlMs, then the endpoint is asked again.
  c.advance(2_000);
  await refused(verifier.verify(unknown[4]!));
  assert.equal(stub.requests.length, before + 8);
});

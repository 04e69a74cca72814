/**
 * The token source against Keymint's own codecs of every dialect with `client_credentials`. Polar has
 * no such grant (its `web` grant needs a session): its mapping is covered by dialects.test.ts and a
 * live `web`-grant token by test/verify/live-server.test.ts. A client may make one token request per
 * minute here, so the second request of each source meets a real 429 in that dialect's shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenSource, TokenSourceError, type DialectName } from '../../src/client/index.ts';
import { createVerifier } from '../../src/verify/index.ts';
import type { TestServer } from '../support/harness.ts';
import { countingFetch, ISSUER, startIssuer } from '../verify/fixtures.ts';

const MOUNTS: ReadonlyArray<[DialectName, string, string]> = [
  // dialect, path, the provider's own code of its 429 body
  ['oauth2', '/oauth2/token', 'temporarily_unavailable'], // Keymint maps rate_limited to the RFC 6749 code
  ['polygon-oms', '/v0.9/auth/token', 'RateLimited'],
  ['orum', '/oauth/token', 'too_many_requests'],
  ['fuuffy', '/v1/auth/token', 'rate_limit_exceeded'],
  ['tradevest', '/connect/token', 'rate_limited'],
];

let server: TestServer;
before(async () => {
  server = await startIssuer({ dialects: ['oauth2', 'polygon-oms', 'orum', 'fuuffy', 'tradevest=/connect/token'], rateLimitClient: '1' });
});
after(() => server.close());

describe('createTokenSource speaks each dialect to a real Keymint', () => {
  for (const [dialect, path, limitedCode] of MOUNTS) {
    test(`${dialect}: a token, then a real 429 honoured without another request`, async () => {
      const { id, secret } = await server.client();
      const f = countingFetch(ISSUER, server.url);
      const source = createTokenSource({ tokenUrl: `${server.url}${path}`, dialect, clientId: id, clientSecret: secret, fetch: f.fetch });
      const token = await source.getToken();
      if (dialect === 'fuuffy') {
        assert.match(token, /^sk-[0-9a-f]{32}$/);
      } else {
        const claims = await createVerifier({ issuer: ISSUER, audience: ISSUER, fetch: f.fetch }).verify(token);
        assert.equal(claims.client_id, id);
      }
      source.invalidate(token);
      const limited = (e: unknown) => {
        assert.ok(e instanceof TokenSourceError);
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.status, 429);
        assert.equal(e.providerCode, limitedCode);
        assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs > 0 && e.retryAfterMs <= 60_000, `retryAfterMs ${e.retryAfterMs}`);
        return true;
      };
      await assert.rejects(source.getToken(), limited);
      assert.equal(f.count(path), 2);
      await assert.rejects(source.getToken(), limited);
      assert.equal(f.count(path), 2, 'nothing sent before Retry-After has passed');
    });
  }
});

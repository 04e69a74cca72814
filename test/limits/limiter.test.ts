import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientIpResolver } from '../../src/limits/client-ip.ts';
import { FailoverLimiter } from '../../src/limits/failover.ts';
import { RequestLimiter, type LimitSettings } from '../../src/limits/limiter.ts';
import { MemoryLimiter } from '../../src/limits/memory.ts';
import type { LimiterBackend } from '../../src/limits/types.ts';
import { OAuthError } from '../../src/wire/errors.ts';
import { clientRecord } from '../storage/contract/records.ts';

const SETTINGS: LimitSettings = { rateLimitClient: 3, rateLimitIp: 5, lockoutThreshold: 3, lockoutBaseMs: 1000, lockoutMaxMs: 8000 };

/** `check` refuses, at once or by rejecting (a shared backend answers with a promise). */
const refused = async (check: () => unknown): Promise<OAuthError> => {
  try {
    await check();
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    return err;
  }
  assert.fail('expected rate_limited');
};

test('per-client bucket: burst = limit, then 429 with Retry-After and limit state; refills with time', async () => {
  let now = 1_000_000;
  const limiter = new RequestLimiter(new MemoryLimiter(), SETTINGS, { now: () => now });
  const client = clientRecord('c1');
  for (let i = 0; i < 3; i++) await limiter.admitClient(client);
  const err = await refused(() => limiter.admitClient(client));
  assert.equal(err.code, 'rate_limited');
  assert.equal(err.status, 429);
  assert.equal(err.retryAfter, 20); // 3 per minute → one token every 20 s
  assert.deepEqual(err.rateLimit, { limit: 3, remaining: 0, resetAt: Math.ceil((now + 60_000) / 1000) });
  await limiter.admitClient(clientRecord('c2')); // another client is unaffected
  now += 20_000;
  await limiter.admitClient(client);
});

test('a client record may carry its own limit; 0 in the deployment turns a limit off', async () => {
  const limiter = new RequestLimiter(new MemoryLimiter(), { ...SETTINGS, rateLimitIp: 0 }, { now: () => 0 });
  const generous = clientRecord('c1', { rateLimit: 10 });
  for (let i = 0; i < 10; i++) await limiter.admitClient(generous);
  await refused(() => limiter.admitClient(generous));
  for (let i = 0; i < 100; i++) await limiter.admitAddress('192.0.2.1');
});

test('failed authentications lock (client id, address) for a growing interval, not the client elsewhere', async () => {
  let now = 5_000_000;
  const limiter = new RequestLimiter(new MemoryLimiter(), SETTINGS, { now: () => now });
  for (let i = 0; i < 2; i++) await limiter.recordFailure('victim', '198.51.100.7');
  await limiter.checkLockout('victim', '198.51.100.7'); // below the threshold
  await limiter.recordFailure('victim', '198.51.100.7');
  assert.equal((await refused(() => limiter.checkLockout('victim', '198.51.100.7'))).retryAfter, 1);
  await limiter.checkLockout('victim', '203.0.113.9'); // same client, other address
  await limiter.checkLockout('other', '198.51.100.7'); // other client, same address
  now += 1000;
  await limiter.checkLockout('victim', '198.51.100.7'); // first lockout over
  await limiter.recordFailure('victim', '198.51.100.7');
  assert.equal((await refused(() => limiter.checkLockout('victim', '198.51.100.7'))).retryAfter, 2);
  for (let i = 0; i < 10; i++) await limiter.recordFailure('victim', '198.51.100.7');
  assert.equal((await refused(() => limiter.checkLockout('victim', '198.51.100.7'))).retryAfter, 8); // capped
});

test('Redis failing: the local fallback limits at (limit ÷ node count), never unlimited, and says so', async () => {
  const broken: LimiterBackend = {
    take: () => Promise.reject(new Error('Command timed out')),
    lockedFor: () => Promise.reject(new Error('Command timed out')),
    fail: () => Promise.reject(new Error('Command timed out')),
  };
  const changes: boolean[] = [];
  const failover = new FailoverLimiter(broken, new MemoryLimiter(), { nodeCount: 4, onChange: (d) => changes.push(d) });
  const limiter = new RequestLimiter(failover, { ...SETTINGS, rateLimitIp: 40 }, { now: () => 0 });
  for (let i = 0; i < 10; i++) await limiter.admitAddress('192.0.2.1');
  await refused(() => limiter.admitAddress('192.0.2.1'));
  assert.equal(failover.degraded(), true);
  assert.deepEqual(changes, [true]);
  // Lockout keeps working locally too.
  for (let i = 0; i < 3; i++) await limiter.recordFailure('c', '192.0.2.1');
  await refused(() => limiter.checkLockout('c', '192.0.2.1'));
});

test('Redis back: the failover returns to it after the probe interval', async () => {
  let up = false;
  const calls: string[] = [];
  const flaky: LimiterBackend = {
    take: async () => {
      calls.push('take');
      if (!up) throw new Error('down');
      return { allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 0 };
    },
    lockedFor: async () => 0,
    fail: async () => 0,
  };
  const failover = new FailoverLimiter(flaky, new MemoryLimiter(), { nodeCount: 2, probeMs: 1000 });
  const rule = { capacity: 10, refillPerMs: 1 };
  await failover.take('k', rule, 0);
  await failover.take('k', rule, 500); // inside the probe interval: Redis is not asked
  assert.deepEqual(calls, ['take']);
  up = true;
  await failover.take('k', rule, 1000);
  assert.equal(failover.degraded(), false);
});

test('BCP-12 X-Forwarded-For is believed only from configured proxies, hop by hop (RFC 9700 §4.13)', () => {
  const req = (ip: string, xff?: string) => ({ ip, headersDistinct: xff === undefined ? {} : { 'x-forwarded-for': [xff] } });
  const none = clientIpResolver([]);
  assert.equal(none(req('10.0.0.1', '1.2.3.4')), '10.0.0.1');
  const trusted = clientIpResolver(['10.0.0.0/8', '::1']);
  assert.equal(trusted(req('10.0.0.1', '1.2.3.4')), '1.2.3.4');
  assert.equal(trusted(req('::ffff:10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2')), '1.2.3.4'); // forged leftmost entry ignored
  assert.equal(trusted(req('192.0.2.9', '1.2.3.4')), '192.0.2.9'); // untrusted peer: header ignored
  assert.equal(trusted(req('10.0.0.1', 'garbage')), '10.0.0.1');
  assert.equal(trusted(req('10.0.0.1')), '10.0.0.1');
});

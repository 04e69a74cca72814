/** Retry-After, bounded backoff and the refusal to hammer an endpoint that asked for quiet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTokenSource, TokenSourceError } from '../../src/client/index.ts';
import { backoffMs, retryAfterMs } from '../../src/client/retry.ts';

const OK = { access_token: 'at', token_type: 'Bearer', expires_in: 3600 };
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';

function scripted(answers: Answer[]) {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const sleeps: number[] = [];
  let requests = 0;
  const fetchFn = (async () => {
    requests++;
    const a = answers.shift() ?? { status: 200, body: OK };
    if (a === 'network') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(a.body ?? {}), { status: a.status, headers: a.headers });
  }) as typeof fetch;
  const source = createTokenSource({
    tokenUrl: 'https://auth.example.com/oauth2/token',
    clientId: 'c',
    clientSecret: 's',
    fetch: fetchFn,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 1,
  });
  return { source, sleeps, requests: () => requests, advance: (ms: number) => (t += ms) };
}

test('429 with Retry-After: waits that long (more than the backoff), then succeeds', async () => {
  const s = scripted([{ status: 429, headers: { 'retry-after': '2' } }, { status: 429, headers: { 'retry-after': '0' } }]);
  assert.equal(await s.source.getToken(), 'at');
  assert.deepEqual(s.sleeps, [2000, 1000], 'Retry-After 2 s; then the backoff (500·2¹) outweighs Retry-After 0');
  assert.equal(s.requests(), 3);
});

test('503 without Retry-After: exponential backoff, bounded attempts, then unavailable', async () => {
  const s = scripted([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]);
  await assert.rejects(s.source.getToken(), (e: unknown) => e instanceof TokenSourceError && e.code === 'unavailable' && e.status === 503);
  assert.deepEqual(s.sleeps, [500, 1000, 2000]);
  assert.equal(s.requests(), 4);
});

test('network errors are retried, then network_error', async () => {
  const s = scripted(['network', 'network', 'network', 'network']);
  await assert.rejects(s.source.getToken(), (e: unknown) => e instanceof TokenSourceError && e.code === 'network_error');
  assert.equal(s.requests(), 4);
  const recovered = scripted(['network']);
  assert.equal(await recovered.source.getToken(), 'at');
});

test('a Retry-After beyond maxDelayMs stops at once, and nothing is sent before it has passed', async () => {
  const s = scripted([{ status: 429, headers: { 'retry-after': '120' }, body: { error: 'rate_limited' } }]);
  const check = (e: unknown) => e instanceof TokenSourceError && e.code === 'rate_limited' && e.retryAfterMs === 120_000 && e.providerCode === 'rate_limited';
  await assert.rejects(s.source.getToken(), check);
  assert.equal(s.requests(), 1);
  s.advance(119_999);
  await assert.rejects(s.source.getToken(), check);
  assert.equal(s.requests(), 1);
  s.advance(1);
  assert.equal(await s.source.getToken(), 'at');
  assert.equal(s.requests(), 2);
});

test('other 4xx are not retried', async () => {
  const s = scripted([{ status: 400, body: { error: 'invalid_scope' } }]);
  await assert.rejects(s.source.getToken(), (e: unknown) => e instanceof TokenSourceError && e.code === 'token_request_failed' && e.providerCode === 'invalid_scope');
  assert.equal(s.requests(), 1);
});

test('retryAfterMs reads Retry-After (seconds, HTTP-date), X-Retry-In (ms) and X-RateLimit-Reset (unix s)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' }), now), 3000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now), 7000);
  assert.equal(retryAfterMs(new Headers({ 'x-retry-in': '1500' }), now), 1500);
  assert.equal(retryAfterMs(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 9) }), now), 9000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
  assert.equal(retryAfterMs(new Headers(), now), undefined);
});

test('backoffMs doubles from the base, is capped, and jitters between half and all of it', () => {
  const o = { baseDelayMs: 500, maxDelayMs: 30_000 };
  assert.deepEqual([0, 1, 2, 10].map((a) => backoffMs(a, o, () => 1)), [500, 1000, 2000, 30_000]);
  assert.deepEqual([0, 1, 10].map((a) => backoffMs(a, o, () => 0)), [250, 500, 15_000]);
});

/** The faults interceptor on its own: matching, counts, seeded fractions and jitter, actions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointCall } from '../../src/http/pipeline.ts';
import { SandboxInputError } from '../../src/sandbox/errors.ts';
import { checkFault, Faults, type FaultSpec } from '../../src/sandbox/faults.ts';
import { OAuthError } from '../../src/wire/errors.ts';

const known = { dialects: ['oauth2', 'orum'], errors: ['invalid_grant', 'rate_limited', 'server_error'], maxTokenTtl: 86_400 };

function call(over: Partial<EndpointCall> = {}): EndpointCall {
  return { dialect: 'orum', endpoint: 'token', req: { method: 'POST', path: '/oauth/token', query: '', headers: {}, headersDistinct: {}, rawHeaders: [], body: Buffer.alloc(0), ip: '127.0.0.1' }, clientId: 'id-1', grant: 'client_credentials', now: 1_000_000, ...over };
}

function faults(seed = 's', slept: number[] = []) {
  return new Faults({ seed, clientIds: (n) => (n === 'app' ? ['id-1'] : [n]), socketOf: () => undefined, sleep: async (ms) => void slept.push(ms) });
}

/** Which of `n` calls a fault fired on, as a string of 0/1. */
async function pattern(f: Faults, n: number): Promise<string> {
  let out = '';
  for (let i = 0; i < n; i++) {
    try {
      await f.interceptor.before!(call());
      out += '0';
    } catch {
      out += '1';
    }
  }
  return out;
}

test('a fault fires for the next N matching requests, then stops', async () => {
  const f = faults();
  f.add({ status: 500, times: 2 });
  assert.equal(await pattern(f, 4), '1100');
  assert.deepEqual(f.list().map((s) => [s.remaining, s.fired]), [[0, 2]]);
});

test('matching by dialect, client (name or id) and endpoint', async () => {
  const f = faults();
  f.add({ status: 500, dialect: 'oauth2' });
  f.add({ status: 503, client: 'app', endpoint: 'introspect' });
  assert.equal(await f.interceptor.before!(call()), undefined);
  assert.equal(await f.interceptor.before!(call({ clientId: 'other', endpoint: 'introspect' })), undefined);
  await assert.rejects(async () => f.interceptor.before!(call({ endpoint: 'introspect' })), (e: OAuthError) => e.status === 503 && e.code === 'temporarily_unavailable');
  await assert.rejects(async () => f.interceptor.before!(call({ dialect: 'oauth2' })), (e: OAuthError) => e.status === 500 && e.code === 'server_error');
});

test('a fraction is drawn from the seed: the same seed gives the same requests, another seed others', async () => {
  const run = async (seed: string) => {
    const f = faults(seed);
    f.add({ status: 500, fraction: 0.3 });
    return pattern(f, 60);
  };
  const a = await run('seed-a');
  assert.equal(await run('seed-a'), a);
  assert.notEqual(await run('seed-b'), a);
  const hits = [...a].filter((c) => c === '1').length;
  assert.ok(hits > 0 && hits < 60, `fired ${hits} of 60`);
});

test('clear() restarts ids and draws: a reset sandbox repeats its faults', async () => {
  const f = faults('x');
  f.add({ status: 500, fraction: 0.5 });
  const first = await pattern(f, 20);
  f.clear();
  assert.equal(f.add({ status: 500, fraction: 0.5 }), 'f1');
  assert.equal(await pattern(f, 20), first);
});

test('latency: fixed plus seeded jitter within its bound, and the request goes on', async () => {
  const slept: number[] = [];
  const f = faults('j', slept);
  f.add({ latencyMs: 100, jitterMs: 50, times: 20 });
  for (let i = 0; i < 20; i++) assert.equal(await f.interceptor.before!(call()), undefined);
  assert.equal(slept.length, 20);
  for (const ms of slept) assert.ok(ms >= 100 && ms <= 150, String(ms));
  assert.ok(new Set(slept).size > 1, 'jitter varies');
  const again: number[] = [];
  const g = faults('j', again);
  g.add({ latencyMs: 100, jitterMs: 50, times: 20 });
  for (let i = 0; i < 20; i++) await g.interceptor.before!(call());
  assert.deepEqual(again, slept);
});

test('a 429 carries retryAfter and a limit state; tokenTtl sets the request lifetime', async () => {
  const f = faults();
  f.add({ status: 429, retryAfter: 7, times: 1 });
  await assert.rejects(async () => f.interceptor.before!(call()), (e: OAuthError) => e.code === 'rate_limited' && e.retryAfter === 7 && e.rateLimit?.remaining === 0 && e.rateLimit.resetAt === 1007);
  f.add({ tokenTtl: 5 });
  const c = call();
  assert.equal(await f.interceptor.before!(c), undefined);
  assert.equal(c.tokenTtl, 5);
});

test('bad faults are refused with the field at fault', () => {
  const bad: Array<[unknown, string]> = [
    [{}, 'f'],
    [{ status: 418 }, 'f.status'],
    [{ status: 500, colour: 'red' }, 'f.colour'],
    [{ error: 'nope' }, 'f.error'],
    [{ dialect: 'stripe', status: 500 }, 'f.dialect'],
    [{ status: 500, fraction: 0 }, 'f.fraction'],
    [{ status: 500, times: 0 }, 'f.times'],
    [{ latencyMs: 60_000, jitterMs: 1 }, 'f.jitterMs'],
    [{ drop: true, status: 500 }, 'f.drop'],
    [{ retryAfter: 3 }, 'f.retryAfter'],
    [{ tokenTtl: 0 }, 'f.tokenTtl'],
    [{ endpoint: 'authorize', status: 500 }, 'f.endpoint'],
    [[], 'f'],
  ];
  for (const [spec, field] of bad) {
    assert.throws(() => checkFault(spec, ['f'], known), (e: SandboxInputError) => e instanceof SandboxInputError && e.field === field, JSON.stringify(spec));
  }
  const good: FaultSpec = { dialect: 'orum', client: 'app', endpoint: 'token', status: 429, retryAfter: 2, latencyMs: 10, times: 3 };
  assert.deepEqual(checkFault(good, ['f'], known), good);
});

/** How many workers, where they sign, and how their metrics add up. */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { mergeExpositions } from '../../src/metrics/merge.ts';
import { resolveSigning } from '../../src/tokens/jwt.ts';

test('--workers: auto is one per usable core; the in-memory store forces 1; bad values are refused', () => {
  assert.equal(loadConfig({ dataDir: '/tmp/x' }, {}).workers, availableParallelism());
  assert.equal(loadConfig({ dataDir: '/tmp/x', workers: '3' }, {}).workers, 3);
  assert.equal(loadConfig({ dataDir: ':memory:', workers: '4' }, {}).workers, 1);
  assert.equal(loadConfig({ dataDir: ':memory:' }, { KEYMINT_WORKERS: '8' }).workers, 1);
  assert.equal(loadConfig({ dataDir: ':memory:', databaseUrl: 'postgres://db/k', workers: '4' }, {}).workers, 4);
  for (const bad of ['0', '-1', 'two', '257']) assert.throws(() => loadConfig({ workers: bad }, {}), ConfigError, bad);
});

test('--signing auto: inline when the process may use one core only, else the threadpool, however many workers', () => {
  assert.equal(resolveSigning('auto', 1), 'inline', 'a process pinned to one core');
  assert.equal(resolveSigning('auto', 2), 'threadpool', 'two cores, one worker or two');
  assert.equal(resolveSigning('auto', 8), 'threadpool');
  assert.equal(resolveSigning('threadpool', 1), 'threadpool');
  assert.equal(resolveSigning('inline', 8), 'inline');
  assert.throws(() => loadConfig({ signing: 'gpu' }, {}), ConfigError);
});

test('metrics of several workers: counters, histograms and quantities add up; *_up keeps the lowest, the fallback flag the highest', () => {
  const worker = (ok: number, inFlight: number, up: number, fallback: number) =>
    [
      '# HELP keymint_token_requests_total Token requests.',
      '# TYPE keymint_token_requests_total counter',
      `keymint_token_requests_total{dialect="oauth2",result="ok"} ${ok}`,
      '# HELP keymint_token_request_duration_seconds Latency.',
      '# TYPE keymint_token_request_duration_seconds histogram',
      `keymint_token_request_duration_seconds_bucket{dialect="oauth2",le="0.001"} ${ok - 1}`,
      `keymint_token_request_duration_seconds_count{dialect="oauth2"} ${ok}`,
      '# HELP keymint_http_in_flight In flight.',
      '# TYPE keymint_http_in_flight gauge',
      `keymint_http_in_flight ${inFlight}`,
      '# HELP keymint_redis_up Redis.',
      '# TYPE keymint_redis_up gauge',
      `keymint_redis_up ${up}`,
      '# HELP keymint_limiter_fallback Fallback.',
      '# TYPE keymint_limiter_fallback gauge',
      `keymint_limiter_fallback ${fallback}`,
      '',
    ].join('\n');
  const merged = mergeExpositions([worker(10, 2, 1, 0), worker(5, 1, 0, 1)]);
  assert.match(merged, /^keymint_token_requests_total\{dialect="oauth2",result="ok"\} 15$/m);
  assert.match(merged, /^keymint_token_request_duration_seconds_bucket\{dialect="oauth2",le="0.001"\} 13$/m);
  assert.match(merged, /^keymint_token_request_duration_seconds_count\{dialect="oauth2"\} 15$/m);
  assert.match(merged, /^keymint_http_in_flight 3$/m);
  assert.match(merged, /^keymint_redis_up 0$/m);
  assert.match(merged, /^keymint_limiter_fallback 1$/m);
  assert.equal(merged.match(/^# TYPE keymint_token_requests_total counter$/gm)?.length, 1);
});

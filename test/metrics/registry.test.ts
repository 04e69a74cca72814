/**
 * The metrics registry finds a series from a call's labels without building a key string
 * (src/metrics/registry.ts, SeriesIndex): whatever order a call lists its labels in, the same labels
 * are one series, other labels another, and reading a value creates nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from '../../src/metrics/registry.ts';

test('a counter counts labels listed in any order as one series, and other names or values apart', () => {
  const registry = new Registry();
  const c = registry.add(new Counter('t_total', 'Test.'));
  c.inc({ dialect: 'oauth2', grant: 'client_credentials', result: 'ok' });
  c.inc({ result: 'ok', dialect: 'oauth2', grant: 'client_credentials' }, 2);
  c.inc({ dialect: 'oauth2', grant: 'client_credentials', result: 'invalid_client' });
  c.inc({ a: 'x' });
  c.inc({ b: 'x' });
  c.inc();
  assert.equal(c.value({ grant: 'client_credentials', result: 'ok', dialect: 'oauth2' }), 3);
  assert.equal(c.value({ dialect: 'oauth2', grant: 'client_credentials', result: 'invalid_client' }), 1);
  assert.equal(c.value({ a: 'x' }), 1);
  assert.equal(c.value({ b: 'x' }), 1);
  assert.equal(c.value({}), 1);
  assert.equal(c.value({ a: 'y' }), 0);
  // Series in the order of first use, each with the labels of its first increment.
  assert.equal(
    registry.render(),
    [
      '# HELP t_total Test.',
      '# TYPE t_total counter',
      't_total{dialect="oauth2",grant="client_credentials",result="ok"} 3',
      't_total{dialect="oauth2",grant="client_credentials",result="invalid_client"} 1',
      't_total{a="x"} 1',
      't_total{b="x"} 1',
      't_total 1',
      '',
    ].join('\n'),
  );
});

test('a histogram observes labels listed in any order into one series; reading a counter creates no series', () => {
  const registry = new Registry();
  const h = registry.add(new Histogram('d_seconds', 'Test.', [0.1, 1]));
  const c = registry.add(new Counter('c_total', 'Test.'));
  h.observe({ x: '1', y: '2' }, 0.05);
  h.observe({ y: '2', x: '1' }, 0.5);
  assert.equal(c.value({ x: '1' }), 0);
  assert.equal(
    registry.render(),
    [
      '# HELP d_seconds Test.',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{x="1",y="2",le="0.1"} 1',
      'd_seconds_bucket{x="1",y="2",le="1"} 2',
      'd_seconds_bucket{x="1",y="2",le="+Inf"} 2',
      'd_seconds_sum{x="1",y="2"} 0.55',
      'd_seconds_count{x="1",y="2"} 2',
      '# HELP c_total Test.',
      '# TYPE c_total counter',
      '',
    ].join('\n'),
  );
});

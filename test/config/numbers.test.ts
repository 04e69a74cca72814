/** Numbers passed to the programmatic config are read like the same values typed on a command line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

test('numeric values: whole numbers accepted, ranges and fractions refused with the option named', () => {
  const config = loadConfig({ port: 0, tokenTtl: 600, maxTokenTtl: 7200, rateLimitClient: 0, workers: 3, lockoutThreshold: 9, insecureHttp: true }, {});
  assert.equal(config.port, 0);
  assert.equal(config.issuer, 'http://localhost:0');
  assert.equal(config.tokenTtl, 600);
  assert.equal(config.maxTokenTtl, 7200);
  assert.equal(config.rateLimitClient, 0);
  assert.equal(config.workers, 3);
  assert.equal(config.lockoutThreshold, 9);
  assert.equal(config.insecureHttp, true);
  assert.deepEqual(loadConfig({ port: '8081' }, {}).port, 8081, 'a string as the CLI passes it');
  assert.throws(() => loadConfig({ port: -1 }, {}), new ConfigError('port', 'must be between 0 and 65535, got -1'));
  assert.throws(() => loadConfig({ port: 70000 }, {}), new ConfigError('port', 'must be between 0 and 65535, got 70000'));
  assert.throws(() => loadConfig({ port: 80.5 }, {}), new ConfigError('port', 'expected a whole number, got "80.5"'));
  assert.throws(() => loadConfig({ tokenTtl: 9000, maxTokenTtl: 7200 }, {}), new ConfigError('tokenTtl', 'must be between 1 and 7200, got 9000'));
});

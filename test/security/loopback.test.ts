/** Loopback means a loopback IP literal, never a name that merely starts like one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { isLoopbackIp } from '../../src/util/loopback.ts';

test('NET-01 the issuer TLS check: http only on a loopback IP literal or localhost; names like 127.evil.example are not loopback', () => {
  for (const issuer of ['http://127.0.0.1:8080', 'http://127.9.9.9', 'http://[::1]:8080', 'http://localhost:8080', 'https://auth.example.com']) {
    assert.equal(loadConfig({ issuer, dataDir: '/nonexistent' }, {}).issuer, issuer);
  }
  for (const issuer of ['http://127.evil.example', 'http://127.0.0.1.nip.io:8080', 'http://localhost.evil.example', 'http://[::2]', 'http://10.0.0.1']) {
    assert.throws(() => loadConfig({ issuer, dataDir: '/nonexistent' }, {}), (e: unknown) => e instanceof ConfigError && /issuer/.test(e.message), issuer);
    assert.equal(loadConfig({ issuer, dataDir: '/nonexistent', insecureHttp: true }, {}).issuer, issuer, 'unless --insecure-http says so');
  }
});

test('NET-01 isLoopbackIp: 127.0.0.0/8 and ::1 in every spelling, nothing else', () => {
  for (const host of ['127.0.0.1', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::ffff:7f00:1]']) assert.ok(isLoopbackIp(host), host);
  for (const host of ['127.evil.example', '127.0.0.1.nip.io', 'localhost', '128.0.0.1', '126.255.255.255', '::2', '[::]', '', '[]', '127.0.0.1:80']) assert.ok(!isLoopbackIp(host), host);
});

/**
 * Per-address limits and lockouts count an IPv6 source by its /64: a host that owns a /64 cannot
 * step around them by changing the low 64 bits. The source address comes from X-Forwarded-For via a
 * trusted proxy (the test's loopback), as behind a real load balancer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey } from '../../src/limits/address-key.ts';
import { basic, startServer } from '../support/harness.ts';

test('NET-02 the per-address bucket is shared by a whole IPv6 /64, per address for IPv4, and IPv4-mapped IPv6 counts as IPv4', async (t) => {
  const server = await startServer({ trustedProxies: ['127.0.0.1'], rateLimitIp: '3', rateLimitClient: '0' });
  t.after(() => server.close());
  const c = await server.client();
  const from = async (ip: string) =>
    (await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret), 'x-forwarded-for': ip })).status;

  const sameSlash64 = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:fffe', '2001:0db8:0001:0002:0:0:0:7', '2001:db8:1:2:aaaa::1'];
  assert.deepEqual([await from(sameSlash64[0]!), await from(sameSlash64[1]!), await from(sameSlash64[2]!), await from(sameSlash64[3]!)], [200, 200, 200, 429]);
  assert.equal(await from('2001:db8:1:3::1'), 200, 'the neighbouring /64 has its own bucket');

  assert.deepEqual([await from('198.51.100.7'), await from('::ffff:198.51.100.7'), await from('::ffff:c633:6407'), await from('198.51.100.7')], [200, 200, 200, 429]);
  assert.equal(await from('198.51.100.8'), 200, 'IPv4 counts per address');
});

test('NET-02 a lockout earned from one IPv6 address holds for the whole /64, not the next one', async (t) => {
  const server = await startServer({ trustedProxies: ['127.0.0.1'], lockoutThreshold: '3', lockoutBaseMs: '60000', rateLimitIp: '0' });
  t.after(() => server.close());
  const victim = await server.client();
  const wrong = `${victim.secret.slice(0, -8)}AAAAAAAA`;
  const from = async (ip: string, secret: string) =>
    (await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(victim.id, secret), 'x-forwarded-for': ip })).status;

  const attack = [];
  for (let i = 1; i <= 4; i++) attack.push(await from(`2001:db8:aa:bb::${i.toString(16)}`, wrong));
  assert.deepEqual(attack, [401, 401, 401, 429], 'each attempt from a fresh address of the /64 counts toward one lockout');
  assert.equal(await from('2001:db8:aa:bb:1234:5678:9abc:def0', victim.secret), 429, 'still locked for the /64');
  assert.equal(await from('2001:db8:aa:bc::1', victim.secret), 200, 'another /64 is not');
});

test('NET-02 addressKey spells each source once', () => {
  assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
  assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(addressKey('::ffff:cb00:7109'), '203.0.113.9');
  assert.equal(addressKey('2001:DB8:0:1::2'), '2001:db8:0:1::/64');
  assert.equal(addressKey('2001:db8:0:1:2:3:192.0.2.1'), '2001:db8:0:1::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
});

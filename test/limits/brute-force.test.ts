/**
 * RFC 6749 §2.3.1 brute-force protection at the HTTP level (SECURITY A-08): a client id under attack
 * from one address is locked there, while the same client from another address and every other
 * client keep getting tokens.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, startServer } from '../support/harness.ts';

test('A-08 brute force on one client id from one address does not slow the same client elsewhere or other clients', async (t) => {
  const server = await startServer({ trustedProxies: ['127.0.0.1'], lockoutThreshold: '3', lockoutBaseMs: '60000', rateLimitIp: '1000' });
  t.after(() => server.close());
  const victim = await server.client();
  const other = await server.client();
  const from = (ip: string, id: string, secret: string) =>
    server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(id, secret), 'x-forwarded-for': ip });
  const wrong = `${victim.secret.slice(0, -8)}AAAAAAAA`;

  const attack: number[] = [];
  for (let i = 0; i < 6; i++) attack.push((await from('198.51.100.7', victim.id, wrong)).status);
  assert.deepEqual(attack, [401, 401, 401, 429, 429, 429]);

  // Locked here even with the right secret: a correct guess is not revealed during the lockout.
  const locked = await from('198.51.100.7', victim.id, victim.secret);
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get('retry-after'), '60');
  assert.equal(locked.headers.get('cache-control'), 'no-store');
  // The oauth2 dialect spells a 429 with the RFC 6749 code temporarily_unavailable.
  assert.equal(((await locked.json()) as { error: string }).error, 'temporarily_unavailable');

  assert.equal((await from('203.0.113.9', victim.id, victim.secret)).status, 200);
  assert.equal((await from('198.51.100.7', other.id, other.secret)).status, 200);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /keymint_rate_limited_total\{limit="lockout"\} 4/);
  assert.match(metrics, /keymint_auth_failures_total\{reason="credentials"\} 3/);
  assert.ok(!metrics.includes(victim.secret) && !metrics.includes(wrong));
});

test('A-08 per-address and per-client limits answer 429 with Retry-After', async (t) => {
  const server = await startServer({ rateLimitIp: '4', rateLimitClient: '2' });
  t.after(() => server.close());
  const a = await server.client();
  const b = await server.client();
  const call = (c: { id: string; secret: string }) =>
    server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) });
  assert.deepEqual([(await call(a)).status, (await call(a)).status], [200, 200]);
  const perClient = await call(a);
  assert.equal(perClient.status, 429);
  assert.equal(perClient.headers.get('retry-after'), '30');
  assert.equal((await call(b)).status, 200);
  const perAddress = await call(b);
  assert.equal(perAddress.status, 429);
  assert.equal(perAddress.headers.get('retry-after'), '15');
});

test('a client created with its own rate_limit gets that limit instead of the deployment one', async (t) => {
  const server = await startServer({ rateLimitClient: '100' });
  t.after(() => server.close());
  const c = await server.client({ rateLimit: 1 });
  assert.equal((await server.keymint.clients.show(c.id)).rate_limit, 1);
  const call = () => server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) });
  assert.equal((await call()).status, 200);
  assert.equal((await call()).status, 429);
  await assert.rejects(server.keymint.clients.create({ name: 'bad', rateLimit: 0 }, 'test'), /rate_limit/);
});

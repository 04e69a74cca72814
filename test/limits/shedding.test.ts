/**
 * Load shedding: past the in-flight limit a new request gets 503 + Retry-After in its endpoint's
 * shape before its body is read; health and metrics stay served; work in flight completes.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { basic, startServer } from '../support/harness.ts';

test('in-flight limit: immediate 503 + Retry-After, health endpoints exempt, admitted work completes', async (t) => {
  const server = await startServer({ maxInFlight: '1', maxEventLoopDelayMs: '0' });
  t.after(() => server.close());
  const c = await server.client();
  const body = 'grant_type=client_credentials';
  // A request whose body has not fully arrived holds the only slot.
  const port = new URL(server.url).port;
  const slow = connect({ host: '127.0.0.1', port: Number(port) });
  const reply = new Promise<string>((resolve) => {
    let data = '';
    slow.on('data', (d) => (data += d));
    slow.on('end', () => resolve(data));
    slow.on('close', () => resolve(data));
  });
  await new Promise<void>((resolve) => slow.once('connect', resolve));
  slow.write(
    `POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Authorization: ${basic(c.id, c.secret)}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
  );
  // Wait until the server has admitted it (in-flight gauge reads 1).
  for (let i = 0; i < 200 && !(await (await fetch(`${server.url}/metrics`)).text()).includes('keymint_http_in_flight 1'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }

  const shed = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) });
  assert.equal(shed.status, 503);
  assert.equal(shed.headers.get('retry-after'), '1');
  assert.equal(shed.headers.get('cache-control'), 'no-store');
  assert.equal(((await shed.json()) as { error: string }).error, 'temporarily_unavailable');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /keymint_unavailable_total\{cause="shed_inflight"\} 1/);

  slow.write(body.slice(5));
  assert.match(await reply, /^HTTP\/1\.1 200 /);
  assert.equal((await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) })).status, 200);
});

/**
 * Load shedding: past the in-flight limit a new request gets 503 + Retry-After in its endpoint's
 * shape before its body is read; health and metrics stay served; work in flight completes.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { basic, startServer, type TestServer } from '../support/harness.ts';

/**
 * A token request whose body has not fully arrived: it holds one in-flight slot until `finish()`.
 * Resolves once the server has admitted it: the in-flight gauge reads 2, it and the /metrics request
 * reading the gauge (exempt from shedding, but counted).
 */
async function holdSlot(server: TestServer, c: { id: string; secret: string }, body: string): Promise<{ finish(): void; reply: Promise<string> }> {
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
  for (let i = 0; i < 200 && !(await (await fetch(`${server.url}/metrics`)).text()).includes('keymint_http_in_flight 1'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return { finish: () => slow.write(body.slice(5)), reply };
}

test('in-flight limit: immediate 503 + Retry-After, health endpoints exempt, admitted work completes', async (t) => {
  const server = await startServer({ maxInFlight: '1', maxEventLoopDelayMs: '0' });
  t.after(() => server.close());
  const c = await server.client();
  const body = 'grant_type=client_credentials';
  const slow = await holdSlot(server, c, body);

  const shed = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) });
  assert.equal(shed.status, 503);
  assert.equal(shed.headers.get('retry-after'), '1');
  assert.equal(shed.headers.get('cache-control'), 'no-store');
  assert.equal(((await shed.json()) as { error: string }).error, 'temporarily_unavailable');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /keymint_unavailable_total\{cause="shed_inflight"\} 1/);

  slow.finish();
  assert.match(await slow.reply, /^HTTP\/1\.1 200 /);
  assert.equal((await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) })).status, 200);
});

test('health and metrics requests are not counted in flight: a scrape at the limit takes no slot from a token request', async (t) => {
  const server = await startServer({ maxInFlight: '1', maxEventLoopDelayMs: '0' });
  t.after(() => server.close());
  const c = await server.client();
  // Scrapes and probes while nothing else runs: each sees none in flight, its own request not counted.
  const scrapes = await Promise.all(Array.from({ length: 8 }, () => fetch(`${server.url}/metrics`).then((r) => r.text())));
  for (const text of scrapes) assert.match(text, /^keymint_http_in_flight 0$/m);
  // Probes beside a token request at the limit: the token request is admitted, not shed.
  const [token, ...probes] = await Promise.all([
    server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) }),
    ...Array.from({ length: 8 }, (_, i) => fetch(`${server.url}/${i % 2 ? 'healthz' : 'metrics'}`)),
  ]);
  assert.equal(token!.status, 200);
  for (const p of probes) assert.equal(p.status, 200);
  assert.doesNotMatch(await (await fetch(`${server.url}/metrics`)).text(), /keymint_unavailable_total\{cause="shed_inflight"\} [1-9]/);
});

test('a shed console request is an HTML error page under the console CSP, never the token endpoints’ JSON', async (t) => {
  const server = await startServer({ console: 'true', maxInFlight: '1', maxEventLoopDelayMs: '0' });
  t.after(() => server.close());
  const c = await server.client();
  const body = 'grant_type=client_credentials';
  const slow = await holdSlot(server, c, body);

  for (const [method, path] of [['GET', '/console'], ['GET', '/console/keys'], ['POST', '/console/keys/rotate'], ['GET', '/console/sign-in']] as const) {
    const shed = await fetch(`${server.url}${path}`, { method, redirect: 'manual', ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' } : {}) });
    const page = await shed.text();
    assert.equal(shed.status, 503, path);
    assert.equal(shed.headers.get('retry-after'), '1');
    assert.equal(shed.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(shed.headers.get('cache-control'), 'no-store');
    assert.match(shed.headers.get('content-security-policy') ?? '', /^default-src 'none'; script-src 'self'/);
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /data-error="503"/);
    assert.match(page, /The console is busy\. Try again in a moment\./);
  }
  // The token endpoint's own shape is unchanged.
  const token = await server.postForm('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret) });
  assert.equal(token.status, 503);
  assert.equal(((await token.json()) as { error: string }).error, 'temporarily_unavailable');

  slow.finish();
  assert.match(await slow.reply, /^HTTP\/1\.1 200 /);
  assert.equal((await fetch(`${server.url}/console/sign-in`)).status, 200);
});

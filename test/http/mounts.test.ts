/**
 * Answers the router and the server give on their own under a dialect's mount — 404, 405, 413 —
 * are each dialect's own, byte for byte; outside every mount they are `oauth2`'s. A body over the
 * limit is refused as soon as the limit is crossed (or at once when the headers declare it), and the
 * connection closes without reading the rest.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startServer, type TestServer } from '../support/harness.ts';
import { expectAnswer, type DialectName } from '../dialects/support/dialects.ts';
import { createLogger } from '../../src/util/log.ts';

const TWO_MB = 'x'.repeat(2 * 1024 * 1024);

/** Writes raw bytes and collects the answer until the server closes the connection. */
function raw(url: string, head: string, options: { stream?: boolean } = {}): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      if (options.stream) {
        // A chunked body that never ends: a chunk every millisecond until the server hangs up.
        const chunk = `${(4096).toString(16)}\r\n${'a'.repeat(4096)}\r\n`;
        timer = setInterval(() => socket.writable && socket.write(chunk), 1);
      }
    });
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {}); // EPIPE / ECONNRESET once the server hangs up mid-stream
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, closed: true });
    });
    socket.setTimeout(20_000, () => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(text.slice(0, 200))}`));
    });
  });
}

describe('errors under a mount are the dialect\'s own', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ dialects: ['oauth2', 'polygon-oms', 'orum', 'fuuffy', 'tradevest=/connect/token', 'polar'] });
  });
  after(() => s.close());

  const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
    fetch(s.url + path, { method: 'POST', headers: { 'content-type': type }, body });

  test('BODY-03 a 2 MB body at Orum\'s and Fuuffy\'s mounts: their own 413 bodies, no-store, connection closed', async () => {
    const orum = await post('/oauth/token', TWO_MB, 'application/json');
    assert.equal(orum.headers.get('connection'), 'close');
    await expectAnswer('orum', orum, { status: 413, body: { error_code: 'payload_too_large', message: 'Payload Too Large', details: null } });
    const fuuffy = await post('/v1/auth/token', TWO_MB);
    assert.equal(fuuffy.headers.get('connection'), 'close');
    await expectAnswer('fuuffy', fuuffy, { status: 413, body: { error: { code: '413001', code_reason: 'payload_too_large', message: 'Request body too large' } } });
    const oauth2 = await post('/oauth2/token', TWO_MB);
    assert.equal(oauth2.status, 413);
    assert.equal(oauth2.headers.get('cache-control'), 'no-store');
    assert.equal(oauth2.headers.get('pragma'), 'no-cache');
    assert.deepEqual(await oauth2.json(), { error: 'invalid_request', error_description: 'The request body is too large.' });
  });

  test('a wrong path under Fuuffy\'s mount: its 404001 body; under Orum\'s and Polygon\'s their own; elsewhere oauth2\'s', async () => {
    await expectAnswer('fuuffy', await post('/v1/auth/nope', ''), { status: 404, body: { error: { code: '404001', code_reason: 'not_found', message: 'Resource or endpoint not found' } } });
    await expectAnswer('orum', await post('/oauth/nope', ''), { status: 404, body: { error_code: 'not_found', message: 'Not Found', details: null } });
    await expectAnswer('polygon-oms', await post('/v0.9/auth/nope', ''), { status: 404, body: { error: 'WebrpcBadRoute', code: -2, msg: 'bad route', status: 404 } });
    await expectAnswer('tradevest', await post('/connect/nope', ''), { status: 404, body: { error: 'invalid_request' } });
    const polar = await post('/v1/oauth2/nope', '');
    assert.equal(polar.status, 404);
    assert.deepEqual(await polar.json(), { error: 'not_found', error_description: 'No such endpoint.' });
    const outside = await fetch(`${s.url}/nope`);
    assert.equal(outside.status, 404);
    assert.equal(outside.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await outside.json(), { error: 'not_found', error_description: 'No such endpoint.' });
  });

  test('T-01 every dialect\'s 405 is in its own shape, with Allow', async () => {
    const cases: Array<[DialectName, string, unknown]> = [
      ['orum', '/oauth/token', { error_code: 'method_not_allowed', message: 'Method Not Allowed', details: null }],
      ['fuuffy', '/v1/auth/token', { error: { code: '405001', code_reason: 'method_not_allowed', message: 'Method not allowed' } }],
      ['polygon-oms', '/v0.9/auth/token', { error: 'WebrpcBadMethod', code: -3, msg: 'bad method', cause: 'method', status: 405 }],
      ['tradevest', '/connect/token', { error: 'invalid_request' }],
    ];
    for (const [dialect, path, body] of cases) {
      await expectAnswer(dialect, await fetch(s.url + path, { method: 'PUT' }), { status: 405, headers: { Allow: 'POST' }, body });
    }
    for (const path of ['/oauth2/token', '/v1/oauth2/token']) {
      const res = await fetch(s.url + path, { method: 'GET' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: 'The token endpoint accepts only POST.' });
    }
  });

  test('BODY-01 a chunked body that grows past the limit and never ends gets 413 and a closed connection', async () => {
    const head = `POST /v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const { text, closed } = await raw(s.url, head, { stream: true });
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /\r\ncache-control: no-store\r\n/i);
    assert.match(text, /\r\npragma: no-cache\r\n/i);
    assert.ok(text.endsWith('{"error":{"code":"413001","code_reason":"payload_too_large","message":"Request body too large"}}'), text);
    assert.ok(closed);
  });

  test('BODY-02 Expect: 100-continue with a body declared too large: 413 at once, never 100 Continue', async () => {
    const head = `POST /oauth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n`;
    const { text } = await raw(s.url, head);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(text, /100 Continue/);
    assert.ok(text.endsWith('{"error_code":"payload_too_large","message":"Payload Too Large","details":null}'), text);
  });

  test('Expect: 100-continue with an acceptable body is invited and answered', async () => {
    const body = 'grant_type=client_credentials';
    const head = `POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`;
    const { text } = await raw(s.url, head);
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 401 /);
  });
});

test('nested mounts: the longest prefix wins', async (t) => {
  const s = await startServer({ dialects: ['oauth2=/v1/token', 'fuuffy'] });
  t.after(() => s.close());
  const inner = await fetch(`${s.url}/v1/auth/nope`, { method: 'POST' });
  await expectAnswer('fuuffy', inner, { status: 404, body: { error: { code: '404001', code_reason: 'not_found', message: 'Resource or endpoint not found' } } });
  const outer = await fetch(`${s.url}/v1/nope`, { method: 'POST' });
  assert.equal(outer.status, 404);
  assert.deepEqual(await outer.json(), { error: 'not_found', error_description: 'No such endpoint.' });
});

test('two dialects in one directory: startup names both', async () => {
  await assert.rejects(startServer({ dialects: ['orum=/api/orum-token', 'fuuffy=/api/fuuffy-token'] }), /mount \/api\/ is claimed by both orum and fuuffy/);
});

test('LOG-01 a client that hangs up mid-body is not logged as an error', async (t) => {
  const lines: string[] = [];
  const s = await startServer({}, { log: createLogger('debug', (line) => void lines.push(line)) });
  t.after(() => s.close());
  const { hostname, port } = new URL(s.url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write('POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=');
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
  });
  // The server learns of the hang-up asynchronously: wait for its log line (bounded).
  for (let i = 0; i < 100 && !lines.some((l) => l.includes('client hung up')); i++) await new Promise((r) => setTimeout(r, 20));
  const levels = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
  assert.deepEqual(levels.filter((l) => l.level === 'error' || l.level === 'warn'), []);
  assert.ok(levels.some((l) => l.msg === 'client hung up'), JSON.stringify(levels));
  assert.ok(lines.every((l) => !l.includes('stack')));
});

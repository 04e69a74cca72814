/**
 * What the server writes on a connection whose request it could not read. A connection that sent no
 * complete request before the headers timeout is closed without a byte: browsers open connections
 * before they need them (a console page's next navigation, a preconnect), and would take a "400"
 * written there as the answer to the request they send next. A malformed request still gets its 400,
 * and oversized headers their 431.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createHttpServer } from '../../src/http/server.ts';
import { Router } from '../../src/http/router.ts';
import { createLogger } from '../../src/util/log.ts';
import { json } from '../../src/wire/http.ts';

const router = new Router((err) => json(err.status, { error: err.code }));
const server = createHttpServer(router, { bodyLimit: 1024, requestTimeoutMs: 10_000, headersTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000 }, createLogger('silent'));
const accepted: Socket[] = [];
server.on('connection', (s: Socket) => accepted.push(s));
let port = 0;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Opens a connection, lets `act` run on the server's side of it, and collects what the client reads until close. */
async function exchange(act: (serverSide: Socket, clientSide: Socket) => void): Promise<string> {
  const client = connect(port, '127.0.0.1');
  let got = '';
  client.on('data', (d) => (got += d.toString()));
  await new Promise((resolve) => client.once('connect', resolve));
  while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
  act(accepted.shift()!, client);
  await new Promise((resolve) => client.once('close', resolve));
  return got;
}

test('an idle connection that times out before a request is closed without an answer', async () => {
  const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
  assert.equal(await exchange((s) => server.emit('clientError', timeout, s)), '');
});

test('a malformed request gets 400 and oversized headers 431, each with Connection: close', async () => {
  assert.equal(await exchange((_, c) => c.write('NOT HTTP\r\n\r\n')), 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.equal(
    await exchange((_, c) => c.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)),
    'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
  );
});

test('a handler that throws on a request read in full is answered 500 in JSON, no stack; not taken for a hang-up', async () => {
  router.add({ method: 'GET', path: '/throws', owner: 'test', handler: () => {
    throw new Error('a bug in a handler');
  } });
  router.add({ method: 'POST', path: '/throws', owner: 'test', handler: () => {
    throw new Error('a bug in a handler');
  } });
  for (const init of [{}, { method: 'POST', body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }]) {
    const res = await fetch(`http://127.0.0.1:${port}/throws`, { ...init, signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'server_error', error_description: 'An internal error occurred.' });
  }
});

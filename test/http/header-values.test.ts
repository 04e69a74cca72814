/**
 * `headerValues` (src/wire/http.ts) reads a header's values from the raw list instead of Node's
 * `headersDistinct`: for every header of a real request it must give exactly what Node gives, so that
 * a header sent twice (T-05, DP-01) is still seen twice and any spelling of a name is the same name.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { headerValues } from '../../src/wire/http.ts';

test('headerValues gives what headersDistinct gives, for every header name, sent once, twice or never', async () => {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const sends: Array<Array<[string, string]>> = [
    [['Content-Type', 'application/x-www-form-urlencoded'], ['content-type', 'application/json']],
    [['AUTHORIZATION', 'Basic YTpi'], ['Authorization', 'Basic Yzpk'], ['DPoP', 'a.b.c']],
    [['dpop', 'x'], ['X-Forwarded-For', '10.0.0.1'], ['x-forwarded-for', '10.0.0.2, 10.0.0.3'], ['Cookie', 'a=1'], ['cookie', 'b=2']],
    [['X-Empty', ''], ['x-dpop', 'not it'], ['dpo', 'nor this']],
  ];
  try {
    for (const headers of sends) {
      // Headers as a list are sent as they are: Host too must be given (else the server answers 400).
      const list = [['Host', `127.0.0.1:${port}`], ...headers];
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: list as unknown as Record<string, string> });
      req.end('');
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.resume();
      await once(res, 'end');
    }
  } finally {
    server.close();
  }
  assert.equal(seen.length, sends.length);
  for (const req of seen) {
    const names = new Set([...Object.keys(req.headersDistinct), 'dpop', 'authorization', 'content-type', 'absent']);
    for (const name of names) assert.deepEqual(headerValues(req, name), req.headersDistinct[name], `${name} in ${JSON.stringify(req.rawHeaders)}`);
  }
  assert.deepEqual(headerValues(seen[0]!, 'content-type'), ['application/x-www-form-urlencoded', 'application/json']);
  assert.deepEqual(headerValues(seen[1]!, 'authorization'), ['Basic YTpi', 'Basic Yzpk']);
  assert.equal(headerValues(seen[3]!, 'dpop'), undefined);
});

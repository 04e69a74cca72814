/**
 * A tiny node:http server answering from a function. Used only where the thing under test is a
 * written contract (RFC 7662 introspection, the revocation feed) and answers Keymint would not give
 * on demand (outages, other audiences); live-server.test.ts checks the same code against Keymint.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type StubAnswer = { status: number; body: unknown; headers?: Record<string, string> };

export async function stubServer(answer: (req: StubRequest) => StubAnswer) {
  const requests: StubRequest[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    requests.push(r);
    const a = answer(r);
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

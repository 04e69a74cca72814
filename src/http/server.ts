/**
 * The node:http server: bounded bodies and headers, timeouts against slow clients, security
 * headers on every answer, and no request ever answered with a stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { redactPath, type Logger } from '../util/log.ts';
import type { Router } from './router.ts';
import type { LoadShedder, ShedCause } from '../limits/shedding.ts';
import { json, type HttpRequest, type HttpResponse } from '../wire/http.ts';

export interface HttpSettings {
  /** Largest accepted request body, bytes. */
  readonly bodyLimit: number;
  /** Time allowed for a whole request to arrive, ms. */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Sheds load before bodies are read; absent = never shed. */
  readonly shedder?: LoadShedder;
  /** Told about every shed request (metrics). */
  readonly onShed?: (cause: ShedCause) => void;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

export function createHttpServer(router: Router, settings: HttpSettings, log: Logger): Server {
  const server = createServer(
    {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      const { shedder } = settings;
      if (shedder) {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const cause = shedder.check(q < 0 ? url : url.slice(0, q));
        if (cause !== undefined) return shed(req, res, router, cause, settings);
        shedder.start();
        res.once('close', () => shedder.done());
      }
      handle(req, res, router, settings, log).catch((err: unknown) => {
        log.error('request failed', { err, path: redactPath(req.url?.split('?')[0] ?? '') });
        if (!res.headersSent) send(res, json(500, { error: 'server_error', error_description: 'An internal error occurred.' }));
        else res.destroy();
      });
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, router: Router, settings: HttpSettings, log: Logger) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > settings.bodyLimit) {
    req.resume();
    return send(res, json(413, { error: 'invalid_request', error_description: 'The request body is too large.' }, { Connection: 'close' }));
  }
  const body = await readBody(req, settings.bodyLimit);
  if (body === undefined) {
    return send(res, json(413, { error: 'invalid_request', error_description: 'The request body is too large.' }, { Connection: 'close' }));
  }
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path,
    query: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    // Node builds this object on access: only pay for it when a handler looks.
    get headersDistinct() {
      return req.headersDistinct;
    },
    body,
    ip: req.socket.remoteAddress ?? '',
  };
  const started = performance.now();
  const response = await router.dispatch(request);
  send(res, response, request.method === 'HEAD');
  log.debug('request', { method: request.method, path: redactPath(path), status: response.status, ms: +(performance.now() - started).toFixed(2) });
}

/** 503 + Retry-After without reading the body (it is discarded as it arrives). */
function shed(req: IncomingMessage, res: ServerResponse, router: Router, cause: ShedCause, settings: HttpSettings): void {
  req.resume();
  settings.onShed?.(cause);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    headersDistinct: req.headersDistinct,
    body: Buffer.alloc(0),
    ip: req.socket.remoteAddress ?? '',
  };
  send(res, router.unavailable(request, 1));
}

/** The body, or undefined when it exceeds `limit` (the rest is drained, not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A string body goes out as a string: Node then writes status line, headers and body as one chunk,
 * where a Buffer body costs a second chunk in the writev.
 */
function send(res: ServerResponse, r: HttpResponse, headOnly = false): void {
  const length = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length;
  res.writeHead(r.status, { ...SECURITY_HEADERS, ...r.headers, 'Content-Length': String(length) });
  res.end(headOnly ? undefined : r.body);
}

/**
 * The node:http server: bounded bodies and headers, timeouts against slow clients, security
 * headers on every answer, and no request ever answered with a stack trace. Answers the server
 * gives on its own (413, a shed 503) are built by the router, in the shape of the path's owner.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { LoadShedder, ShedCause } from '../limits/shedding.ts';
import { redactPath, type Logger } from '../util/log.ts';
import { http, https } from '../util/node-http.ts';
import { OAuthError } from '../wire/errors.ts';
import { json, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import type { Router } from './router.ts';
import { clientCertificate, type TlsMaterial } from './tls.ts';

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
  /** Serve HTTPS with this certificate; absent = plain HTTP. */
  readonly tls?: TlsMaterial | undefined;
  /**
   * With `tls`: ask every client for a certificate of its own (RFC 8705 §2), never requiring one.
   * Off on the main listener when a mutual-TLS listener takes the certificates (RFC 8705 §5), so a
   * browser there is never shown a certificate picker.
   */
  readonly requestCert?: boolean;
  /** Believe a `Client-Cert` header (RFC 9440) from a TLS-terminating proxy. */
  readonly clientCertHeader?: boolean;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

const tooLarge = () => new OAuthError('payload_too_large', 'The request body is too large.', { reason: 'body' });

/** Servers that stopped accepting and answer what is in flight with `Connection: close`. */
const draining = new WeakSet<Server>();

export function createHttpServer(router: Router, settings: HttpSettings, log: Logger): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const { shedder } = settings;
    if (shedder && !shedder.exempts(pathOf(req))) {
      const cause = shedder.check();
      if (cause !== undefined) return shed(req, res, router, cause, settings);
      shedder.start();
      res.once('close', () => shedder.done());
    }
    handle(req, res, router, settings, log, () => draining.has(server)).catch((err: unknown) => {
      // A client that hangs up mid-body is a normal event, not a failure of ours (SECURITY LOG-01).
      // (`req.complete`, not `req.destroyed`: a request read to its end is destroyed too, by autoDestroy.)
      if (!req.complete && !res.headersSent) return log.debug('client hung up', { path: redactPath(pathOf(req)) });
      log.error('request failed', { err, path: redactPath(pathOf(req)) });
      if (!res.headersSent) send(res, json(500, { error: 'server_error', error_description: 'An internal error occurred.' }));
      else res.destroy();
    });
  };
  const options = {
    requestTimeout: settings.requestTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    maxHeaderSize: 16 * 1024,
  };
  // RFC 8705 §2: a client certificate is asked for (unless another listener does) and never required; what it proves is decided per client.
  const server: Server = settings.tls
    ? (https().createServer({ ...options, cert: settings.tls.cert, key: settings.tls.key, requestCert: settings.requestCert !== false, rejectUnauthorized: false }, onRequest) as unknown as Server)
    : http.createServer(options, onRequest);
  // `Expect: 100-continue`: a body declared too large is refused at once, never invited (RFC 9110 §10.1.1).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) > settings.bodyLimit) return refuseBody(req, res, router);
    res.writeContinue();
    onRequest(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A connection that sent no complete request within the headers timeout is closed without an
    // answer: browsers open connections ahead of use, and would read any bytes written on one as
    // the answer to the next request they send on it (a 400 in place of the page).
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return socket.destroy();
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  return server;
}

/**
 * Stops accepting; connections idle between requests are closed at once, each request in flight
 * is answered and its connection closed after it; whatever is still open after `graceMs` is cut.
 */
export function drainServer(server: Server, graceMs: number): Promise<void> {
  draining.add(server);
  return new Promise((resolve) => {
    // A keep-alive connection turns idle when its answer is out: close those as they appear.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, router: Router, settings: HttpSettings, log: Logger, draining: () => boolean) {
  if (declaredLength(req) > settings.bodyLimit) return refuseBody(req, res, router);
  const body = await readBody(req, settings.bodyLimit);
  if (body === undefined) return refuseBody(req, res, router);
  const request = new NodeRequest(req, body, settings.clientCertHeader === true);
  const started = log.debugging ? performance.now() : 0;
  // Most answers are there at once (src/util/maybe.ts): waiting for one that is costs a microtask.
  const answer = router.dispatch(request);
  const response = answer instanceof Promise ? await answer : answer;
  // Drain began while this request was in flight: its connection closes after the answer.
  if (draining()) res.shouldKeepAlive = false;
  send(res, response, request.method === 'HEAD', router.cors(request));
  if (log.debugging) log.debug('request', { method: request.method, path: redactPath(request.path), status: response.status, ms: +(performance.now() - started).toFixed(2) });
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function declaredLength(req: IncomingMessage): number {
  return Number(req.headers['content-length'] ?? 0);
}

/**
 * The request as plain data (src/wire/http.ts). A class, not an object literal with a getter:
 * every literal that defines an accessor of its own gets a hidden class of its own, allocated in
 * the old generation and pointing at the getter's closure, so each request's whole object graph
 * (request, headers, body, answer) survived every scavenge until the next full collection
 * (docs/performance.md, "The tail at half capacity").
 */
class NodeRequest implements HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly ip: string;
  readonly #req: IncomingMessage;
  readonly #certHeader: boolean;
  #cert: Buffer | null | undefined;

  constructor(req: IncomingMessage, body: Buffer, certHeader = false) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.method = req.method ?? 'GET';
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    this.headers = req.headers;
    this.rawHeaders = req.rawHeaders;
    this.body = body;
    this.ip = req.socket.remoteAddress ?? '';
    this.#req = req;
    this.#certHeader = certHeader;
  }

  /** Read from the connection (or the trusted header) when an endpoint asks: most never do. */
  get clientCertificate(): Buffer | undefined {
    if (this.#cert === undefined) this.#cert = clientCertificate(this.#req.socket, this.headers, this.#certHeader) ?? null;
    return this.#cert ?? undefined;
  }

  /** Node builds this object on access: only pay for it when a handler looks. */
  get headersDistinct(): Readonly<Record<string, string[] | undefined>> {
    return this.#req.headersDistinct;
  }
}

/**
 * A body over the limit, answered in the owner's shape (413 where its catalogue has one), and no
 * more reading: the connection closes once the answer is out, so a body that keeps coming (a chunked
 * stream without end) is never consumed.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse, router: Router): void {
  const request = new NodeRequest(req, Buffer.alloc(0));
  const answer = router.error(request, tooLarge());
  req.pause();
  res.shouldKeepAlive = false;
  res.once('finish', () => req.socket.destroy());
  send(res, { ...answer, headers: { ...answer.headers, Connection: 'close' } }, false, router.cors(request));
}

/** 503 + Retry-After without reading the body (it is discarded as it arrives). */
function shed(req: IncomingMessage, res: ServerResponse, router: Router, cause: ShedCause, settings: HttpSettings): void {
  req.resume();
  settings.onShed?.(cause);
  const err = new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable.', { reason: 'overloaded', retryAfter: 1 });
  const request = new NodeRequest(req, Buffer.alloc(0));
  const answer = router.error(request, err);
  send(res, { ...answer, status: 503, headers: { ...answer.headers, 'Retry-After': '1' } }, false, router.cors(request));
}

/** The body, or undefined as soon as it exceeds `limit` (reading stops there). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * A string body goes out as a string: Node then writes status line, headers and body as one chunk,
 * where a Buffer body costs a second chunk in the writev. `cors`: what a browser on another origin
 * may read (`Router.cors`), on every answer at such a path, errors included.
 */
function send(res: ServerResponse, r: HttpResponse, headOnly = false, cors?: Readonly<Record<string, string>>): void {
  const length = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length;
  res.writeHead(r.status, cors ? { ...SECURITY_HEADERS, ...r.headers, ...cors, 'Content-Length': String(length) } : { ...SECURITY_HEADERS, ...r.headers, 'Content-Length': String(length) });
  res.end(headOnly ? undefined : r.body);
}

/**
 * RFC 6750 and RFC 9449 guards for node:http, Express, Fastify and Fetch-API runtimes (Hono, Bun,
 * Deno, workers). Each takes the token from the Authorization header only (`Bearer`, or `DPoP` with
 * its proof when the verifier has DPoP on), verifies it, and either hands the claims on or answers
 * with `challenge()`. With `resourceMetadata` each also answers `GET` of the RFC 9728 document (and
 * a browser's preflight for it) when the request reaches it, and names it in its challenges. With
 * `cors` each answers allowed origins' preflights and adds their CORS headers (see `cors.ts`).
 * Framework types are structural: nothing here imports a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsFromRequest, type BearerSource } from './bearer.ts';
import { challenge, checkRealm, type ChallengeOptions } from './challenge.ts';
import { certificateFromHeader } from './client-cert.ts';
import { corsPolicy, type CorsOptions, type CorsRequest } from './cors.ts';
import { VerifyError } from './errors.ts';
import { resourceMetadata, type ResourceMetadataOptions } from './resource-metadata.ts';
import type { AccessTokenClaims, Verifier } from './verifier.ts';

export interface ProtectOptions {
  /** `realm` of every challenge (default `api`). */
  readonly realm?: string;
  /** Scopes this route needs, on top of the verifier's `requiredScopes`. */
  readonly scopes?: readonly string[];
  /** `Retry-After` seconds when the keys cannot be fetched (default 5). */
  readonly retryAfter?: number;
  /**
   * The origin clients address, e.g. `https://api.example.com`, for DPoP's `htu`. Default: the
   * request's own (scheme of the socket, `Host` header), which is wrong behind a TLS-ending proxy.
   */
  readonly origin?: string;
  /** Serve RFC 9728 metadata and name it in challenges. */
  readonly resourceMetadata?: ResourceMetadataOptions;
  /**
   * Answer CORS for callers in web pages on these origins: the guard answers their preflight, its
   * refusals carry the CORS headers, and on success the node:http, Express and Fastify guards set them
   * on the response (Fetch apps spread `corsHeaders(options, request)` into theirs).
   */
  readonly cors?: CorsOptions;
  /**
   * Behind a TLS-terminating proxy, take the client's certificate (for `mtls`) from the RFC 9440
   * `Client-Cert` header the proxy sets. Only where the proxy removes that header from every
   * client's request: otherwise a caller could present any certificate's thumbprint. A certificate
   * on the connection itself still wins.
   */
  readonly clientCertHeader?: boolean;
}

/** A request as the guard reads it. */
interface Parts extends BearerSource, CorsRequest {
  /** Absolute URL. */
  readonly href: string;
  readonly dpop: readonly string[] | string | undefined;
  /** The TLS client certificate of the connection (RFC 8705 §3), DER. */
  readonly clientCertificate?: Uint8Array | undefined;
}

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** On success, `headers` are the CORS headers the app's answer must carry. */
type Outcome = { readonly claims: AccessTokenClaims; readonly headers: Readonly<Record<string, string>> } | { readonly answer: Answer };

function guard(verifier: Verifier, options: ProtectOptions) {
  const metadata = options.resourceMetadata ? resourceMetadata(options.resourceMetadata, verifier) : undefined;
  const challengeOptions: ChallengeOptions = {
    realm: checkRealm(options.realm ?? 'api'),
    retryAfter: options.retryAfter ?? 5,
    dpopAlgorithms: verifier.dpopAlgorithms,
    dpopRequired: verifier.dpopRequired,
    resourceMetadata: metadata?.url,
  };
  const cors = options.cors ? corsPolicy(options.cors) : undefined;
  return async (parts: Parts): Promise<Outcome> => {
    if (metadata && URL.parse(parts.href)?.pathname === metadata.path) {
      if (parts.method === 'GET' || parts.method === 'HEAD') return { answer: metadata.response };
      if (parts.method === 'OPTIONS') return { answer: metadata.preflight };
    }
    const preflight = cors?.preflight(parts);
    if (preflight) return { answer: preflight };
    const headers = cors?.headers(parts) ?? {};
    try {
      const { scheme, token } = credentialsFromRequest(parts);
      const header = scheme === 'DPoP' ? `DPoP ${token}` : token;
      const request = { method: parts.method, url: parts.href, dpop: parts.dpop };
      return { claims: await verifier.verify(header, { requiredScopes: options.scopes, request, clientCertificate: parts.clientCertificate }), headers };
    } catch (error) {
      // Only verdicts are answered here; a bug or a throwing revocation source goes to the framework.
      if (!(error instanceof VerifyError)) throw error;
      const refusal = challenge(error, challengeOptions);
      return { answer: { ...refusal, headers: { ...refusal.headers, ...headers } } };
    }
  };
}

/**
 * Every value a header came with (a header sent twice is refused, so joined values will not do).
 * Node's requests have `headersDistinct`; the requests Fastify's `inject()` makes (light-my-request),
 * which a Fastify app's tests use, do not: there the values come from `rawHeaders`.
 */
function distinct(req: IncomingMessage, name: string): string[] | undefined {
  if ((req.headersDistinct as IncomingMessage['headersDistinct'] | undefined) !== undefined) return req.headersDistinct[name];
  const raw = req.rawHeaders ?? [];
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values.length > 0 ? values : undefined;
}

function nodeParts(req: IncomingMessage, target: string | undefined, options: ProtectOptions): Parts {
  const { origin } = options;
  const own = `${'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  return {
    authorization: distinct(req, 'authorization'),
    dpop: distinct(req, 'dpop'),
    method: req.method ?? 'GET',
    originHeader: req.headers.origin,
    requestMethod: req.headers['access-control-request-method'],
    url: target ?? req.url,
    href: `${origin ?? own}${target ?? req.url ?? '/'}`,
    clientCertificate: peerCertificate(req.socket) ?? (options.clientCertHeader === true ? certificateFromHeader(distinct(req, 'client-cert')) : undefined),
  };
}

/** The DER certificate the client presented on a TLS connection, else undefined. */
function peerCertificate(socket: unknown): Uint8Array | undefined {
  const tls = socket as { getPeerCertificate?: (detailed?: boolean) => { raw?: Buffer } | null };
  if (typeof tls?.getPeerCertificate !== 'function') return undefined;
  const raw = tls.getPeerCertificate(false)?.raw;
  return raw !== undefined && raw.length > 0 ? raw : undefined;
}

/** `setHeader`, so that the app's own `writeHead` adds to these rather than replacing them. */
function setHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** node:http: resolves to the claims, or answers the request itself and resolves to undefined. */
export function protectNode(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return async (req: IncomingMessage, res: ServerResponse): Promise<AccessTokenClaims | undefined> => {
    const outcome = await check(nodeParts(req, undefined, options));
    if ('claims' in outcome) {
      setHeaders(res, outcome.headers);
      return outcome.claims;
    }
    send(res, outcome.answer);
    return undefined;
  };
}

interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string;
  auth?: AccessTokenClaims;
}
interface ExpressLikeResponse extends ServerResponse {
  locals?: Record<string, unknown>;
}

/** Express (4 or 5) middleware: sets `req.auth` and `res.locals.auth`, or answers. */
export function expressBearer(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void): void => {
    check(nodeParts(req, req.originalUrl, options)).then((outcome) => {
      if ('answer' in outcome) return send(res, outcome.answer);
      setHeaders(res, outcome.headers);
      req.auth = outcome.claims;
      if (res.locals) res.locals.auth = outcome.claims;
      next();
    }, next);
  };
}

interface FastifyLikeRequest {
  readonly raw: IncomingMessage;
  readonly url: string;
  auth?: AccessTokenClaims | null;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(body?: string): FastifyLikeReply;
}

/**
 * Fastify `onRequest`/`preHandler` hook: sets `request.auth`, or answers. Declare the property once
 * with `app.decorateRequest('auth', null)`.
 */
export function fastifyBearer(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return async (request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<FastifyLikeReply | undefined> => {
    const outcome = await check(nodeParts(request.raw, request.url, options));
    if ('claims' in outcome) {
      request.auth = outcome.claims;
      reply.headers(outcome.headers);
      return undefined;
    }
    const { status, headers, body } = outcome.answer;
    // Returning the reply from an async hook tells Fastify the request is answered: no handler runs.
    return reply.code(status).headers(headers).send(body);
  };
}

/**
 * Fetch API: `(request) => claims | Response`; return the Response when it is one. `Headers.get`
 * joins repeated Authorization (or DPoP) headers with ", ", which fails the grammar and so is still
 * refused.
 */
export function fetchBearer(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return async (request: Request): Promise<AccessTokenClaims | Response> => {
    const authorization = request.headers.get('authorization') ?? undefined;
    const url = new URL(request.url);
    const href = options.origin === undefined ? request.url : `${options.origin}${url.pathname}${url.search}`;
    const dpop = request.headers.get('dpop') ?? undefined;
    // Headers.get joins a repeated Client-Cert with ", ", which is no byte sequence: no certificate.
    const clientCertificate = options.clientCertHeader === true ? certificateFromHeader(request.headers.get('client-cert')) : undefined;
    const outcome = await check({ authorization, dpop, ...fetchCorsRequest(request), url: request.url, href, clientCertificate });
    if ('claims' in outcome) return outcome.claims;
    const { status, headers, body } = outcome.answer;
    return new Response(body === '' ? null : body, { status, headers });
  };
}

function fetchCorsRequest(request: Request): CorsRequest {
  const originHeader = request.headers.get('origin') ?? undefined;
  return { method: request.method, originHeader, requestMethod: request.headers.get('access-control-request-method') ?? undefined };
}

/**
 * The CORS headers a Fetch app's own answer to `request` must carry after `fetchBearer` or
 * `honoBearer` let it through (`{}` without `options.cors` or from a disallowed origin), e.g.
 * `new Response(body, { headers: { ...corsHeaders(options, request), 'Content-Type': … } })`.
 */
export function corsHeaders(options: ProtectOptions, request: Request): Readonly<Record<string, string>> {
  return options.cors ? corsPolicy(options.cors).headers(fetchCorsRequest(request)) : {};
}

interface HonoLikeContext {
  readonly req: { readonly raw: Request };
  set(key: 'auth', value: AccessTokenClaims): void;
}

/** Hono middleware: `c.get('auth')` holds the claims, or the refusal is returned. */
export function honoBearer(verifier: Verifier, options: ProtectOptions = {}) {
  const check = fetchBearer(verifier, options);
  return async (c: HonoLikeContext, next: () => Promise<void>): Promise<Response | void> => {
    const result = await check(c.req.raw);
    if (result instanceof Response) return result;
    c.set('auth', result);
    await next();
  };
}

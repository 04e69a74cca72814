/**
 * RFC 6750 guards for node:http, Express, Fastify and Fetch-API runtimes (Hono, Bun, Deno, workers).
 * Each takes the token from the Authorization header only, verifies it, and either hands the claims
 * on or answers with `challenge()`. Framework types are structural: nothing here imports a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokenFromRequest, type BearerSource } from './bearer.ts';
import { challenge, checkRealm, type Challenge } from './challenge.ts';
import { VerifyError } from './errors.ts';
import type { AccessTokenClaims, Verifier } from './verifier.ts';

export interface ProtectOptions {
  /** `realm` of every challenge (default `api`). */
  readonly realm?: string;
  /** Scopes this route needs, on top of the verifier's `requiredScopes`. */
  readonly scopes?: readonly string[];
  /** `Retry-After` seconds when the keys cannot be fetched (default 5). */
  readonly retryAfter?: number;
}

type Outcome = { readonly claims: AccessTokenClaims } | { readonly refused: Challenge };

function guard(verifier: Verifier, options: ProtectOptions) {
  const challengeOptions = { realm: checkRealm(options.realm ?? 'api'), retryAfter: options.retryAfter ?? 5 };
  const call = options.scopes ? { requiredScopes: options.scopes } : undefined;
  return async (source: BearerSource): Promise<Outcome> => {
    try {
      const token = tokenFromRequest(source);
      return { claims: await verifier.verify(token, call) };
    } catch (error) {
      // Only verdicts are answered here; a bug or a throwing revocation source goes to the framework.
      if (!(error instanceof VerifyError)) throw error;
      return { refused: challenge(error, challengeOptions) };
    }
  };
}

const fromNode = (req: IncomingMessage): BearerSource => ({ authorization: req.headersDistinct.authorization, url: req.url });

function send(res: ServerResponse, refused: Challenge): void {
  res.writeHead(refused.status, refused.headers);
  res.end(refused.body);
}

/** node:http: resolves to the claims, or answers the request itself and resolves to undefined. */
export function protectNode(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return async (req: IncomingMessage, res: ServerResponse): Promise<AccessTokenClaims | undefined> => {
    const outcome = await check(fromNode(req));
    if ('claims' in outcome) return outcome.claims;
    send(res, outcome.refused);
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
    check({ authorization: req.headersDistinct.authorization, url: req.originalUrl ?? req.url }).then((outcome) => {
      if ('refused' in outcome) return send(res, outcome.refused);
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
    const outcome = await check({ authorization: request.raw.headersDistinct.authorization, url: request.url });
    if ('claims' in outcome) {
      request.auth = outcome.claims;
      return undefined;
    }
    const { status, headers, body } = outcome.refused;
    // Returning the reply from an async hook tells Fastify the request is answered: no handler runs.
    return reply.code(status).headers(headers).send(body);
  };
}

/**
 * Fetch API: `(request) => claims | Response`; return the Response when it is one. `Headers.get`
 * joins repeated Authorization headers with ", ", which fails the grammar and so is still refused.
 */
export function fetchBearer(verifier: Verifier, options: ProtectOptions = {}) {
  const check = guard(verifier, options);
  return async (request: Request): Promise<AccessTokenClaims | Response> => {
    const authorization = request.headers.get('authorization') ?? undefined;
    const outcome = await check({ authorization, url: request.url });
    if ('claims' in outcome) return outcome.claims;
    const { status, headers, body } = outcome.refused;
    return new Response(body === '' ? null : body, { status, headers });
  };
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

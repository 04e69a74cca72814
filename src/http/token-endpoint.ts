/**
 * A mounted dialect's token endpoint: decode → exchange → encode; every failure in the dialect's
 * shape. Here, because only here are both the request and the outcome known: the per-address limit
 * and the lockout check (before any secret is checked), failed-authentication counting, and the
 * per-dialect/grant/result metrics.
 */
import type { Dialect } from '../dialects/types.ts';
import type { ClientIp } from '../limits/client-ip.ts';
import type { RequestLimiter } from '../limits/limiter.ts';
import type { Metrics } from '../metrics/index.ts';
import { guarded } from '../limits/guard.ts';
import { exchange, type ExchangeDeps } from '../protocol/exchange.ts';
import { OAuthError, toOAuthError } from '../wire/errors.ts';
import type { Logger } from '../util/log.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import type { Route } from './router.ts';

export interface TokenEndpointOptions {
  readonly limiter?: RequestLimiter;
  readonly clientIp?: ClientIp;
  readonly metrics?: Metrics;
}

export function tokenRoute(dialect: Dialect, path: string, deps: ExchangeDeps, log: Logger, options: TokenEndpointOptions = {}): Route {
  return {
    method: 'POST',
    path,
    owner: dialect.name,
    handler: (req) => handleToken(dialect, req, deps, log, options),
    methodNotAllowed: (req) => dialect.encodeError(new OAuthError('method_not_allowed', 'The token endpoint accepts only POST.', { reason: 'method' }), req),
    unavailable: (req, retryAfter) =>
      dialect.encodeError(new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable.', { reason: 'overloaded', retryAfter }), req),
  };
}

async function handleToken(dialect: Dialect, req: HttpRequest, deps: ExchangeDeps, log: Logger, options: TokenEndpointOptions): Promise<HttpResponse> {
  const { limiter, metrics } = options;
  const started = performance.now();
  // Label values from closed sets only: a grant this dialect offers, else `other` (SECURITY S-06).
  let grant = 'unknown';
  let result = 'ok';
  try {
    const ip = options.clientIp ? options.clientIp(req) : req.ip;
    // Decoding is cheap and touches no store, so it comes first: the lockout check needs the client
    // id. An undecodable request still spends a token of its address before it is refused.
    let decoded: ReturnType<Dialect['decode']> | undefined;
    let invalid: unknown;
    try {
      decoded = dialect.decode(req);
    } catch (err) {
      invalid = err;
    }
    const type = decoded?.grantType;
    grant = decoded === undefined ? 'unknown' : type !== undefined && dialect.grants.includes(type) ? type : 'other';
    return await guarded(limiter, ip, decoded?.client.clientId, async () => {
      if (!decoded) throw invalid;
      return dialect.encodeResult(await exchange(decoded, dialect, deps));
    });
  } catch (thrown) {
    const err = toOAuthError(thrown);
    result = err.code;
    if (err.status >= 500) log.error('token request failed', { dialect: dialect.name, code: err.code, err: err.cause ?? thrown });
    if (metrics) {
      if (err.code === 'invalid_client') metrics.authFailures.inc({ reason: err.reason ?? 'credentials' });
      if (err.code === 'temporarily_unavailable') metrics.unavailable.inc({ cause: 'dependency' });
    }
    return dialect.encodeError(err, req);
  } finally {
    if (metrics) {
      metrics.tokens.inc({ dialect: dialect.name, grant, result });
      metrics.latency.observe({ dialect: dialect.name }, (performance.now() - started) / 1000);
    }
  }
}

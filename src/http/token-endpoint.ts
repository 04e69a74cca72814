/** A mounted dialect's token endpoint: decode → exchange → encode; every failure in the dialect's shape. */
import type { Dialect } from '../dialects/types.ts';
import { exchange, type ExchangeDeps } from '../protocol/exchange.ts';
import { OAuthError, toOAuthError } from '../protocol/errors.ts';
import type { Logger } from '../util/log.ts';
import type { HttpRequest, HttpResponse, Route } from './types.ts';

export function tokenRoute(dialect: Dialect, path: string, deps: ExchangeDeps, log: Logger): Route {
  return {
    method: 'POST',
    path,
    owner: dialect.name,
    handler: (req) => handleToken(dialect, req, deps, log),
    methodNotAllowed: (req) => dialect.encodeError(new OAuthError('method_not_allowed', 'The token endpoint accepts only POST.', { reason: 'method' }), req),
  };
}

async function handleToken(dialect: Dialect, req: HttpRequest, deps: ExchangeDeps, log: Logger): Promise<HttpResponse> {
  try {
    const request = dialect.decode(req);
    return dialect.encodeResult(await exchange(request, dialect, deps));
  } catch (thrown) {
    const err = toOAuthError(thrown);
    if (err.status >= 500) log.error('token request failed', { dialect: dialect.name, code: err.code, err: err.cause ?? thrown });
    return dialect.encodeError(err, req);
  }
}

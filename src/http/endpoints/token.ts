/** The token endpoint (RFC 6749 §3.2): the dialect decodes, `exchange` decides and issues, the dialect encodes. */
import type { Dialect } from '../../dialects/types.ts';
import { exchange, type ExchangeDeps, type TokenEndpoint } from '../../protocol/exchange.ts';
import type { TokenRequest, TokenResult } from '../../protocol/token-request.ts';
import type { Operation } from '../pipeline.ts';

export function tokenOperation(dialect: Dialect, endpoint: TokenEndpoint, deps: ExchangeDeps): Operation<TokenRequest, TokenResult> {
  return {
    name: 'token',
    decode: (req) => dialect.decode(req),
    // The grant as a label from a closed set: one this endpoint offers, else `other` (SECURITY S-06).
    presented: (request) => ({ clientId: request.client.clientId, grant: request.grantType !== undefined && endpoint.grants.has(request.grantType) ? request.grantType : 'other' }),
    run: (request, now, tokenTtl) => exchange(request, endpoint, now, deps, tokenTtl),
    encode: (result) => dialect.encodeResult(result),
  };
}

/**
 * The pushed authorization request endpoint (RFC 9126 §2) beside a dialect's token endpoint: the body
 * is decoded by the dialect (the same wire rules as its token endpoint), the client authenticates
 * as it would there (public clients by `client_id`), `protocol/par.ts` validates and stores the
 * request. Success is 201 with the `request_uri`; every error is the dialect's JSON error (§2.3).
 */
import type { Dialect } from '../../dialects/types.ts';
import { authenticateClient, type ClientAuthDeps } from '../../protocol/client-auth/index.ts';
import { pushAuthorization, type PushDeps, type Pushed } from '../../protocol/par.ts';
import type { TokenRequest } from '../../protocol/token-request.ts';
import { json, NO_STORE } from '../../wire/http.ts';
import type { Operation } from '../pipeline.ts';

export interface ParDeps extends ClientAuthDeps, PushDeps {
  readonly settings: ClientAuthDeps['settings'] & PushDeps['settings'];
}

export function parOperation(dialect: Dialect, deps: ParDeps): Operation<TokenRequest, Pushed> {
  return {
    name: 'par',
    decode: (req) => dialect.decode(req),
    presented: (request) => ({ clientId: request.client.clientId }),
    async run(request, now) {
      // RFC 9126 §2: "the same rules for client authentication as would be applied for the token endpoint".
      const { client } = await authenticateClient(request.client, deps, { allowPublic: true });
      return pushAuthorization(request.params, request.lists, client, now, deps);
    },
    // RFC 9126 §2.2: 201, and the answer is not to be cached.
    encode: (pushed) => json(201, { request_uri: pushed.requestUri, expires_in: pushed.expiresIn }, NO_STORE),
  };
}

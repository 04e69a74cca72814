/**
 * The pushed authorization request endpoint (RFC 9126 §2) beside a dialect's token endpoint: the body
 * is decoded by the dialect (the same wire rules as its token endpoint), a DPoP proof is checked as
 * the token endpoint checks one (RFC 9449 §10.1; `htu` this endpoint's URL), the client authenticates
 * as it would there (public clients by `client_id`), `protocol/par.ts` validates and stores the
 * request. Success is 201 with the `request_uri`; every error is the dialect's JSON error (§2.3).
 */
import type { Dialect } from '../../dialects/types.ts';
import { authenticateClient, type ClientAuthDeps } from '../../protocol/client-auth/index.ts';
import { verifyDpopProof, type DpopSettings } from '../../protocol/dpop.ts';
import { algorithmAllowed, fapi2ProofAlgorithm } from '../../protocol/fapi2.ts';
import { pushAuthorization, type PushDeps, type Pushed } from '../../protocol/par.ts';
import type { TokenRequest } from '../../protocol/token-request.ts';
import { OAuthError } from '../../wire/errors.ts';
import { json, NO_STORE } from '../../wire/http.ts';
import type { Operation } from '../pipeline.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { Maybe } from '../../util/maybe.ts';

export interface ParDeps extends ClientAuthDeps, PushDeps {
  readonly settings: ClientAuthDeps['settings'] & PushDeps['settings'];
  /** How DPoP proofs are checked: the token endpoint's settings (algorithms, window, nonces, replay guard). */
  readonly dpop: Omit<DpopSettings, 'now'>;
  /** The client's own rate limit, once it has authenticated (as at the token and device authorization endpoints). */
  readonly admit?: (client: ClientRecord) => Maybe<void>;
}

/** `url`: this endpoint's absolute URL, the `htu` of a DPoP proof sent with a push. */
export function parOperation(dialect: Dialect, url: string, deps: ParDeps): Operation<TokenRequest, Pushed> {
  return {
    name: 'par',
    decode: (req) => dialect.decode(req),
    presented: (request) => ({ clientId: request.client.clientId }),
    async run(request, now) {
      // RFC 9449 §10.1: a proof on the push is checked as in §4.3 (DP-07), before the client, as at
      // the token endpoint, so a nonce challenge or a bad proof spends no client assertion.
      const proof = await verifyDpopProof({ method: 'POST', url, proof: request.dpop }, { ...deps.dpop, now: () => now });
      // RFC 9126 §2: "the same rules for client authentication as would be applied for the token endpoint".
      const { client } = await authenticateClient(request.client, deps, { allowPublic: true });
      // As the token endpoint: a client restricted to other dialects does not use this one's endpoints.
      if (client.dialects.length > 0 && !client.dialects.includes(dialect.name)) {
        throw new OAuthError('unauthorized_client', 'The client is not allowed to use this endpoint.');
      }
      if (proof !== undefined && !algorithmAllowed(client, proof.alg)) throw fapi2ProofAlgorithm();
      await deps.admit?.(client);
      const pushed = await pushAuthorization(request.params, request.lists, client, now, deps, proof?.jkt);
      return proof?.freshNonce === undefined ? pushed : { ...pushed, dpopNonce: proof.freshNonce };
    },
    // RFC 9126 §2.2: 201, and the answer is not to be cached.
    encode: (pushed) => json(201, { request_uri: pushed.requestUri, expires_in: pushed.expiresIn }, pushed.dpopNonce === undefined ? NO_STORE : { ...NO_STORE, 'DPoP-Nonce': pushed.dpopNonce }),
  };
}

/**
 * The token endpoint, independent of any wire format: picks the grant, checks a DPoP proof,
 * authenticates the client, checks the client may use that grant here, lets the grant decide, and
 * issues. RFC 6749 §3.2, §5; RFC 9449 §5. What differs between endpoints (which grants they offer,
 * which formats they mint, their URL) is resolved once at wiring time into a `TokenEndpoint`;
 * nothing here asks which dialect is speaking. Each step answers at once when it did not have to
 * wait (src/util/maybe.ts): a client_credentials JWT for a cached client whose secret was proven
 * before is issued without a promise.
 */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';
import { andThen, type Maybe } from '../util/maybe.ts';
import { authenticateClient, type AuthenticatedClient, type ClientAuthDeps } from './client-auth/index.ts';
import { certificateThumbprint } from './client-auth/tls.ts';
import { verifyDpopProof, type DpopProof, type DpopSettings } from './dpop.ts';
import { algorithmAllowed, fapi2ProofAlgorithm, needsDpopProof } from './fapi2.ts';
import type { BoundGrant, GrantDecision } from './grant.ts';
import { issue, type IssueDeps, type IssueFormats } from './issue.ts';
import { TokenReuse } from './token-reuse.ts';
import type { TokenRequest, TokenResult } from './token-request.ts';

/** One mounted token endpoint: the grants it offers, the formats it mints and where clients address it. */
export interface TokenEndpoint {
  /** Name clients may be limited to (`ClientRecord.dialects`). */
  readonly name: string;
  /** The absolute URL clients send token requests to: the `htu` of their DPoP proofs. */
  readonly url: string;
  readonly grants: ReadonlyMap<string, BoundGrant>;
  readonly formats: IssueFormats;
}

export interface ExchangeDeps extends IssueDeps, ClientAuthDeps {
  readonly settings: IssueDeps['settings'] & ClientAuthDeps['settings'];
  /** Called once the client is authenticated and allowed the grant (its own rate limit); may throw. */
  readonly admit?: (client: ClientRecord) => Maybe<void>;
  /** How DPoP proofs are checked; the clock is the request's. */
  readonly dpop: Omit<DpopSettings, 'now'>;
  /** Tokens kept for clients registered with token reuse; absent = never reused. */
  readonly reuse?: TokenReuse;
}

/** `tokenTtl` (seconds) replaces the client's access-token lifetime for this one request. */
export function exchange(request: TokenRequest, endpoint: TokenEndpoint, now: number, deps: ExchangeDeps, tokenTtl?: number): Maybe<TokenResult> {
  const type = request.grantType;
  // RFC 6749 §5.2 and SECURITY T-06: missing → invalid_request, unknown → unsupported_grant_type.
  if (type === undefined) {
    throw new OAuthError('invalid_request', 'The grant_type parameter is required.', { field: 'grant_type', reason: 'missing' });
  }
  const grant = endpoint.grants.get(type);
  if (!grant) throw new OAuthError('unsupported_grant_type', 'The grant type is not supported.', { field: 'grant_type' });

  const exchanging: Exchange = { request, endpoint, now, deps, tokenTtl, type, grant };
  // RFC 9449 §5: the proof first, so a nonce challenge or a bad proof spends no client assertion.
  // (A request without a DPoP header has no proof to check: verifyDpopProof would answer undefined.)
  if (request.dpop === undefined) return authorize(exchanging, undefined);
  return verifyDpopProof({ method: 'POST', url: endpoint.url, proof: request.dpop }, { ...deps.dpop, now: () => now }).then((proof) => authorize(exchanging, proof));
}

/** One token request on its way through `exchange`'s steps. */
interface Exchange {
  readonly request: TokenRequest;
  readonly endpoint: TokenEndpoint;
  readonly now: number;
  readonly deps: ExchangeDeps;
  readonly tokenTtl: number | undefined;
  readonly type: string;
  readonly grant: BoundGrant;
}

/** Authenticates the client, checks it may use this grant here, admits it (its rate limit) and lets the grant decide. */
function authorize(x: Exchange, proof: DpopProof | undefined): Maybe<TokenResult> {
  const { request, endpoint, now, deps, type, grant } = x;
  return andThen(authenticateClient(request.client, deps, { allowPublic: grant.allowsPublicClients }), (caller) => {
    const { client } = caller;
    if (!client.grants.includes(type)) {
      throw new OAuthError('unauthorized_client', 'The client is not allowed to use this grant type.', { field: 'grant_type' });
    }
    if (client.dialects.length > 0 && !client.dialects.includes(endpoint.name)) {
      throw new OAuthError('unauthorized_client', 'The client is not allowed to use this endpoint.');
    }
    // RFC 9449 §5.2 `dpop_bound_access_tokens`: such a client's requests without a proof are refused;
    // so are a fapi2 client's, on every grant, unless its tokens are bound to its TLS certificate
    // (FAPI 2.0 §5.3.2.1 items 4-5: sender-constrained tokens only, by DPoP or mTLS; FAPI-05, FAPI-12).
    if (needsDpopProof(client) && proof === undefined) {
      throw new OAuthError('invalid_dpop_proof', 'This client must send a DPoP proof.', { reason: 'missing', field: 'DPoP' });
    }
    if (proof !== undefined && !algorithmAllowed(client, proof.alg)) throw fapi2ProofAlgorithm();
    // RFC 8705 §3 (MTLS-08): a client registered for certificate-bound tokens gets none it could use without its certificate.
    if (client.certBound === true && request.certificate === undefined) {
      throw new OAuthError('invalid_request', 'This client must present its TLS client certificate.', { reason: 'missing', field: 'client_certificate' });
    }
    const x5t = request.certificate === undefined ? undefined : certificateThumbprint(request.certificate);
    return andThen(deps.admit?.(client), () => andThen(grant.handle({ request, client, now, jkt: proof?.jkt, x5t }), (decision) => answer(x, caller, decision, proof, client.certBound === true ? x5t : undefined)));
  });
}

/** The grant's decision as tokens: a kept token of a client registered with token reuse, else new ones. */
function answer(x: Exchange, caller: AuthenticatedClient, decision: GrantDecision, proof: DpopProof | undefined, x5t: string | undefined): Maybe<TokenResult> {
  const { endpoint, now, deps, tokenTtl, type } = x;
  const { client } = caller;
  // Token reuse: client_credentials only, for clients registered with it, never a DPoP- or certificate-bound token
  // nor one whose lifetime this request changes.
  const reuse = deps.reuse !== undefined && tokenTtl === undefined && type === 'client_credentials' && client.tokenReuse === true && proof === undefined && client.dpopBound !== true && x5t === undefined ? deps.reuse : undefined;
  const key = reuse && TokenReuse.key(endpoint.name, client.id, decision.scopes, decision.audience);
  const fresh = (): Maybe<TokenResult> => {
    const issuing = tokenTtl === undefined ? caller : { ...caller, client: { ...client, accessTokenTtl: tokenTtl } };
    return andThen(issue(decision, issuing, endpoint.formats, now, deps, proof?.jkt, x5t), ({ result, accessDigest }) => {
      if (reuse && key) reuse.keep(key, client, result, accessDigest);
      return proof?.freshNonce === undefined ? result : { ...result, dpopNonce: proof.freshNonce };
    });
  };
  if (reuse && key) return reuse.take(key, client, now).then((kept) => kept ?? fresh());
  return fresh();
}

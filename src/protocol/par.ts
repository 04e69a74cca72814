/**
 * Pushed authorization requests — RFC 9126 — as pure logic: the push (the client, authenticated as
 * at the token endpoint, sends the authorization request's parameters; they are validated as the
 * authorization endpoint validates them and stored under a one-time `request_uri`), and the
 * authorization endpoint's side (resolving a `request_uri` for the client that pushed it, and using
 * it once). No HTTP here: `http/endpoints/par.ts` decodes the push and `http/authorize.ts` resolves.
 *
 * A push may carry its parameters as a signed request object (`request`, RFC 9126 §3, RFC 9101):
 * then they come from the object alone (./request-object.ts), and its `jti` is used once.
 *
 * A DPoP proof sent with the push (RFC 9449 §10.1, checked by the caller) binds the code as a
 * `dpop_jkt` parameter would: its key's thumbprint is stored as the pushed `dpop_jkt`.
 */
import type { SigningAlg } from '../config/types.ts';
import type { ClientRecord, PushedRequestRecord, Store } from '../storage/types.ts';
import { candidateDigests, storedDigest } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { opaqueFormat } from '../tokens/opaque.ts';
import { OAuthError } from '../wire/errors.ts';
import type { AudienceSettings } from './audience.ts';
import { REQUIRE_SIGNED, validateAuthorization, type Validated } from './authorize.ts';
import { FAPI2_MAX_PAR_TTL_SECONDS, isFapi2 } from './fapi2.ts';
import { REQUEST_OBJECT_REPLAYED, verifyRequestObject, type RequestObjectDeps } from './request-object.ts';

/** RFC 9126 §2.2: the URN namespace of request URIs the authorization server makes itself. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** What follows the URN prefix: `km_rq_` + 37 random base62 characters + checksum (≈ 220 bits, S-07). */
const referenceFormat = opaqueFormat({ kind: 'checksummed', prefix: 'km_rq_' });

/**
 * How long after a request's lifetime ends the user's decision on a consent page shown for it
 * (while it was live) is still taken: the page is for a person to read, the lifetime for a browser
 * to arrive. The row is kept (and purged) until then.
 */
export const PAR_DECISION_WINDOW_MS = 600_000;

/** The authorization request's parameters a push carries and the authorization endpoint then uses (client_id aside). */
export const PUSHED_PARAMETERS = ['response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'resource', 'prompt', 'max_age', 'dpop_jkt', 'response_mode'] as const;

export interface PushDeps {
  readonly store: Pick<Store, 'pushedRequests'>;
  readonly keyring: Pick<Keyring, 'pepper'>;
  readonly settings: AudienceSettings & { readonly parTtl: number; readonly alg: SigningAlg };
  readonly requestObjects: RequestObjectDeps;
}

export interface Pushed {
  readonly requestUri: string;
  /** Seconds (RFC 9126 §2.2 `expires_in`). */
  readonly expiresIn: number;
  /** A fresh nonce for `DPoP-Nonce` when the push's DPoP proof used an older one (RFC 9449 §8.2). */
  readonly dpopNonce?: string;
}

/**
 * RFC 9126 §2.1–2.3: validates `params` (each once, empty values left out; `lists` the repeated
 * ones) for `client`, already authenticated, and stores them. Every refusal is an OAuthError with a
 * 400 status: a push is answered in JSON, never redirected. `proofJkt`: the key thumbprint of the
 * push's DPoP proof, already verified (RFC 9449 §10.1): the code is bound to it, and a `dpop_jkt`
 * that names another key is refused.
 */
export async function pushAuthorization(
  params: Readonly<Record<string, string>>,
  lists: Readonly<Record<string, readonly string[]>> | undefined,
  client: ClientRecord,
  now: number,
  deps: PushDeps,
  proofJkt?: string,
): Promise<Pushed> {
  // §2.1: "The request_uri authorization request parameter is one exception, and it MUST NOT be provided."
  if (params.request_uri !== undefined) throw new OAuthError('invalid_request', 'A pushed authorization request cannot carry a request_uri.', { field: 'request_uri', reason: 'malformed' });
  let request: Record<string, string> = {};
  let claim: (() => Promise<boolean>) | undefined;
  let objectExpiresAt = Infinity;
  if (params.request !== undefined) {
    // RFC 9126 §3, RFC 9101 §6.3: the parameters are the object's; the body's others are ignored.
    const object = await verifyRequestObject(params.request, client, { names: PUSHED_PARAMETERS, oneTime: true, now }, deps.requestObjects);
    if (!object.ok) throw new OAuthError('invalid_request_object', object.description, { field: 'request', reason: 'malformed' });
    request = { ...object.params };
    claim = object.claim;
    objectExpiresAt = object.expiresAt;
  } else {
    // RFC 9101 §10.5 (SECURITY JAR-05): require_signed_request_object.
    if (client.requireSignedRequestObject === true) throw new OAuthError('invalid_request', REQUIRE_SIGNED, { field: 'request', reason: 'missing' });
    const resources = lists?.resource ?? [];
    if (resources.length > 1) throw new OAuthError('invalid_request', 'A request parameter was sent more than once.', { field: 'resource', reason: 'duplicate' });
    for (const name of PUSHED_PARAMETERS) if (params[name] !== undefined && params[name] !== '') request[name] = params[name];
    if (resources[0] !== undefined && resources[0] !== '') request.resource = resources[0];
  }
  const v = await validateAuthorization({ ...request, client_id: client.id }, undefined, { findClient: () => client, settings: deps.settings }, { pushed: true });
  if (v.kind !== 'ok') throw pushError(v);
  if (proofJkt !== undefined) {
    // §10.1: "the authorization server MUST reject the request if the JWK Thumbprint in dpop_jkt does
    // not match the public key in the DPoP header" (DP-07). The RFC names no error code: the proof
    // itself is valid, the parameter contradicts it, so invalid_request (as oidc-provider answers).
    if (request.dpop_jkt !== undefined && request.dpop_jkt !== proofJkt) {
      throw new OAuthError('invalid_request', 'dpop_jkt does not match the key of the DPoP proof.', { field: 'dpop_jkt', reason: 'malformed' });
    }
    request.dpop_jkt = proofJkt;
  }
  // FAPI 2.0 §5.3.2.2 item 12 (FAPI-03): a fapi2 client's request_uri lives less than 600 seconds.
  const serverTtl = isFapi2(client) ? Math.min(deps.settings.parTtl, FAPI2_MAX_PAR_TTL_SECONDS) : deps.settings.parTtl;
  // A request object's exp bounds its request_uri too (JAR-06): the push is not good for longer than
  // the client said the request is (at least a second: the object verified, so exp is not past by more
  // than the clock tolerance).
  const ttl = Math.max(1, Math.min(serverTtl, Math.floor((objectExpiresAt - now) / 1000)));
  // JAR-06: the object's jti is used by the push that is accepted, last: a refused one leaves it unused.
  if (claim && !(await claim())) throw new OAuthError('invalid_request_object', REQUEST_OBJECT_REPLAYED, { field: 'request', reason: 'malformed' });
  const reference = referenceFormat.mint();
  const record: PushedRequestRecord = {
    digest: storedDigest(deps.keyring.pepper(), reference),
    clientId: client.id,
    params: request,
    issuedAt: now,
    arriveBy: now + ttl * 1000,
    expiresAt: now + ttl * 1000 + PAR_DECISION_WINDOW_MS,
    consumedAt: null,
  };
  await deps.store.pushedRequests.insert(record);
  return { requestUri: REQUEST_URI_PREFIX + reference, expiresIn: ttl };
}

/** A refusal of the authorization endpoint's validation, as the JSON error of a push (RFC 9126 §2.3). */
function pushError(v: Exclude<Validated, { kind: 'ok' }>): OAuthError {
  if (v.kind === 'page') return new OAuthError('invalid_request', v.description, { field: 'redirect_uri', reason: 'malformed' });
  const code = v.error === 'unsupported_response_type' || v.error === 'login_required' || v.error === 'consent_required' || v.error === 'access_denied' || v.error === 'invalid_request_uri' ? 'invalid_request' : v.error;
  // unsupported_response_type has no OAuthErrorCode of its own: RFC 6749 §4.1.2.1 names it, the token
  // endpoint's §5.2 does not; the push answers it as invalid_request, with the reason in the text.
  return new OAuthError(code, v.description);
}

export interface ResolveDeps {
  readonly store: Pick<Store, 'pushedRequests'>;
  readonly keyring: Pick<Keyring, 'peppers'>;
}

/** Why a request_uri is refused at the authorization endpoint; `known` when it is this client's (a redirect is safe). */
export type Unusable = { readonly kind: 'unusable'; readonly record: PushedRequestRecord | undefined };

/**
 * RFC 9126 §4: the pushed request `requestUri` names, for `clientId`: its parameters (the caller
 * validates them again: the client may have changed since), or why it is refused. `at`: the time
 * of use; `decision`: the user's decision on a consent page shown for it, taken until
 * `expiresAt`, whereas a new arrival must come before `arriveBy`.
 */
export async function resolvePushed(requestUri: string, clientId: string, at: number, decision: boolean, deps: ResolveDeps): Promise<{ readonly kind: 'ok'; readonly record: PushedRequestRecord } | Unusable> {
  const reference = requestUri.startsWith(REQUEST_URI_PREFIX) ? requestUri.slice(REQUEST_URI_PREFIX.length) : '';
  if (!referenceFormat.recognises(reference)) return { kind: 'unusable', record: undefined };
  const record = await deps.store.pushedRequests.find(candidateDigests(deps.keyring.peppers(), reference));
  // Another client's request is as unknown to this one: nothing of it is used, not even its redirect URI.
  if (!record || record.clientId !== clientId) return { kind: 'unusable', record: undefined };
  const live = record.consumedAt === null && (decision ? record.expiresAt > at : record.arriveBy > at);
  return live ? { kind: 'ok', record } : { kind: 'unusable', record };
}

/** Uses the pushed request once (a code is about to be issued, or the user decided): true for exactly one caller. */
export const consumePushed = (record: PushedRequestRecord, at: number, deps: Pick<ResolveDeps, 'store'>): Promise<boolean> =>
  deps.store.pushedRequests.consume(record.digest, at);


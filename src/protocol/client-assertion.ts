/**
 * `private_key_jwt` client authentication: a JWT the client signs with its private key (RFC 7523
 * §2.2 and §3, OIDC Core §9). Checked: exactly one authentication method (RFC 6749 §2.3); the
 * assertion type, exactly; `iss` = `sub` = the client id (and = `client_id` when that is sent);
 * `aud` containing one of `audiences` (the issuer; the token endpoint URL for older clients); `exp`
 * present and at most `maxLifetimeSeconds` ahead; `nbf` and `iat` not in the future; an asymmetric
 * `alg` from `algorithms`; `typ` absent, `JWT` or `client-authentication+jwt` (never a request
 * object's or another kind's, RFC 8725 §3.11); the signature under the client's registered key with the header's `kid`
 * (never a key the header carries: `jwk`, `jku`, `x5u`, `x5c` are not read); and the `jti` claimed
 * once until `exp`, on every node through the `ReplayGuard`.
 *
 * Every refusal is `invalid_client` with one fixed description (nothing from the input is echoed);
 * the cause stays private. This does NOT check the client's status, environment or grants: the
 * client-authentication registry does that with the client id returned here, as for secrets.
 */
import { hash } from 'node:crypto';
import { checkJwtClaims, parseJwt, type JwsVerifyKey, type ParsedJwt } from '../tokens/jws-verify.ts';
import { OAuthError, invalidClient } from '../wire/errors.ts';
import type { ReplayGuard } from './replay-guard.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The `typ` an assertion may carry (besides none): plain `JWT`, or the explicit type of draft-ietf-oauth-rfc7523bis. */
const ASSERTION_TYPS = ['jwt', 'client-authentication+jwt'];

/** What the request carried, decoded by the dialect. */
export interface PresentedAssertion {
  /** The `client_id` parameter, when sent (optional with an assertion: RFC 7523 §3.1). */
  readonly clientId: string | undefined;
  readonly assertionType: string | undefined;
  readonly assertion: string | undefined;
  /** Whether a secret came as well (Basic header or `client_secret`). */
  readonly secretPresented: boolean;
}

export interface ClientAssertionSettings {
  /** Accepted `aud` values: the issuer identifier first, then the token endpoint URL. */
  readonly audiences: readonly string[];
  /** Accepted `alg` values, advertised as `token_endpoint_auth_signing_alg_values_supported`. */
  readonly algorithms: readonly string[];
  /** Furthest `exp` may lie ahead, seconds (RFC 7523 §3 item 4: "limit the time window"). */
  readonly maxLifetimeSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly replay: ReplayGuard;
  readonly now: () => number;
}

/** The client's registered key for a header, or undefined (unknown client, no such key, wrong alg). */
export type AssertionKeyLookup = (clientId: string, header: { readonly kid: string | undefined; readonly alg: string }) => Promise<JwsVerifyKey | undefined>;

export interface VerifiedAssertion {
  readonly clientId: string;
  /** Key id the assertion was signed with, for the audit trail. */
  readonly kid: string | undefined;
}

/** Whether the request authenticates with an assertion at all (then no other method may be used). */
export const presentsAssertion = (p: Pick<PresentedAssertion, 'assertion' | 'assertionType'>): boolean =>
  p.assertion !== undefined || p.assertionType !== undefined;

const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UNSAFE = /^(none|HS\d+)$/i;

/**
 * The dialect reads an assertion's `sub` (to name the client) just before the assertion is verified:
 * the last assertion parsed is kept, so a request parses its assertion once. Parsing is pure, so a
 * miss (another request's assertion in between) only costs a second parse.
 */
let lastParsed: { readonly assertion: string; readonly jwt: ParsedJwt | undefined; readonly error: unknown } | undefined;

function parsedAssertion(assertion: string): ParsedJwt {
  if (lastParsed?.assertion !== assertion) {
    try {
      lastParsed = { assertion, jwt: parseJwt(assertion), error: undefined };
    } catch (error) {
      lastParsed = { assertion, jwt: undefined, error };
    }
  }
  if (!lastParsed.jwt) throw lastParsed.error;
  return lastParsed.jwt;
}

/** jose's `aud` rule: a string among the accepted ones, or an array holding one of them. */
const audienceAccepted = (aud: unknown, accepted: readonly string[]): boolean =>
  typeof aud === 'string' ? accepted.includes(aud) : Array.isArray(aud) && accepted.some((a) => aud.includes(a));

/**
 * The `sub` of an assertion, unverified: which client it claims to be, to key the lockout and the
 * lookup before anything is checked. Undefined when it cannot be read; `verifyClientAssertion`
 * decides everything else.
 */
export function assertionSubject(assertion: string | undefined): string | undefined {
  // parseJwt checks the compact form: no second pass over the assertion here.
  if (assertion === undefined || assertion.length > MAX_ASSERTION_LENGTH) return undefined;
  try {
    const { sub } = parsedAssertion(assertion).claims;
    return typeof sub === 'string' && sub !== '' && sub.length <= 256 ? sub : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyClientAssertion(
  presented: PresentedAssertion,
  keyFor: AssertionKeyLookup,
  settings: ClientAssertionSettings,
): Promise<VerifiedAssertion> {
  // RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request".
  if (presented.secretPresented) {
    throw new OAuthError('invalid_request', 'Only one client authentication method may be used.', { reason: 'duplicate' });
  }
  if (presented.assertionType !== JWT_BEARER_ASSERTION_TYPE) throw invalidClient({ reason: 'malformed', field: 'client_assertion_type' });
  const assertion = presented.assertion;
  if (assertion === undefined) throw invalidClient({ reason: 'missing', field: 'client_assertion' });
  if (assertion.length > MAX_ASSERTION_LENGTH) throw invalidClient({ reason: 'malformed', field: 'client_assertion' });

  let jwt: ParsedJwt;
  try {
    // parseJwt checks the compact form itself (the form is looked at again only when it failed).
    jwt = parsedAssertion(assertion);
  } catch (cause) {
    throw invalidClient(COMPACT_JWS.test(assertion) ? { reason: 'malformed', field: 'client_assertion', cause } : { reason: 'malformed', field: 'client_assertion' });
  }
  const { alg, kid } = jwt.header;
  const { sub: subject, iss, aud, jti, iat } = jwt.claims;
  if (typeof subject !== 'string' || subject === '') throw invalidClient({ field: 'client_assertion' });
  const clientId = subject;
  if (presented.clientId !== undefined && presented.clientId !== clientId) throw invalidClient({ field: 'client_id' });
  if (typeof alg !== 'string' || UNSAFE.test(alg) || !settings.algorithms.includes(alg)) throw invalidClient({ field: 'client_assertion' });
  if (kid !== undefined && typeof kid !== 'string') throw invalidClient({ field: 'client_assertion' });
  // RFC 8725 §3.11, RFC 9101 §10.8: a JWT typed as another kind (a request object, which travels
  // through the browser; a DPoP proof; an access token) is never taken for an assertion.
  const { typ } = jwt.header;
  if (typ !== undefined && (typeof typ !== 'string' || !ASSERTION_TYPS.includes(typ.toLowerCase().replace(/^application\//, '')))) throw invalidClient({ field: 'client_assertion' });

  const key = await keyFor(clientId, { kid, alg });
  if (!key || key.alg !== alg) throw invalidClient({ field: 'client_assertion' });
  // What jose's jwtVerify checked, in its order: the signature, then the claims.
  if (!key.verify(jwt.signingInput, jwt.signature)) throw invalidClient({ field: 'client_assertion', cause: new Error('signature verification failed') });
  const nowMs = settings.now();
  const tolerance = settings.clockToleranceSeconds;
  try {
    checkJwtClaims(jwt, { required: ['iss', 'sub', 'aud', 'exp', 'jti'], clockToleranceSeconds: tolerance, nowMs });
  } catch (cause) {
    throw invalidClient({ field: 'client_assertion', cause });
  }
  if (iss !== clientId || !audienceAccepted(aud, settings.audiences)) throw invalidClient({ field: 'client_assertion' });
  const exp = jwt.claims.exp as number;
  const nowSec = nowMs / 1000;
  if (exp > nowSec + settings.maxLifetimeSeconds + tolerance) throw invalidClient({ field: 'client_assertion' });
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowSec + tolerance)) throw invalidClient({ field: 'client_assertion' });
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw invalidClient({ field: 'client_assertion' });

  // One-shot hash: the same digest as hashing the parts in turn, for a third of the cost.
  const replayKey = `pkjwt:${hash('sha256', `${clientId}\0${jti}`, 'base64url')}`;
  if (!(await settings.replay.claim(replayKey, (exp + tolerance + 1) * 1000))) throw invalidClient({ field: 'client_assertion' });
  return { clientId, kid };
}

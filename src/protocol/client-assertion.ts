/**
 * `private_key_jwt` client authentication: a JWT the client signs with its private key (RFC 7523
 * §2.2 and §3, OIDC Core §9). Checked: exactly one authentication method (RFC 6749 §2.3); the
 * assertion type, exactly; `iss` = `sub` = the client id (and = `client_id` when that is sent);
 * `aud` containing one of `audiences` (the issuer; the token endpoint URL for older clients); `exp`
 * present and at most `maxLifetimeSeconds` ahead; `nbf` and `iat` not in the future; an asymmetric
 * `alg` from `algorithms`; the signature under the client's registered key with the header's `kid`
 * (never a key the header carries: `jwk`, `jku`, `x5u`, `x5c` are not read); and the `jti` claimed
 * once until `exp`, on every node through the `ReplayGuard`.
 *
 * Every refusal is `invalid_client` with one fixed description (nothing from the input is echoed);
 * the cause stays private. This does NOT check the client's status, environment or grants: the
 * client-authentication registry does that with the client id returned here, as for secrets.
 */
import { createHash } from 'node:crypto';
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import { decodeJwt } from 'jose/jwt/decode';
import { jwtVerify } from 'jose/jwt/verify';
import type { CryptoKey } from 'jose';
import { OAuthError, invalidClient } from '../wire/errors.ts';
import type { ReplayGuard } from './replay-guard.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

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
export type AssertionKeyLookup = (clientId: string, header: { readonly kid: string | undefined; readonly alg: string }) => Promise<CryptoKey | undefined>;

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
 * The `sub` of an assertion, unverified: which client it claims to be, to key the lockout and the
 * lookup before anything is checked. Undefined when it cannot be read; `verifyClientAssertion`
 * decides everything else.
 */
export function assertionSubject(assertion: string | undefined): string | undefined {
  if (assertion === undefined || assertion.length > MAX_ASSERTION_LENGTH || !COMPACT_JWS.test(assertion)) return undefined;
  try {
    const { sub } = decodeJwt(assertion);
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
  if (assertion.length > MAX_ASSERTION_LENGTH || !COMPACT_JWS.test(assertion)) throw invalidClient({ reason: 'malformed', field: 'client_assertion' });

  let alg: string | undefined;
  let kid: string | undefined;
  let subject: unknown;
  try {
    ({ alg, kid } = decodeProtectedHeader(assertion));
    ({ sub: subject } = decodeJwt(assertion));
  } catch (cause) {
    throw invalidClient({ reason: 'malformed', field: 'client_assertion', cause });
  }
  if (typeof subject !== 'string' || subject === '') throw invalidClient({ field: 'client_assertion' });
  const clientId = subject;
  if (presented.clientId !== undefined && presented.clientId !== clientId) throw invalidClient({ field: 'client_id' });
  if (typeof alg !== 'string' || UNSAFE.test(alg) || !settings.algorithms.includes(alg)) throw invalidClient({ field: 'client_assertion' });
  if (kid !== undefined && typeof kid !== 'string') throw invalidClient({ field: 'client_assertion' });

  const key = await keyFor(clientId, { kid, alg });
  if (!key) throw invalidClient({ field: 'client_assertion' });
  const nowMs = settings.now();
  const tolerance = settings.clockToleranceSeconds;
  let exp: number;
  let jti: unknown;
  let iat: unknown;
  try {
    ({ exp = 0, jti, iat } = (
      await jwtVerify(assertion, key, {
        algorithms: [alg],
        issuer: clientId,
        subject: clientId,
        audience: [...settings.audiences],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
        clockTolerance: tolerance,
        currentDate: new Date(nowMs),
      })
    ).payload);
  } catch (cause) {
    throw invalidClient({ field: 'client_assertion', cause });
  }
  const nowSec = nowMs / 1000;
  if (exp > nowSec + settings.maxLifetimeSeconds + tolerance) throw invalidClient({ field: 'client_assertion' });
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowSec + tolerance)) throw invalidClient({ field: 'client_assertion' });
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw invalidClient({ field: 'client_assertion' });

  const replayKey = `pkjwt:${createHash('sha256').update(clientId).update('\0').update(jti).digest('base64url')}`;
  if (!(await settings.replay.claim(replayKey, (exp + tolerance + 1) * 1000))) throw invalidClient({ field: 'client_assertion' });
  return { clientId, kid };
}

/**
 * Request objects — RFC 9101 (JAR) — as pure logic: the authorization request's parameters sent as
 * a JWT the client signs, at the authorization endpoint (`request`) or in a push (RFC 9126 §3).
 *
 * Checked (RFC 9101 §6.1, §6.3; FAPI 2.0 Message Signing §5.3.2): a compact JWS (an encrypted
 * object, JWE, is not supported) of at most 16 KiB; `typ` absent, `JWT` or `oauth-authz-req+jwt`
 * (§10.8: another kind of JWT is never taken for a request); an asymmetric `alg` the client's keys
 * take (`none` and HS* never: the client assertions' list); the signature under the client's
 * registered key (`jwks` / `jwks_uri`) named by `kid`, never one the header carries; `client_id` present and
 * equal to the outer `client_id`; `iss`, when present, the client id; `aud` the issuer identifier
 * (or an array holding it; FAPI 2.0 takes no other value); `exp` present, in the future and at most 60 minutes ahead;
 * `nbf`, when present, not in the future and at most 60 minutes old; `iat` not in the future; no
 * `request` or `request_uri` inside; each authorization parameter a string (`max_age` may be a
 * number; `resource` a string or an array of one). Where `oneTime` (a push), a `jti` is claimed once
 * until `exp` through the ReplayGuard, on every node, by the caller (`claim`) once it accepts the request.
 *
 * The parameters come from the object alone (§6.3): the caller ignores the outer ones but
 * `client_id`. Claims that are not parameters Keymint reads (`claims`, `authorization_details`, …)
 * are ignored, as unknown query parameters are. This does NOT check the parameters' values: the
 * caller validates them as it validates any authorization request.
 */
import { hash } from 'node:crypto';
import { CLIENT_KEY_ALGORITHMS } from '../credentials/client-keys.ts';
import type { ClientRecord } from '../storage/types.ts';
import { checkJwtClaims, parseJwt, type JwsVerifyKey, type ParsedJwt } from '../tokens/jws-verify.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { algorithmAllowed } from './fapi2.ts';
import { CLOCK_TOLERANCE_SECONDS } from './sender.ts';

/** FAPI 2.0 Message Signing §5.3.2: `exp` at most 60 minutes ahead, `nbf` at most 60 minutes old. */
export const REQUEST_OBJECT_MAX_LIFETIME_SECONDS = 3600;
/** The refusal of a request object whose `jti` was used (JAR-06). */
export const REQUEST_OBJECT_REPLAYED = 'The request object has already been used (jti).';
const MAX_LENGTH = 16_384;
const MAX_JTI_LENGTH = 256;
const UNSAFE = /^(none|HS\d+)$/i;
const TYPES = ['jwt', 'oauth-authz-req+jwt', 'application/jwt', 'application/oauth-authz-req+jwt'];

export interface RequestObjectDeps {
  /** The client's registered key for a header (its `jwks` or `jwks_uri`), or undefined. */
  readonly keyFor: (client: ClientRecord, header: { readonly kid: string | undefined; readonly alg: string }) => Promise<JwsVerifyKey | undefined>;
  readonly replay: ReplayGuard;
  /** The only accepted `aud`. */
  readonly issuer: string;
}

export interface RequestObjectOptions {
  /** The authorization parameters read from the object (the pushed parameters' names). */
  readonly names: readonly string[];
  /** Claim the `jti` (when there is one) for the object's lifetime: a push uses an object once. */
  readonly oneTime: boolean;
  readonly now: number;
}

export type VerifiedRequestObject =
  | {
      readonly ok: true;
      /** Its authorization parameters (strings; empty ones left out), `client_id` not among them. */
      readonly params: Readonly<Record<string, string>>;
      /** When it was made (ms): `iat`, else `nbf`; undefined when it says neither. */
      readonly issuedAt: number | undefined;
      /** Its `exp` (ms): a push of it lives no longer than the client said the request is good for. */
      readonly expiresAt: number;
      /**
       * Where `oneTime`: claims its `jti` (when it has one) until its `exp`, on every node; false when
       * it was used already. Called last, once nothing else refuses the request, so a refused push
       * leaves the object usable (nothing changes after a refusal).
       */
      readonly claim: () => Promise<boolean>;
    }
  | {
      readonly ok: false;
      /** Fixed text, naming no value of the object (SECURITY R-05). */
      readonly description: string;
      /** Its `redirect_uri`, `state` and `response_mode`, once its signature verified (the client said them); else undefined. */
      readonly signed: { readonly redirectUri: string | undefined; readonly state: string | undefined; readonly responseMode: string | undefined } | undefined;
    };

const refused = (description: string, claims?: Readonly<Record<string, unknown>>): VerifiedRequestObject => ({
  ok: false,
  description,
  signed: claims && { redirectUri: stringOrUndefined(claims.redirect_uri), state: stringOrUndefined(claims.state), responseMode: stringOrUndefined(claims.response_mode) },
});
const stringOrUndefined = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** RFC 9101 §6: verifies `request` as `client`'s request object (the outer `client_id` named `client`). */
export async function verifyRequestObject(request: string, client: ClientRecord, options: RequestObjectOptions, deps: RequestObjectDeps): Promise<VerifiedRequestObject> {
  let jwt: ParsedJwt;
  try {
    if (request.length > MAX_LENGTH) throw new Error('too long');
    jwt = parseJwt(request);
  } catch {
    return refused('The request object is not a signed JWT (compact JWS; encrypted request objects are not supported).');
  }
  const { alg, kid, typ } = jwt.header;
  if (typeof alg !== 'string' || UNSAFE.test(alg) || !(CLIENT_KEY_ALGORITHMS as readonly string[]).includes(alg)) {
    return refused('The request object must be signed with an asymmetric algorithm (none and HS* are refused).');
  }
  if (typ !== undefined && (typeof typ !== 'string' || !TYPES.includes(typ.toLowerCase()))) return refused('The request object typ must be oauth-authz-req+jwt.');
  // FAPI 2.0 §5.4.1 (FAPI-06): a fapi2 client's request objects are PS256, ES256 or EdDSA.
  if (!algorithmAllowed(client, alg)) return refused('This client must sign its request objects with PS256, ES256 or EdDSA (FAPI 2.0).');
  const key = kid === undefined || typeof kid === 'string' ? await deps.keyFor(client, { kid, alg }) : undefined;
  if (!key || key.alg !== alg || !key.verify(jwt.signingInput, jwt.signature)) return refused('The request object is not signed by a key registered for this client.');

  // Signed by the client: from here its redirect_uri may carry the error (if registered).
  const claims = jwt.claims;
  const nowMs = options.now;
  const nowSec = nowMs / 1000;
  const tolerance = CLOCK_TOLERANCE_SECONDS;
  if (claims.client_id !== client.id) return refused('The request object client_id must equal the client_id parameter.', claims);
  if (claims.iss !== undefined && claims.iss !== client.id) return refused('The request object iss must be the client_id.', claims);
  const aud = claims.aud;
  if (!(aud === deps.issuer || (Array.isArray(aud) && aud.includes(deps.issuer)))) return refused('The request object aud must be the issuer identifier.', claims);
  try {
    checkJwtClaims(jwt, { required: ['exp'], clockToleranceSeconds: tolerance, nowMs });
  } catch {
    return refused('The request object has expired, is not yet valid, or has no exp.', claims);
  }
  const { exp, nbf, iat } = claims as { exp: number; nbf?: number; iat?: number };
  const window = REQUEST_OBJECT_MAX_LIFETIME_SECONDS + tolerance;
  if (exp > nowSec + window) return refused('The request object exp is more than 60 minutes ahead.', claims);
  if (nbf !== undefined && nbf < nowSec - window) return refused('The request object nbf is more than 60 minutes old.', claims);
  if (iat !== undefined && iat > nowSec + tolerance) return refused('The request object iat is in the future.', claims);
  // RFC 9101 §4: "MUST NOT include the request or request_uri parameters".
  if (claims.request !== undefined || claims.request_uri !== undefined) return refused('A request object cannot contain request or request_uri.', claims);

  const params: Record<string, string> = {};
  for (const name of options.names) {
    const value = parameter(name, claims[name]);
    if (value === null) return refused(`The request object ${name} has the wrong type.`, claims);
    if (value !== undefined && value !== '') params[name] = value;
  }
  const issuedAt = typeof iat === 'number' ? iat * 1000 : typeof nbf === 'number' ? nbf * 1000 : undefined;
  // A sign-in it asks for is answered by a sign-in after it was made: without iat or nbf that is unknowable.
  const prompts = params.prompt?.split(' ') ?? [];
  if (issuedAt === undefined && (prompts.includes('login') || prompts.includes('select_account'))) {
    return refused('A request object asking for a new sign-in needs iat or nbf.', claims);
  }
  let claim = async (): Promise<boolean> => true;
  if (options.oneTime && claims.jti !== undefined) {
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return refused('The request object jti must be a string of at most 256 characters.', claims);
    const replayKey = `jar:${hash('sha256', `${client.id}\0${jti}`, 'base64url')}`;
    claim = () => deps.replay.claim(replayKey, (exp + tolerance + 1) * 1000);
  }
  return { ok: true, params, issuedAt, expiresAt: exp * 1000, claim };
}

/**
 * A parameter's claim as the string the query would carry: undefined when absent, null when of the
 * wrong type. `max_age` may be a whole number (OIDC Core §6.1); `resource` an array of one string.
 */
function parameter(name: string, value: unknown): string | undefined | null {
  if (value === undefined || typeof value === 'string') return value;
  if (name === 'max_age' && Number.isSafeInteger(value) && (value as number) >= 0) return String(value);
  if (name === 'resource' && Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return null;
}

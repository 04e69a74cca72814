/**
 * JWT Secured Authorization Response Mode for OAuth 2.0 (JARM, OpenID Foundation, 2022) as pure
 * logic: which response mode a request names, and the signed `response` JWT that carries the
 * authorization response (code and state, or the error) in it. FAPI 2.0 Message Signing §5.4 uses it.
 *
 * Only the query encodings exist here: `query.jwt`, and `jwt`, which for `response_type=code` (the
 * only response type offered) means `query.jwt` (JARM §2.3.4). Encrypted responses (JWE,
 * `authorization_encrypted_response_*`) are not offered and are refused at registration.
 */
import type { SigningAlg } from '../config/types.ts';
import type { ClientRecord } from '../storage/types.ts';
import { signJwt } from '../tokens/jwt.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { algorithmAllowed } from './fapi2.ts';
import { unkeptAlgProblem } from './signed-response.ts';

/** The response modes the authorization endpoint takes (discovery's `response_modes_supported`). */
export const RESPONSE_MODES = ['query', 'query.jwt', 'jwt'] as const;

/**
 * How long a `response` JWT is good for (its `exp`): JARM §2.1 asks for a short lifetime and
 * suggests 10 minutes at most. The code inside lives 60 s (C-01) and is single-use; the JWT lives
 * longer so that a relying party whose clock is a few minutes off still reads an error response.
 */
export const JARM_TTL_SECONDS = 600;

/** The audience and algorithm of a response sent as a JWT (JARM §2.1), fixed when the request is read. */
export interface JwtResponse {
  readonly audience: string;
  readonly alg: SigningAlg;
}

export type ResponseModeRead =
  | { readonly ok: true; readonly jwt: JwtResponse | undefined }
  | { readonly ok: false; readonly error: 'invalid_request' | 'unauthorized_client'; readonly description: string };

/**
 * The response mode `value` names for `client`: the query (absent or `query`), or a JWT signed with
 * the client's `authorization_signed_response_alg` (`query.jwt`, `jwt`). Refused: a mode not offered
 * (invalid_request), and a JWT mode for a client whose alg the keyring no longer keeps (the
 * deployment's `--alg` changed since it registered it: unauthorized_client, as its ID tokens are), or
 * RS256 for a fapi2 client (FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA; JARM-08).
 */
export function readResponseMode(value: string | undefined, client: Pick<ClientRecord, 'id' | 'authorizationResponseAlg' | 'securityProfile'>, serverAlg: SigningAlg): ResponseModeRead {
  if (value === undefined || value === 'query') return { ok: true, jwt: undefined };
  if (value !== 'query.jwt' && value !== 'jwt') return { ok: false, error: 'invalid_request', description: `response_mode takes ${RESPONSE_MODES.join(', ')}.` };
  const alg = client.authorizationResponseAlg ?? 'RS256';
  const problem = unkeptAlgProblem(alg, serverAlg, 'authorization responses', 'authorization_signed_response_alg');
  if (problem !== undefined) return { ok: false, error: 'unauthorized_client', description: problem };
  if (!algorithmAllowed(client, alg)) {
    return {
      ok: false,
      error: 'unauthorized_client',
      description: `A fapi2 client's authorization responses are not signed with ${alg} (FAPI 2.0 §5.4.1); its authorization_signed_response_alg must be changed to the server's --alg.`,
    };
  }
  return { ok: true, jwt: { audience: client.id, alg } };
}

/**
 * JARM §2.1, §2.3.1: the `response` parameter, a JWT of `iss`, `aud` (the client id) and `exp`
 * beside the authorization response's own parameters (`code` and `state`, or `error`,
 * `error_description` and `state`). `iss` makes RFC 9207's parameter of the query mode redundant.
 */
export function signAuthorizationResponse(
  keyring: Pick<Keyring, 'signer'>,
  jwt: JwtResponse,
  issuer: string,
  now: number,
  params: Readonly<Record<string, string>>,
): string {
  return signJwt(keyring.signer(jwt.alg), 'JWT', { ...params, iss: issuer, aud: jwt.audience, exp: Math.floor(now / 1000) + JARM_TTL_SECONDS });
}

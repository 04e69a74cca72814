/**
 * The algorithm a client registered for a response Keymint signs for it: its ID tokens (OIDC Dynamic
 * Client Registration §2 `id_token_signed_response_alg`), its JWT introspection answers (RFC 9701
 * §6 `introspection_signed_response_alg`) and its JWT authorization responses (JARM §3
 * `authorization_signed_response_alg`), RS256 when it registered none. Refused before anything is
 * written or consumed when the keyring no longer keeps it: the deployment's `--alg` was changed after
 * the client registered it. Its relying party (or resource server) expects that alg and would refuse
 * any other, so nothing is signed with another; the client's registration (or `--alg`) must be fixed.
 */
import { idTokenAlgs, type SigningAlg } from '../config/types.ts';
import { OAuthError } from '../wire/errors.ts';

/** Why `wanted` cannot sign a client's `what` (its registered `field`), or undefined when the keyring keeps it. */
export function unkeptAlgProblem(wanted: SigningAlg, alg: SigningAlg, what: string, field: string): string | undefined {
  if (idTokenAlgs(alg).includes(wanted)) return undefined;
  return `This client's ${what} are to be signed with ${wanted}, which this server no longer signs with; its ${field} must be changed.`;
}

/** The client's registered alg (RS256 when none), or unauthorized_client when the keyring no longer keeps it. */
export function registeredAlg(wanted: SigningAlg | undefined, alg: SigningAlg, what: string, field: string): SigningAlg {
  const chosen = wanted ?? 'RS256';
  const problem = unkeptAlgProblem(chosen, alg, what, field);
  if (problem !== undefined) throw new OAuthError('unauthorized_client', problem, { field: 'client_id' });
  return chosen;
}

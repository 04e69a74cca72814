/**
 * The algorithm a client registered for a response Keymint signs for it: its ID tokens (OIDC Dynamic
 * Client Registration §2 `id_token_signed_response_alg`) and its JWT introspection answers (RFC 9701
 * §6 `introspection_signed_response_alg`), RS256 when it registered none. Refused before anything is
 * written or consumed when the keyring no longer keeps it: the deployment's `--alg` was changed after
 * the client registered it. Its relying party (or resource server) expects that alg and would refuse
 * any other, so nothing is signed with another; the client's registration (or `--alg`) must be fixed.
 */
import { idTokenAlgs, type SigningAlg } from '../config/types.ts';
import { OAuthError } from '../wire/errors.ts';

export function registeredAlg(wanted: SigningAlg | undefined, alg: SigningAlg, what: string, field: string): SigningAlg {
  const chosen = wanted ?? 'RS256';
  if (idTokenAlgs(alg).includes(chosen)) return chosen;
  throw new OAuthError(
    'unauthorized_client',
    `This client's ${what} are to be signed with ${chosen}, which this server no longer signs with; its ${field} must be changed.`,
    { field: 'client_id' },
  );
}

/**
 * The FAPI 2.0 Security Profile (OpenID FAPI 2.0 Security Profile, final, 2025) for a client
 * registered with `security_profile: fapi2`: the authorization-server rules that can be enforced on
 * each of that client's requests, in one place. Each endpoint asks these when it has the client
 * (docs/fapi2.md lists what they enforce; docs/requirements.md FAPI-01..FAPI-12).
 *
 * Client authentication is private_key_jwt or mutual TLS (RFC 8705 §2); sender-constraining is a
 * DPoP proof or, for a client registered with `tls_client_certificate_bound_access_tokens`, its TLS
 * certificate (RFC 8705 §3): FAPI 2.0 §5.3.2.1 items 4-6.
 */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';

export const isFapi2 = (client: Pick<ClientRecord, 'securityProfile'>): boolean => client.securityProfile === 'fapi2';

/** §5.4.1 item 1.2: PS256, ES256 or EdDSA with Ed25519 (`Ed25519`, its fully-specified name, too). */
export const FAPI2_ALGORITHMS: readonly string[] = ['PS256', 'ES256', 'EdDSA', 'Ed25519'];

/** §5.3.2.1 item 6: how a fapi2 client may authenticate (the client rules hold its settings to the same list). */
export { FAPI2_AUTH_METHODS } from '../credentials/client-rules.ts';

/**
 * §5.3.2.1 items 4-5 (FAPI-05): whether this client's token requests need a DPoP proof. A fapi2
 * client registered for certificate-bound tokens is sender-constrained by its certificate instead
 * (the token endpoint then requires the certificate, MTLS-08); any other fapi2 client needs DPoP.
 */
export const needsDpopProof = (client: Pick<ClientRecord, 'securityProfile' | 'dpopBound' | 'certBound'>): boolean =>
  client.dpopBound === true || (isFapi2(client) && client.certBound !== true);

/** §5.3.2.2 item 12: a pushed request's `expires_in` is less than 600 seconds. */
export const FAPI2_MAX_PAR_TTL_SECONDS = 599;

/** Whether `alg` may sign this client's JWTs (assertions, request objects, DPoP proofs). */
export const algorithmAllowed = (client: Pick<ClientRecord, 'securityProfile'>, alg: string): boolean => !isFapi2(client) || FAPI2_ALGORITHMS.includes(alg);

/** The refusal of a DPoP proof whose alg the client's profile does not allow (FAPI-06). */
export const fapi2ProofAlgorithm = (): OAuthError =>
  new OAuthError('invalid_dpop_proof', `This client must sign its DPoP proofs with ${FAPI2_ALGORITHMS.slice(0, 3).join(', ')} (FAPI 2.0).`, { reason: 'malformed', field: 'DPoP' });

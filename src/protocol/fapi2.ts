/**
 * The FAPI 2.0 Security Profile (OpenID FAPI 2.0 Security Profile, final, 2025) for a client
 * registered with `security_profile: fapi2`: the authorization-server rules that can be enforced on
 * each of that client's requests, in one place. Each endpoint asks these when it has the client
 * (docs/fapi2.md lists what they enforce; docs/requirements.md FAPI-01..FAPI-09).
 *
 * Sender-constraining and client authentication are DPoP and private_key_jwt: this server has no
 * mutual TLS (RFC 8705) yet. When it has, `FAPI2_AUTH_METHODS` gains `tls_client_auth` and
 * `self_signed_tls_client_auth`, and `senderConstrained` takes a certificate-bound request too.
 */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError } from '../wire/errors.ts';

export const isFapi2 = (client: Pick<ClientRecord, 'securityProfile'>): boolean => client.securityProfile === 'fapi2';

/** §5.4.1 item 1.2: PS256, ES256 or EdDSA with Ed25519 (`Ed25519`, its fully-specified name, too). */
export const FAPI2_ALGORITHMS: readonly string[] = ['PS256', 'ES256', 'EdDSA', 'Ed25519'];

/** §5.3.2.1 item 6: how a fapi2 client may authenticate (mTLS, RFC 8705 §2, would join here). */
export const FAPI2_AUTH_METHODS: readonly string[] = ['private_key_jwt'];

/** §5.3.2.2 item 12: a pushed request's `expires_in` is less than 600 seconds. */
export const FAPI2_MAX_PAR_TTL_SECONDS = 599;

/** Whether `alg` may sign this client's JWTs (assertions, request objects, DPoP proofs). */
export const algorithmAllowed = (client: Pick<ClientRecord, 'securityProfile'>, alg: string): boolean => !isFapi2(client) || FAPI2_ALGORITHMS.includes(alg);

/** The refusal of a DPoP proof whose alg the client's profile does not allow (FAPI-06). */
export const fapi2ProofAlgorithm = (): OAuthError =>
  new OAuthError('invalid_dpop_proof', `This client must sign its DPoP proofs with ${FAPI2_ALGORITHMS.slice(0, 3).join(', ')} (FAPI 2.0).`, { reason: 'malformed', field: 'DPoP' });

/**
 * Client authentication at every endpoint that needs it (token, introspection, revocation, the
 * revocation feed). RFC 6749 §2.3. Dialects have already decoded the wire form into a
 * PresentedClient; the method it names is looked up in the registry below.
 */
import { andThen, type Maybe } from '../../util/maybe.ts';
import { parseClientId, type IdSettings } from '../../credentials/ids.ts';
import { invalidClient, OAuthError } from '../../wire/errors.ts';
import { FAPI2_AUTH_METHODS, isFapi2 } from '../fapi2.ts';
import { none } from './none.ts';
import { privateKeyJwt } from './private-key-jwt.ts';
import { clientSecretBasic, clientSecretPost } from './secret.ts';
import { selfSignedTlsClientAuth, tlsClientAuth } from './tls.ts';
import type { AuthenticatedClient, ClientAuthMethod, ClientAuthMethodName, ClientVerifier, PresentedClient } from './types.ts';

export type { AuthenticatedClient, ClientAuthMethod, ClientAuthMethodName, ClientVerifier, PresentedClient } from './types.ts';

/** The registry: every method this server accepts, in the order metadata advertises them. */
export const CLIENT_AUTH_METHODS: ReadonlyMap<ClientAuthMethodName, ClientAuthMethod> = new Map(
  [clientSecretBasic, clientSecretPost, privateKeyJwt, tlsClientAuth, selfSignedTlsClientAuth, none].map((m): [ClientAuthMethodName, ClientAuthMethod] => [m.name, m]),
);

/** The methods a client proves with its TLS certificate (RFC 8705 §2): advertised only where a certificate can arrive. */
export const CERTIFICATE_AUTH_METHODS: readonly ClientAuthMethodName[] = ['tls_client_auth', 'self_signed_tls_client_auth'];

/**
 * The names metadata advertises for an endpoint, in the registry's order: of the methods its dialect
 * reads (`accepted`), the confidential ones, and `none` where public clients may call.
 */
export const advertisedAuthMethods = (accepted: readonly ClientAuthMethodName[], allowPublic: boolean): string[] =>
  [...CLIENT_AUTH_METHODS.values()].filter((m) => accepted.includes(m.name) && (m.confidential || allowPublic)).map((m) => m.name);

export interface ClientAuthDeps {
  readonly verifier: ClientVerifier;
  /** This deployment's environment and id prefix: a client id of another environment is refused before any lookup. */
  readonly settings: IdSettings;
}

/**
 * Authenticates the presented client. `allowPublic` admits a public client identified by its id
 * alone (code and refresh grants); confidential clients always prove a credential (SECURITY A-01,
 * Checks status after the credential, so only a caller holding it learns a client is disabled.
 */
export function authenticateClient(presented: PresentedClient, deps: ClientAuthDeps, options: { allowPublic: boolean }): Maybe<AuthenticatedClient> {
  const { clientId } = presented;
  if (clientId === undefined) throw invalidClient({ reason: 'missing', field: 'client_id' });
  // The environment is public (it is spelled in the id), so refusing it before any lookup leaks nothing.
  const environment = parseClientId(deps.settings, clientId)?.environment;
  if (environment !== undefined && environment !== deps.settings.environment) throw invalidClient({ reason: 'environment' });
  const method = CLIENT_AUTH_METHODS.get(presented.method);
  if (!method || (!method.confidential && !options.allowPublic)) throw invalidClient({ reason: 'missing', field: 'client_secret' });
  const proving = method.authenticate({ ...presented, clientId }, deps.verifier);
  // RFC 8705 §4: a public client may send a certificate (to bind its tokens) without authenticating by it.
  const orPublic = presented.method === 'tls_client_auth' && options.allowPublic ? andThen(proving, (p) => p ?? none.authenticate({ method: 'none', clientId }, deps.verifier)) : proving;
  return andThen(orPublic, (proven) => {
    if (!proven) throw method.confidential ? invalidClient() : invalidClient({ reason: 'missing', field: 'client_secret' });
    const { client } = proven;
    // FAPI 2.0 §5.3.2.1 item 6 (FAPI-04): a fapi2 client proves itself only by its keys.
    if (isFapi2(client) && !FAPI2_AUTH_METHODS.includes(method.name)) throw invalidClient();
    if (client.environment !== deps.settings.environment) throw invalidClient({ reason: 'environment' });
    if (client.status !== 'active') {
      throw new OAuthError('invalid_client', 'The client is disabled.', { reason: 'disabled' });
    }
    return proven;
  });
}

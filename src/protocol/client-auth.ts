/**
 * Client authentication at the token, introspection and revocation endpoints. RFC 6749 §2.3.
 * Dialects have already decoded the wire form (Basic header, body fields) into a PresentedClient.
 */
import type { ClientRecord } from '../storage/types.ts';
import { OAuthError, invalidClient } from '../wire/errors.ts';
import type { PresentedClient } from './token-request.ts';

export interface ClientVerifier {
  /** The client if `secret` is one of its live secrets; constant-time w.r.t. the client's existence. */
  verifySecret(clientId: string, secret: string): Promise<ClientRecord | undefined>;
  /** Looks up a client without a secret (public clients only). */
  find(clientId: string): Promise<ClientRecord | undefined>;
  /** The deployment environment a client id encodes; undefined if the id is not of this deployment's shape. */
  environmentOf(clientId: string): string | undefined;
}

export interface ClientAuthSettings {
  /** This deployment's environment: clients of another one are refused. */
  readonly environment: string;
}

/**
 * Authenticates the presented client. `allowPublic` admits a public client identified by its id
 * alone (code and refresh grants); confidential clients always need their secret (SECURITY ).
 * Checks status after the secret, so only a caller holding the secret learns a client is disabled.
 */
export async function authenticateClient(
  presented: PresentedClient,
  verifier: ClientVerifier,
  settings: ClientAuthSettings,
  options: { allowPublic: boolean },
): Promise<ClientRecord> {
  const { clientId, clientSecret } = presented;
  if (clientId === undefined) throw invalidClient({ reason: 'missing', field: 'client_id' });
  // The environment is public (it is spelled in the id), so refusing it before any lookup leaks nothing.
  const environment = verifier.environmentOf(clientId);
  if (environment !== undefined && environment !== settings.environment) throw invalidClient({ reason: 'environment' });
  let client: ClientRecord | undefined;
  if (clientSecret !== undefined) {
    client = await verifier.verifySecret(clientId, clientSecret);
    if (!client) throw invalidClient();
    if (client.type === 'public') throw invalidClient();
  } else {
    const found = options.allowPublic ? await verifier.find(clientId) : undefined;
    if (!found || found.type !== 'public') throw invalidClient({ reason: 'missing', field: 'client_secret' });
    client = found;
  }
  if (client.environment !== settings.environment) throw invalidClient({ reason: 'environment' });
  if (client.status !== 'active') {
    throw new OAuthError('invalid_client', 'The client is disabled.', { reason: 'disabled' });
  }
  return client;
}

/**
 * The token endpoint, independent of any wire format: picks the grant, authenticates the client,
 * checks the client may use that grant here, lets the grant decide, and issues. RFC 6749 §3.2, §5.
 */
import type { GrantHandler, SessionResolver } from './grant.ts';
import type { ClientRecord } from '../storage/types.ts';
import { authenticateClient, type ClientAuthSettings, type ClientVerifier } from './client-auth.ts';
import { OAuthError } from '../wire/errors.ts';
import { issue, type IssueDeps, type IssueFormats, type IssueSettings } from './issue.ts';
import type { Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { OpaqueFormat } from '../tokens/opaque.ts';
import type { TokenRequest, TokenResult } from './token-request.ts';

/** What the exchange needs to know about the dialect that is speaking: never its wire format. */
export interface DialectPolicy extends IssueFormats {
  readonly name: string;
  /** Grant types this dialect's contract offers. */
  readonly grants: readonly string[];
}

export interface ExchangeDeps extends IssueDeps {
  /** Wider than issue's slice: user-delegated grants read sessions and codes. */
  readonly store: Pick<Store, 'tokens' | 'sessions' | 'codes'>;
  readonly keyring: Pick<Keyring, 'signer' | 'pepper' | 'peppers'>;
  /** Each grant declares the narrow deps it needs; this object must carry all of them. */
  readonly grants: ReadonlyMap<string, GrantHandler<ExchangeDeps>>;
  readonly verifier: ClientVerifier;
  /** Every opaque format the deployment can have issued (refresh grant, introspection). */
  readonly opaqueFormats: readonly OpaqueFormat[];
  /** Live sessions (the `web` grant). */
  readonly sessions: SessionResolver;
  readonly settings: IssueSettings & ClientAuthSettings & { readonly defaultAudience: string };
  readonly now: () => number;
  /** Called once the client is authenticated and allowed the grant (per-client rate limit); may throw. */
  readonly admit?: (client: ClientRecord) => Promise<void>;
}

export async function exchange(request: TokenRequest, dialect: DialectPolicy, deps: ExchangeDeps): Promise<TokenResult> {
  const type = request.grantType;
  // RFC 6749 §5.2 and SECURITY T-06: missing → invalid_request, unknown → unsupported_grant_type.
  if (type === undefined) {
    throw new OAuthError('invalid_request', 'The grant_type parameter is required.', { field: 'grant_type', reason: 'missing' });
  }
  const grant = dialect.grants.includes(type) ? deps.grants.get(type) : undefined;
  if (!grant) throw new OAuthError('unsupported_grant_type', 'The grant type is not supported.', { field: 'grant_type' });

  const client = await authenticateClient(request.client, deps.verifier, deps.settings, { allowPublic: grant.allowsPublicClients });
  if (!client.grants.includes(type)) {
    throw new OAuthError('unauthorized_client', 'The client is not allowed to use this grant type.', { field: 'grant_type' });
  }
  if (client.dialects.length > 0 && !client.dialects.includes(dialect.name)) {
    throw new OAuthError('unauthorized_client', 'The client is not allowed to use this endpoint.');
  }
  if (deps.admit) await deps.admit(client);
  const now = deps.now();
  const decision = await grant.handle({ request, client, now }, deps);
  return issue(decision, client, dialect, now, deps);
}

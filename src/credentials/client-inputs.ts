/** What a caller gives ClientService to create or change a client (CLI, admin API, console, apply, sandbox). */
import type { ClaimValue, ClientMode, ClientType } from '../storage/types.ts';
import type { AuthSettingsInput } from './client-auth-settings.ts';

export interface CreateClientInput extends AuthSettingsInput {
  readonly name: string;
  readonly mode?: ClientMode;
  readonly type?: ClientType;
  readonly scopes?: readonly string[];
  readonly grants?: readonly string[];
  readonly audiences?: readonly string[];
  readonly dialects?: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly trusted?: boolean;
  /** false: a confidential client may use the code flow without PKCE (SECURITY P-08); default true. */
  readonly pkceRequired?: boolean;
  /** Access-token lifetime in seconds. */
  readonly ttl?: number | null;
  /** Adds the `keymint:admin` scope: the client may call the admin API. */
  readonly admin?: boolean;
  /** Token requests per minute for this client; absent/null = the deployment's `--rate-limit-client`. */
  readonly rateLimit?: number | null;
  /** Free-form labels (see client-rules.ts for the limits); never put in tokens. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Static claims added to every access token (see client-rules.ts: reserved names, limits). */
  readonly claims?: Readonly<Record<string, ClaimValue>>;
  /** The id, chosen by the caller (import); absent = generated in this deployment's shape. */
  readonly clientId?: string;
  /** The secret, chosen by the caller (import); absent = generated. Stored as a digest like any other. */
  readonly clientSecret?: string;
  /** The tool that manages the client (`apply`); absent = made by hand. */
  readonly managedBy?: string;
  /** client_credentials requests may get a still-valid earlier token back (docs/performance.md); default false. */
  readonly tokenReuse?: boolean;
}

/**
 * A change to a client: absent fields stay as they are; `null` resets a field to its default
 * (ttl, rate limit) or clears it. Lists, `metadata` and `claims` are replaced whole. A client's
 * id, mode and type never change (they are spelled in its id and decide how it authenticates).
 */
export interface UpdateClientInput {
  readonly name?: string;
  readonly scopes?: readonly string[];
  /** Scopes added to (after `scopes`, if given) and removed from the client's, in the same atomic write. */
  readonly addScopes?: readonly string[];
  readonly removeScopes?: readonly string[];
  /** true adds `keymint:admin` to the scopes, false removes it. */
  readonly admin?: boolean;
  readonly grants?: readonly string[];
  readonly audiences?: readonly string[];
  readonly dialects?: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly trusted?: boolean;
  /** false lets a confidential client use the code flow without PKCE (SECURITY P-08). */
  readonly pkceRequired?: boolean;
  /** client_credentials requests may get a still-valid earlier token back. */
  readonly tokenReuse?: boolean;
  readonly ttl?: number | null;
  readonly rateLimit?: number | null;
  readonly metadata?: Readonly<Record<string, string>> | null;
  readonly claims?: Readonly<Record<string, ClaimValue>> | null;
  /** `client_secret_basic` returns a private_key_jwt client to secrets (it then needs rotate-secret for one). */
  readonly authMethod?: 'private_key_jwt' | 'client_secret_basic';
  /** Setting one of jwks and jwksUri clears the other. */
  readonly jwks?: unknown;
  readonly jwksUri?: string | null;
  readonly dpopBound?: boolean;
  readonly exchangeAudiences?: readonly string[] | null;
  readonly exchangeScopes?: readonly string[] | null;
  readonly managedBy?: string | null;
}

/**
 * The one shape of a grant. A grant decides who gets what, consuming any one-time artifact
 * atomically; it never mints (that is `protocol/issue.ts`) and never sees HTTP or the dialect.
 */
import type { ClientRecord } from '../storage/types.ts';
import type { TokenRequest } from '../protocol/token-request.ts';

export interface GrantContext {
  readonly request: TokenRequest;
  readonly client: ClientRecord;
  readonly now: number;
}

export interface GrantDecision {
  /** JWT `sub`: the client id for client_credentials (RFC 9068 §2.2), a user or organization UUID otherwise. */
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly audience: readonly string[];
  /** Whether to issue a refresh token with the access token. */
  readonly refreshToken: boolean;
  /** Grant family for revoke-by-family (code redemption, refresh rotation); null if none. */
  readonly familyId: string | null;
}

export interface GrantHandler<Deps = unknown> {
  /** The `grant_type` value on the wire. */
  readonly type: string;
  /** Request parameters the grant reads (documentation and OpenAPI generation). */
  readonly parameters: readonly string[];
  /** Whether a public client (id only, no secret) may use this grant. */
  readonly allowsPublicClients: boolean;
  handle(context: GrantContext, deps: Deps): Promise<GrantDecision>;
}

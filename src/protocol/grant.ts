/**
 * The one shape of a grant. A grant decides who gets what, consuming any one-time artifact
 * atomically; it never mints (that is `protocol/issue.ts`) and never sees HTTP or the dialect.
 */
import type { Maybe } from '../util/maybe.ts';
import type { ClientRecord, ConsentCheck, SessionRecord, SubjectType, TokenActor } from '../storage/types.ts';
import type { TokenRequest } from './token-request.ts';

export interface GrantContext {
  readonly request: TokenRequest;
  readonly client: ClientRecord;
  readonly now: number;
  /** Thumbprint of the key of the request's DPoP proof (RFC 9449 §5), when one came. */
  readonly jkt?: string | undefined;
  /** SHA-256 thumbprint of the request's TLS client certificate (RFC 8705 §3.1 `x5t#S256`), when one came. */
  readonly x5t?: string | undefined;
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
  // User-delegated grants only; absent for client_credentials.
  /** Whom `subject` names: a user or an organization (client tokens have none). */
  readonly subjectType?: SubjectType;
  /** Epoch seconds of the user's authentication (OIDC `auth_time`). */
  readonly authTime?: number;
  /** OIDC nonce from the authorization request, echoed in the ID token. */
  readonly nonce?: string;
  /** The id of the session the user authenticated in: the ID token's `sid` (RP-Initiated Logout, LOGOUT-10). */
  readonly sid?: string;
  /**
   * Digest of the stored refresh token this issuance rotates: `issue()` consumes it in the same
   * atomic write that stores the new tokens, and fails `invalid_grant` if another request won.
   */
  readonly replaces?: string;
  /**
   * Digest of the stored refresh token this issuance keeps instead of rotating (a client with
   * `refresh_token_rotation: false`, RT-11; `refreshToken` is then false): `issue()` stores the new
   * access token only if that token is still live, sliding its idle deadline in the same atomic
   * write, and fails `invalid_grant` otherwise. Only a token of a family: its access token is stored,
   * so the write is reached (and revoking the family revokes it).
   */
  readonly keeps?: string;
  /**
   * Digest of the authorization code this issuance redeems: `issue()` consumes it in the same
   * atomic write that stores the new tokens, and fails `invalid_grant` (revoking the family) if
   * another request won (C-06, RACE-01).
   */
  readonly redeems?: string;
  /**
   * Digest of the approved device authorization request this issuance redeems (RFC 8628): `issue()`
   * marks it redeemed in the same atomic write that stores the new tokens, and fails `invalid_grant`
   * if another poll won.
   */
  readonly redeemsDevice?: string;
  /**
   * The consent the redemption must find in that same write (a client that is not trusted: CON-06), of a code or a device request;
   * without it `issue()` burns the code and fails `invalid_grant`, issuing nothing.
   */
  readonly redeemsWithConsent?: ConsentCheck;
  /** Scope of the new refresh token when it differs from the access token's (RT-03). */
  readonly refreshScopes?: readonly string[];
  /** Epoch ms: absolute end of the refresh-token family (RT-07); default now + absolute lifetime. */
  readonly familyExpiresAt?: number;
  // Token exchange only (RFC 8693).
  /** Who acts for the subject: the token's `act` claim (§4.1). */
  readonly act?: TokenActor;
  /** The `issued_token_type` of the answer (§2.2.1). */
  readonly issuedTokenType?: string;
}

export interface GrantHandler<Deps = unknown> {
  /** The `grant_type` value on the wire. */
  readonly type: string;
  /** Request parameters the grant reads (documentation and OpenAPI generation). */
  readonly parameters: readonly string[];
  /** Whether a public client (id only, no secret) may use this grant. */
  readonly allowsPublicClients: boolean;
  /** A grant that needs nothing but the request and the client (client_credentials) answers at once. */
  handle(context: GrantContext, deps: Deps): Maybe<GrantDecision>;
}

/** A grant with its dependencies bound at wiring time: what a token endpoint runs. */
export interface BoundGrant {
  readonly type: string;
  /** Its request parameters, as the handler declares them (the OpenAPI document lists them). */
  readonly parameters: readonly string[];
  readonly allowsPublicClients: boolean;
  handle(context: GrantContext): Maybe<GrantDecision>;
}

export function bindGrant<Deps>(grant: GrantHandler<Deps>, deps: Deps): BoundGrant {
  return { type: grant.type, parameters: grant.parameters, allowsPublicClients: grant.allowsPublicClients, handle: (context) => grant.handle(context, deps) };
}

/** Resolves a presented session token to its live session (checksum first, digest lookup, expiry). */
export interface SessionResolver {
  resolve(token: string): Promise<SessionRecord | undefined>;
}

/**
 * The canonical token request: what every dialect decodes its wire format into, and all that the
 * grants and client authentication ever see.
 */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface PresentedClient {
  readonly method: ClientAuthMethod;
  /** Absent only when the request named no client at all. */
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

export interface TokenRequest {
  /** Undefined when the request carried none (the dialect may supply its implicit grant). */
  readonly grantType: string | undefined;
  /** Grant parameters by name, values non-empty strings (RFC 6749 §3.2: empty ≡ omitted). */
  readonly params: Readonly<Record<string, string>>;
  readonly client: PresentedClient;
  /** Name of the dialect that decoded the request (for limits on which dialects a client may use). */
  readonly dialect: string;
}

/** What a successful exchange yields, before a dialect encodes it. */
export interface TokenResult {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Whole seconds. */
  readonly expiresIn: number;
  readonly expiresAt: Date;
  readonly issuedAt: Date;
  /** Space-delimited; may be empty. */
  readonly scope: string;
  readonly refreshToken?: string | undefined;
  readonly idToken?: string | undefined;
  readonly clientId: string;
}

/**
 * The canonical token request: what every dialect decodes its wire format into, and all that the
 * grants and client authentication ever see.
 */
import type { PresentedClient } from './client-auth/types.ts';

export type { PresentedClient } from './client-auth/types.ts';

/** The parameters a token request may repeat. */
export const REPEATABLE_PARAMETERS = ['resource', 'audience'] as const;
export type RepeatableParameter = (typeof REPEATABLE_PARAMETERS)[number];

export interface TokenRequest {
  /** Undefined when the request carried none (the dialect may supply its implicit grant). */
  readonly grantType: string | undefined;
  /** Grant parameters by name, values non-empty strings (RFC 6749 §3.2: empty ≡ omitted). */
  readonly params: Readonly<Record<string, string>>;
  /** Parameters that may be sent several times (RFC 8707 `resource`, RFC 8693 `audience`), every value; they are not in `params`. */
  readonly lists?: Readonly<Partial<Record<RepeatableParameter, readonly string[]>>>;
  readonly client: PresentedClient;
  /** Every `DPoP` header value (RFC 9449 §4), for dialects that accept proofs; absent: none sent. */
  readonly dpop?: readonly string[];
  /** The DER TLS client certificate the request came with (RFC 8705), for dialects that read it; absent: none. */
  readonly certificate?: Buffer;
}

/** What a successful exchange yields, before a dialect encodes it. */
export interface TokenResult {
  readonly accessToken: string;
  /** `DPoP` when the access token is bound to the proof's key (RFC 9449 §5). */
  readonly tokenType: 'Bearer' | 'DPoP';
  /** Whole seconds. */
  readonly expiresIn: number;
  readonly expiresAt: Date;
  readonly issuedAt: Date;
  /** Space-delimited; may be empty. */
  readonly scope: string;
  readonly refreshToken?: string | undefined;
  readonly idToken?: string | undefined;
  readonly clientId: string;
  /** RFC 8693 §2.2.1 `issued_token_type`, for token exchange. */
  readonly issuedTokenType?: string;
  /** A fresh DPoP nonce for the `DPoP-Nonce` header, when the proof's nonce is about to expire (RFC 9449 §8.2). */
  readonly dpopNonce?: string | undefined;
}

/**
 * A dialect is a codec at the edge: HTTP request → canonical TokenRequest, canonical result or
 * error → HTTP response, with its contract as data. Adding a dialect is adding one file that exports
 * one `Dialect` and one line in ./index.ts.
 */
import type { ClientAuthMethodName } from '../protocol/client-auth/types.ts';
import type { IdTokenPolicy, AccessTokenSpec, TokenShapes } from '../protocol/issue.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import type { OAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * The wire contract as data. The OpenAPI document is generated from it, and the tests validate
 * every response body against these same schemas, so document and behaviour cannot drift apart.
 */
export interface DialectContract {
  readonly title: string;
  readonly summary: string;
  /**
   * Media types the token endpoint accepts, each with the schema of its body. A `grant_type`
   * property without `enum` or `const` gets the endpoint's grants as its enum in the OpenAPI document.
   */
  readonly requestBodies: Readonly<Record<string, JsonSchema>>;
  readonly success: JsonSchema;
  readonly error: JsonSchema;
  /** HTTP statuses the endpoint can answer with an error body, with what each means. */
  readonly errorStatuses: Readonly<Record<number, string>>;
  /**
   * Every response header of its own the dialect sends, all on 429 (beyond the standard ones:
   * Retry-After, WWW-Authenticate, DPoP-Nonce, Location and the CORS-safelisted). Its OpenAPI
   * document lists them on 429, and the router exposes them to scripts on other origins (CORS).
   */
  readonly rateLimitHeaders?: readonly string[];
  /** Request headers the contract documents (e.g. a required Content-Type), by name. */
  readonly requestHeaders?: Readonly<Record<string, { readonly required: boolean; readonly description: string; readonly schema: JsonSchema }>>;
  /** Whether clients may authenticate with HTTP Basic. */
  readonly basicAuth: boolean;
}

/** Endpoints a dialect serves beside its token endpoint, at `<directory of the token path>/<name>`. */
export type DialectEndpoint = 'introspect' | 'revoke' | 'authorize' | 'par' | 'userinfo' | 'revocations' | 'device_authorization' | 'end_session';

export interface Dialect {
  readonly name: string;
  /** Path of the token endpoint a client of this provider calls. Its directory is the dialect's mount. */
  readonly defaultPath: string;
  /** Grant types this dialect's contract offers, by wire name; `all`: every grant the server implements. */
  readonly grants: readonly string[] | 'all';
  /** Endpoints beside the token endpoint that the contract includes (none when absent). */
  readonly endpoints?: readonly DialectEndpoint[];
  /** How access tokens look: a JWT (optionally of a fixed algorithm) or an opaque shape. */
  readonly accessToken: AccessTokenSpec;
  /** Shapes of refresh tokens (default: Keymint's `km_rt_`). */
  readonly refreshToken?: TokenShapes;
  /** When an ID token accompanies a user token (default: with `openid` in scope). */
  readonly idToken?: IdTokenPolicy;
  /**
   * The client-authentication methods its `decode` reads, at the token endpoint and the endpoints
   * beside it (`none`: a client_id alone, for public clients). Discovery advertises these alone when
   * it describes this dialect (SECURITY M-09); test/security/auth-methods.test.ts shows, for every
   * dialect, that each gets a token and no other does.
   */
  readonly authMethods: readonly ClientAuthMethodName[];
  /** Its `decode` passes DPoP proofs on (RFC 9449): discovery then names DPoP's algorithms. */
  readonly dpop: boolean;
  /**
   * Its authorization endpoint answers in JARM's JWT response modes (`response_mode` query.jwt, jwt)
   * and discovery names them; absent: `response_mode` in the query is ignored, as Polar's own does.
   */
  readonly jwtResponseModes?: boolean;
  readonly contract: DialectContract;
  /** Throws OAuthError for anything malformed, in terms the encoder maps to this dialect's catalogue. */
  decode(req: HttpRequest): TokenRequest;
  encodeResult(result: TokenResult): HttpResponse;
  /** `req` is the request that failed (to answer in kind, e.g. WWW-Authenticate after Basic). */
  encodeError(err: OAuthError, req: HttpRequest): HttpResponse;
  /**
   * Its introspection endpoint answers a caller that asks for it (`Accept:
   * application/token-introspection+jwt`) with a signed JWT (RFC 9701); absent: the Accept header is
   * not read there, as no provider's contract has it.
   */
  readonly jwtIntrospection?: true;
  /** The introspection answer (default: the RFC 7662 JSON object as is). */
  encodeIntrospection?(answer: Readonly<Record<string, unknown>>): HttpResponse;
  /** The revocation answer (default: RFC 7009 §2.2, 200 with an empty body). */
  encodeRevocation?(): HttpResponse;
}

/**
 * A dialect is a codec at the edge: HTTP request → canonical TokenRequest, canonical result or
 * error → HTTP response. Adding a dialect is adding one file that exports one `Dialect`.
 */
import type { DialectPolicy } from '../protocol/exchange.ts';
import type { OAuthError } from '../wire/errors.ts';
import type { TokenRequest, TokenResult } from '../protocol/token-request.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * The wire contract as data. The OpenAPI document is generated from it, and the tests validate
 * every response body against these same schemas, so document and behaviour cannot drift apart.
 */
export interface DialectContract {
  readonly title: string;
  readonly summary: string;
  /** Media types the token endpoint accepts, each with the schema of its body. */
  readonly requestBodies: Readonly<Record<string, JsonSchema>>;
  readonly success: JsonSchema;
  readonly error: JsonSchema;
  /** HTTP statuses the endpoint can answer with an error body, with what each means. */
  readonly errorStatuses: Readonly<Record<number, string>>;
  /** Response headers documented for 429 (beyond Retry-After). */
  readonly rateLimitHeaders?: readonly string[];
  /** Request headers the contract documents (e.g. a required Content-Type), by name. */
  readonly requestHeaders?: Readonly<Record<string, { readonly required: boolean; readonly description: string; readonly schema: JsonSchema }>>;
  /** Whether clients may authenticate with HTTP Basic. */
  readonly basicAuth: boolean;
}

/** Token life-cycle endpoints a dialect serves beside its token endpoint (`<dir of token path>/<name>`). */
export type LifecycleEndpoint = 'introspect' | 'revoke' | 'authorize' | 'userinfo' | 'revocations';

export interface Dialect extends DialectPolicy {
  /** Path of the token endpoint a client of this provider calls. */
  readonly defaultPath: string;
  /** Issue 4: the life-cycle endpoints this dialect's contract includes (none when absent). */
  readonly endpoints?: readonly LifecycleEndpoint[];
  readonly contract: DialectContract;
  /** Throws OAuthError for anything malformed, in terms the encoder maps to this dialect's catalogue. */
  decode(req: HttpRequest): TokenRequest;
  encodeResult(result: TokenResult): HttpResponse;
  /** `req` is the request that failed (to answer in kind, e.g. WWW-Authenticate after Basic). */
  encodeError(err: OAuthError, req: HttpRequest): HttpResponse;
}

/**
 * The `Authorization` request header carrying an access token: `<scheme> 1*SP b64token` (RFC 9110
 * §11.4 with RFC 6750 §2.1's grammar; RFC 9449 §7.1 sends a DPoP-bound token the same way under
 * `DPoP`). Shared by every route that takes a token, so they agree on what is a token, what is
 * another scheme and what is malformed; each answers those cases in its own words.
 */

/** What one request's `Authorization` header holds, for a route accepting the schemes `S`. */
export type Credentials<S extends string> =
  /** No `Authorization` header. */
  | { readonly kind: 'absent' }
  /** One header of a scheme the route does not take (`Basic …`): RFC 6750 §3.1 answers it without an error code. */
  | { readonly kind: 'other' }
  /**
   * More than one header (`scheme` undefined), or one of an accepted scheme whose credentials are not
   * a single b64token: RFC 6750 §3.1 `invalid_request`.
   */
  | { readonly kind: 'malformed'; readonly scheme: S | undefined }
  /** `scheme` spelt as the route names it, whatever case the client used (RFC 9110 §11.1). */
  | { readonly kind: 'token'; readonly scheme: S; readonly token: string };

/** b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" — after the scheme's 1*SP. */
const B64TOKEN_CREDENTIALS = /^ +([A-Za-z0-9\-._~+/]+=*)$/;
/** OWS around a field value is not part of it (RFC 9110 §5.5); Node strips it already. */
const OWS = /^[ \t]+|[ \t]+$/g;

/** `values` is every `Authorization` header the request sent (`headersDistinct.authorization`). */
export function readCredentials<const S extends string>(values: readonly string[] | undefined, schemes: readonly S[]): Credentials<S> {
  if (values === undefined || values.length === 0) return { kind: 'absent' };
  if (values.length > 1) return { kind: 'malformed', scheme: undefined };
  const value = values[0]!.replace(OWS, '');
  const space = value.indexOf(' ');
  const name = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  const scheme = schemes.find((s) => s.toLowerCase() === name);
  if (scheme === undefined) return { kind: 'other' };
  const token = B64TOKEN_CREDENTIALS.exec(space === -1 ? '' : value.slice(space))?.[1];
  return token === undefined ? { kind: 'malformed', scheme } : { kind: 'token', scheme, token };
}

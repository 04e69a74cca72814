/**
 * Where an access token may come from: the `Authorization` header only, scheme `Bearer` (RFC 6750
 * §2.1) or `DPoP` (RFC 9449 §7.1). A token in the URI query is refused (§2.3 allows it, SECURITY
 * B-03 does not); form-body tokens (§2.2) are not read.
 */
import { VerifyError } from './errors.ts';

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 §11.1 auth-scheme token, then optional 1*SP and the credentials. */
const CREDENTIALS = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/s;

/** The parts of a request that can carry a token, framework-neutral. */
export interface BearerSource {
  /** Every `Authorization` header value, in order (Node: `req.headersDistinct.authorization`). */
  readonly authorization: readonly string[] | string | undefined;
  /** The request target or full URL; only its query is read. */
  readonly url?: string | undefined;
}

/** An access token and the scheme it came with. */
export interface Presented {
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
}

/**
 * The token of one `Authorization` header value. Another scheme (`Basic …`) counts as no token at
 * all (`missing_token`), so the caller is challenged; `Bearer` or `DPoP` with nothing, several parts
 * or characters outside b64token is `malformed_header`.
 */
export function credentialsFromHeader(value: string): Presented {
  // Fast path for the common `Bearer <token>` (one space); everything else takes the general parse.
  if (value.length > 7 && value.charCodeAt(6) === 32 && value.charCodeAt(7) !== 32 && /^bearer$/i.test(value.slice(0, 6))) {
    const token = value.slice(7).trimEnd();
    if (B64TOKEN.test(token)) return { scheme: 'Bearer', token };
  }
  const match = CREDENTIALS.exec(value.trim());
  if (!match) throw new VerifyError('malformed_header', 'The Authorization header is malformed.');
  const name = match[1]!.toLowerCase();
  if (name !== 'bearer' && name !== 'dpop') throw new VerifyError('missing_token', 'No bearer token in the request.');
  const scheme = name === 'dpop' ? 'DPoP' : 'Bearer';
  const token = match[2];
  if (token === undefined || !B64TOKEN.test(token)) {
    throw new VerifyError('malformed_header', `The Authorization header is not "${scheme} <token>".`, { scheme });
  }
  return { scheme, token };
}

/**
 * Accepts what `verify()` is given: a whole header value (`Bearer …`, `DPoP …`) or the bare token
 * (taken as Bearer). Empty means no token. A bare string that is not a b64token is `invalid_token`
 * (it is not a header either).
 */
export function credentialsFromInput(input: string | null | undefined): Presented {
  if (input === undefined || input === null || input.trim() === '') {
    throw new VerifyError('missing_token', 'No bearer token in the request.');
  }
  const value = input.trim();
  if (value.includes(' ') || /^(bearer|dpop)$/i.test(value)) return credentialsFromHeader(value);
  if (!B64TOKEN.test(value)) throw new VerifyError('invalid_token', 'The access token is malformed.');
  return { scheme: 'Bearer', token: value };
}

/** The one token of a request, whichever scheme it came with (see `credentialsFromRequest`). */
export function tokenFromRequest(source: BearerSource): string {
  return credentialsFromRequest(source).token;
}

/** The one token of a request, enforcing "one method, header only" (RFC 6750 §2, SECURITY B-03). */
export function credentialsFromRequest(source: BearerSource): Presented {
  const headers = source.authorization === undefined ? [] : typeof source.authorization === 'string' ? [source.authorization] : source.authorization;
  const inQuery = source.url !== undefined && queryHasToken(source.url);
  if (headers.length > 1) throw new VerifyError('malformed_header', 'More than one Authorization header.');
  if (inQuery && headers.length === 1) throw new VerifyError('multiple_methods', 'The token was sent by more than one method.');
  if (inQuery) throw new VerifyError('token_in_query', 'Tokens in the URI query are not accepted.');
  if (headers.length === 0 || headers[0]!.trim() === '') throw new VerifyError('missing_token', 'No bearer token in the request.');
  return credentialsFromHeader(headers[0]!);
}

function queryHasToken(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  const hash = url.indexOf('#', q);
  return new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash)).has('access_token');
}

/**
 * The console's cookies. Both are `__Host-` prefixed (the browser keeps them only when set Secure,
 * with Path=/ and no Domain, so no other host can plant or read them), HttpOnly (no script reads
 * them) and SameSite=Strict (no other site's page sends them). Browsers accept Secure cookies from
 * http://localhost, so the same attributes serve local use.
 */
import type { HttpRequest } from '../wire/http.ts';

/** The signed-in session: `kmc_` + 43 base62 characters, stored only as its SHA-256 digest. */
export const SESSION_COOKIE = '__Host-keymint_console';
/** Before sign-in: a random value the sign-in and link forms' CSRF tokens are bound to. */
export const PRE_COOKIE = '__Host-keymint_console_pre';

/** A `Set-Cookie` value; `maxAge` 0 deletes the cookie. */
export const cookieHeader = (name: string, value: string, maxAge: number): string =>
  `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;

/** The request's cookies by name; a name sent twice keeps its first value. */
export function readCookies(req: HttpRequest): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const line of req.headersDistinct.cookie ?? []) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim();
      if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}

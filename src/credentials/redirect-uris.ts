/**
 * Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1; SECURITY
 * RED-01..03). Registered URIs are later compared to requests byte for byte; this decides only what
 * may be registered at all:
 * - `https:` with a host;
 * - `http:` only on a loopback IP literal (127.0.0.0/8, [::1]), for native apps (RFC 8252 §7.3).
 *   `http://localhost` only for sandbox clients: RFC 8252 §8.3 advises against it, because the name
 *   may resolve elsewhere or bind another interface, and live clients have no need for it;
 * - a private-use scheme in reverse-domain form (`com.example.app:/cb`, RFC 8252 §7.1);
 * and never a fragment (RFC 6749 §3.1.2), userinfo, whitespace, or a relative reference. Every
 * other scheme, `javascript:`, `data:`, `file:` and `vbscript:` among them, is refused.
 */
import type { ClientMode } from '../storage/types.ts';
import { isLoopbackIp } from '../util/loopback.ts';

const MAX_LENGTH = 2000;
/** RFC 8252 §7.1: a scheme with at least one dot, read as a domain name reversed. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/;
/** Named in the error, so the operator sees why: these run or read content instead of navigating. */
const DANGEROUS = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'filesystem', 'view-source']);

/** Why `uri` may not be registered for a client of `mode`, or undefined when it may. */
export function redirectUriProblem(uri: string, mode: ClientMode, noun = 'redirect URI'): string | undefined {
  if (uri.length === 0 || uri.length > MAX_LENGTH) return `a ${noun} must be 1 to ${MAX_LENGTH} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return `a ${noun} must not contain whitespace or control characters`;
  const url = URL.parse(uri);
  if (url === null) return `a ${noun} must be an absolute URI`;
  const scheme = url.protocol.slice(0, -1);
  if (DANGEROUS.has(scheme)) return `the ${scheme}: scheme is not allowed in a ${noun}`;
  if (uri.includes('#')) return `a ${noun} must not have a fragment (RFC 6749 section 3.1.2)`;
  if (url.username !== '' || url.password !== '' || /^[^:]*:\/\/[^/?]*@/.test(uri)) return `a ${noun} must not carry userinfo`;
  if (scheme === 'https') return url.hostname === '' ? `an https ${noun} needs a host` : undefined;
  if (scheme === 'http') {
    if (isLoopbackIp(url.hostname)) return undefined;
    if (url.hostname === 'localhost' && mode === 'sandbox') return undefined;
    return url.hostname === 'localhost'
      ? 'http://localhost is allowed for sandbox clients only; use http://127.0.0.1 or http://[::1] (RFC 8252 section 8.3)'
      : `an http ${noun} must be on a loopback IP literal (127.0.0.1 or [::1], RFC 8252 section 7.3); use https`;
  }
  if (PRIVATE_USE_SCHEME.test(scheme)) return undefined;
  return 'a redirect URI must be https, http on a loopback IP literal, or a private-use scheme in reverse-domain form such as com.example.app:/callback (RFC 8252 section 7.1)';
}

/**
 * Why `uri` may not be a client's `backchannel_logout_uri` (OIDC Back-Channel Logout §2.2: an absolute
 * URI without a fragment), or undefined when it may: a redirect URI's rules, but only https, or http
 * where a redirect URI may be http (a loopback IP literal; localhost for sandbox clients). Whether it
 * is then reached is the outbound rules' decision (jwks-fetch.ts: no private addresses unless allowed).
 */
export function backchannelLogoutUriProblem(uri: string, mode: ClientMode): string | undefined {
  const noun = 'backchannel_logout_uri';
  const scheme = URL.parse(uri)?.protocol;
  if (scheme !== undefined && scheme !== 'https:' && scheme !== 'http:') return `a ${noun} must be https (http only on a loopback IP literal)`;
  return redirectUriProblem(uri, mode, noun);
}

/**
 * UserInfo — OIDC Core §5.3 with RFC 6750 §3 errors: the bearer access token of a user-delegated
 * grant → its subject. Its errors are the bearer scheme's (`WWW-Authenticate`), not a dialect's.
 */
import { viewToken, type TokenViewDeps } from '../../protocol/token-view.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../../wire/http.ts';

export async function userinfo(req: HttpRequest, now: number, deps: TokenViewDeps): Promise<HttpResponse> {
  const realm = 'Bearer realm="keymint"';
  const header = req.headersDistinct.authorization;
  // Credentials of another scheme (`DPoP …`, `Basic …`) are no bearer token: the bare challenge,
  // without an error code (RFC 6750 §3: "attempted using an unsupported authentication method").
  const inQuery = new URLSearchParams(req.query).has('access_token');
  const otherScheme = header?.length === 1 && !/^Bearer(?: |$)/i.test(header[0]!) && !inQuery;
  if (!header || header.length === 0 || otherScheme) {
    return json(401, { error: 'invalid_token', error_description: 'A bearer token is required.' }, { ...NO_STORE, 'WWW-Authenticate': realm });
  }
  const match = header.length === 1 ? /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header[0]!) : null;
  if (!match || inQuery) {
    return json(400, { error: 'invalid_request', error_description: 'The Authorization header is malformed.' }, { ...NO_STORE, 'WWW-Authenticate': `${realm}, error="invalid_request"` });
  }
  const view = await viewToken(match[1]!, now, deps);
  // A DPoP-bound token is not a bearer token: without its proof it proves nothing (RFC 9449 §7.1).
  if (!view || !view.active || view.kind !== 'access_token' || view.subjectType === undefined || view.jkt !== undefined) {
    return json(401, { error: 'invalid_token', error_description: 'The access token is invalid.' }, { ...NO_STORE, 'WWW-Authenticate': `${realm}, error="invalid_token"` });
  }
  return json(200, { sub: view.subject, sub_type: view.subjectType }, NO_STORE);
}

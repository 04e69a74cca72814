/**
 * UserInfo — OIDC Core §5.3 with RFC 6750 §3 errors: the access token of a user-delegated grant →
 * its subject, by GET or POST (§5.3.1). A bearer token comes as `Authorization: Bearer`, or in a
 * POST's form body as `access_token` (RFC 6750 §2.2; mod_auth_openidc's `OIDCUserInfoTokenMethod
 * post_param`); a DPoP-bound one as `Authorization: DPoP` with a proof of its key (RFC 9449 §7.1); a
 * certificate-bound one over a connection presenting its certificate (RFC 8705 §3, MTLS-19).
 * Its errors are those schemes' (`WWW-Authenticate`), not a dialect's.
 */
import { certificateThumbprint } from '../../protocol/client-auth/tls.ts';
import { UseDpopNonceError, verifyDpopProof, type DpopProof, type DpopSettings } from '../../protocol/dpop.ts';
import { viewToken, type TokenViewDeps } from '../../protocol/token-view.ts';
import { readCredentials } from '../../wire/authorization.ts';
import { OAuthError } from '../../wire/errors.ts';
import { json, NO_STORE, type HttpRequest, type HttpResponse } from '../../wire/http.ts';

export interface UserinfoDeps extends TokenViewDeps {
  /** How DPoP proofs are checked; the clock is the request's. */
  readonly dpop: Omit<DpopSettings, 'now'>;
}

const REALM = 'realm="keymint"';

/** `url` is the endpoint's absolute URL, the `htu` its DPoP proofs name. */
export async function userinfo(req: HttpRequest, url: string, now: number, deps: UserinfoDeps): Promise<HttpResponse> {
  const dpopChallenge = `DPoP ${REALM}, algs="${deps.dpop.algorithms.join(' ')}"`;
  const refuse = (status: number, scheme: 'Bearer' | 'DPoP', error: string, description: string, headers: Record<string, string> = {}) =>
    json(status, { error, error_description: description }, {
      ...NO_STORE,
      'WWW-Authenticate': scheme === 'Bearer' ? `Bearer ${REALM}, error="${error}"` : `${dpopChallenge}, error="${error}"`,
      ...headers,
    });
  const header = readCredentials(req.headersDistinct.authorization, ['Bearer', 'DPoP']);
  const inQuery = new URLSearchParams(req.query).has('access_token');
  const inBody = bodyTokens(req);
  // RFC 6750 §2: one way of sending the token, once (B-03).
  if (inBody.length > 0 && (header.kind !== 'absent' || inQuery || inBody.length > 1)) {
    return refuse(400, 'Bearer', 'invalid_request', 'The access token must be sent one way, once.');
  }
  const credentials = inBody.length === 1 ? { kind: 'token' as const, scheme: 'Bearer' as const, token: inBody[0]! } : header;
  // No credentials, or credentials of another scheme (`Basic …`): both challenges, without an error
  // code (RFC 6750 §3: "attempted using an unsupported authentication method"; RFC 9449 §7.1).
  if (credentials.kind === 'absent' || (credentials.kind === 'other' && !inQuery)) {
    return json(401, { error: 'invalid_token', error_description: 'An access token is required.' }, { ...NO_STORE, 'WWW-Authenticate': `Bearer ${REALM}, ${dpopChallenge}` });
  }
  // Malformed credentials, or a header beside a token in the query (two ways of sending one, RFC 6750 §2).
  if (credentials.kind !== 'token' || inQuery) {
    const scheme = credentials.kind === 'other' ? undefined : credentials.scheme;
    return refuse(400, scheme ?? 'Bearer', 'invalid_request', 'The Authorization header is malformed.');
  }
  const { token } = credentials;
  const dpop = credentials.scheme === 'DPoP';

  let proof: DpopProof | undefined;
  if (dpop) {
    try {
      proof = await verifyDpopProof({ method: req.method, url, proof: req.headersDistinct.dpop, accessToken: token }, { ...deps.dpop, now: () => now });
    } catch (err) {
      // RFC 9449 §9: a resource server's nonce challenge is a 401, not the token endpoint's 400.
      if (err instanceof UseDpopNonceError) return refuse(401, 'DPoP', 'use_dpop_nonce', err.description, { 'DPoP-Nonce': err.nonce });
      if (err instanceof OAuthError) return refuse(401, 'DPoP', 'invalid_dpop_proof', err.description);
      throw err;
    }
    if (!proof) return refuse(401, 'DPoP', 'invalid_dpop_proof', 'A DPoP-bound token needs a DPoP proof.');
  }
  const view = await viewToken(token, now, deps);
  // A DPoP-bound token is no bearer token: without its proof it proves nothing (RFC 9449 §7.1); and a
  // proof proves only the key the token is bound to. So with a certificate-bound one and its certificate
  // (RFC 8705 §3): none arrives on the main listener beside --mtls-port, so there it opens nothing.
  const certificate = view?.x5t === undefined ? undefined : req.clientCertificate;
  const boundElsewhere = view?.x5t !== undefined && (certificate === undefined || certificateThumbprint(certificate) !== view.x5t);
  if (!view || !view.active || view.kind !== 'access_token' || view.subjectType === undefined || view.jkt !== proof?.jkt || boundElsewhere) {
    return refuse(401, dpop ? 'DPoP' : 'Bearer', 'invalid_token', 'The access token is invalid.');
  }
  const headers: Record<string, string> = { ...NO_STORE };
  if (proof?.freshNonce !== undefined) headers['DPoP-Nonce'] = proof.freshNonce;
  return json(200, { sub: view.subject, sub_type: view.subjectType }, headers);
}

/** RFC 6750 §2.2: the `access_token` values of a POST's form body (none for any other request). */
function bodyTokens(req: HttpRequest): string[] {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.method !== 'POST' || type !== 'application/x-www-form-urlencoded') return [];
  return new URLSearchParams(req.body.toString('utf8')).getAll('access_token');
}

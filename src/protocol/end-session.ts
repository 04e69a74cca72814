/**
 * OpenID Connect RP-Initiated Logout 1.0 §2–3: the checks of a logout request, before any session is
 * touched. `id_token_hint` must be an ID token this server signed (expired ones too, §2), for the
 * client `client_id` names when both are sent; `post_logout_redirect_uri` must equal, byte for byte,
 * one of that client's registered `post_logout_redirect_uris` (§3.1). Anything else refused is an
 * error page, never a redirect: a redirect URI is only ever one the client registered (LOGOUT-03).
 */
import type { ClientLookup } from './authorize.ts';
import type { OwnSignatureVerifier } from '../tokens/local-verify.ts';

/** The parameters of §2, each at most once; `ui_locales` is read and not used (the pages are in English). */
export const LOGOUT_PARAMETERS = ['id_token_hint', 'logout_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'ui_locales'] as const;

export interface LogoutDeps {
  readonly findClient: ClientLookup;
  readonly verifyOwnJwt: OwnSignatureVerifier;
  readonly issuer: string;
}

/** Who the ID token hint names: its `sub`, its client (`aud`), and the session it was issued in (`sid`). */
export interface LogoutHint {
  readonly subject: string;
  readonly clientId: string;
  readonly sid: string | undefined;
}

export type LogoutRequest =
  | { readonly kind: 'page'; readonly description: string }
  | {
      readonly kind: 'ok';
      readonly hint: LogoutHint | undefined;
      /** The client the request is from (the hint's audience, or `client_id`), when it says. */
      readonly clientId: string | undefined;
      /** Where to send the browser at the end: a registered URI, with the request's state. */
      readonly redirect: { readonly uri: string; readonly state: string | undefined } | undefined;
    };

const page = (description: string): LogoutRequest => ({ kind: 'page', description });

/** Checks a logout request's parameters (`duplicate`: the first name given twice, if any). */
export async function checkLogoutRequest(params: Readonly<Record<string, string>>, duplicate: string | undefined, deps: LogoutDeps): Promise<LogoutRequest> {
  if (duplicate !== undefined && (LOGOUT_PARAMETERS as readonly string[]).includes(duplicate)) return page(`The parameter ${duplicate} was sent more than once.`);
  for (const name of LOGOUT_PARAMETERS) {
    if ((params[name]?.length ?? 0) > (name === 'id_token_hint' ? 8192 : 2048)) return page(`The parameter ${name} is too long.`);
  }
  let hint: LogoutHint | undefined;
  if (params.id_token_hint !== undefined) {
    hint = await readHint(params.id_token_hint, deps);
    if (!hint) return page('The id_token_hint is not an ID token issued by this server.');
  }
  // §2: client_id, when sent with a hint, names the hint's audience.
  if (hint && params.client_id !== undefined && params.client_id !== hint.clientId) return page('The client_id is not the audience of the id_token_hint.');
  const clientId = hint?.clientId ?? params.client_id;
  const uri = params.post_logout_redirect_uri;
  if (uri === undefined) return { kind: 'ok', hint, clientId, redirect: undefined };
  // §3: a post_logout_redirect_uri is checked against the registration of the client the request names.
  if (clientId === undefined) return page('A post_logout_redirect_uri needs the client_id or an id_token_hint that names the application.');
  const client = await deps.findClient(clientId);
  if (!client || client.status !== 'active') return page('The application is unknown or disabled.');
  if (!(client.postLogoutRedirectUris ?? []).includes(uri)) return page('The post_logout_redirect_uri is not registered for this application.');
  return { kind: 'ok', hint, clientId, redirect: { uri, state: params.state } };
}

/**
 * The hint when it is an ID token of this issuer: signed with a published key, `iss` this issuer,
 * `typ` JWT (an access token is `at+jwt`), a string `sub` and a string `aud` (Keymint's ID tokens are
 * for one client). Its `exp` is not checked (§2: the RP may log out after its ID token expired).
 */
async function readHint(token: string, deps: LogoutDeps): Promise<LogoutHint | undefined> {
  const verified = await deps.verifyOwnJwt(token);
  if (!verified) return undefined;
  const { header, claims } = verified;
  if (header.typ !== 'JWT' || claims.iss !== deps.issuer) return undefined;
  if (typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || typeof claims.iat !== 'number') return undefined;
  if (claims.sid !== undefined && typeof claims.sid !== 'string') return undefined;
  return { subject: claims.sub, clientId: claims.aud, sid: claims.sid as string | undefined };
}

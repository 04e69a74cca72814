/**
 * Token introspection — RFC 7662. The caller has authenticated (I-02); it learns only about tokens
 * issued to it, and, when an operator made it a resource server (`introspectionAudiences`), about
 * another client's access tokens whose `aud` includes one of its audiences (I-05, I-17..I-19);
 * anything else — unknown, expired, revoked, another client's refresh token — is `{"active": false}`
 * and nothing more (I-04). A revoked JWT's jti is inactive at once (I-07). `sub_type` (Polar's
 * extension) is added for user-delegated tokens, `cnf` for DPoP-bound ones, `act` for delegated ones,
 * and the client's static claims as the token was issued with them.
 *
 * RFC 9701: a caller that asks for it gets that same object as the `token_introspection` claim of a
 * JWT signed with its `introspection_signed_response_alg` (I-08..I-14).
 */
import type { SigningAlg } from '../config/types.ts';
import type { ClientRecord } from '../storage/types.ts';
import { signJwt } from '../tokens/jwt.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { OAuthError } from '../wire/errors.ts';
import { algorithmAllowed } from './fapi2.ts';
import { registeredAlg } from './signed-response.ts';
import { viewToken, type TokenView, type TokenViewDeps } from './token-view.ts';

export interface IntrospectionDeps extends TokenViewDeps {
  readonly keyring: TokenViewDeps['keyring'] & Pick<Keyring, 'signer'>;
  readonly settings: { readonly issuer: string; readonly alg: SigningAlg };
}

/** RFC 9701 §5: the media type a caller asks for, and the answer's Content-Type. */
export const INTROSPECTION_JWT = 'application/token-introspection+jwt';

const INACTIVE = { active: false } as const;

/**
 * Whether the caller may learn about the token: its own (any kind), or, as a resource server (RFC
 * 7662 §2.1: the protected resource asks), another client's access token for an audience it serves.
 * Never another client's refresh token: a resource server is never sent one (I-18).
 */
function entitled(view: TokenView, caller: Pick<ClientRecord, 'id' | 'introspectionAudiences'>): boolean {
  if (view.clientId === caller.id) return true;
  const served = caller.introspectionAudiences ?? [];
  return view.kind === 'access_token' && served.length > 0 && view.audience.some((a) => served.includes(a));
}

export async function introspect(token: string, caller: ClientRecord, now: number, deps: IntrospectionDeps): Promise<Record<string, unknown>> {
  const view = await viewToken(token, now, deps);
  if (!view || !view.active || !entitled(view, caller)) return INACTIVE;
  return {
    // The client's static claims (SECURITY CE-05); none can shadow a field below (reserved names).
    ...view.claims,
    active: true,
    scope: view.scope,
    client_id: view.clientId,
    token_type: view.kind === 'refresh_token' ? 'refresh_token' : view.jkt === undefined ? 'Bearer' : 'DPoP',
    exp: Math.floor(view.expiresAt / 1000),
    iat: Math.floor(view.issuedAt / 1000),
    sub: view.subject,
    ...(view.subjectType === undefined ? {} : { sub_type: view.subjectType }),
    aud: view.audience.length === 1 ? view.audience[0] : [...view.audience],
    iss: deps.settings.issuer,
    ...(view.kind === 'access_token' ? { jti: view.jti } : {}),
    // RFC 9449 §6.2: the key a bound token is confirmed by (SECURITY DP-02).
    // RFC 8705 §3.2: and the certificate (MTLS-08).
    ...(view.jkt === undefined && view.x5t === undefined ? {} : { cnf: { ...(view.jkt === undefined ? {} : { jkt: view.jkt }), ...(view.x5t === undefined ? {} : { 'x5t#S256': view.x5t }) } }),
    // RFC 8693 §4.1: who acts for the subject of an exchanged token, and before it (TE-03).
    ...(view.act === undefined ? {} : { act: view.act }),
  };
}

/**
 * RFC 9701 §5: the answer as a JWT, `typ` `token-introspection+jwt`, for the caller (`aud`), with
 * `iss`, `iat` and the answer, unchanged, as `token_introspection` (an inactive token's is
 * `{"active":false}` there too). No `exp`, `sub` or `jti` of its own: it is an answer about a token,
 * not a token. Signed with the caller's alg; refused unauthorized_client when the keyring no longer
 * keeps it (signed-response.ts), or when it is RS256 for a fapi2 client.
 */
export function introspectionJwt(answer: Readonly<Record<string, unknown>>, caller: Pick<ClientRecord, 'id' | 'introspectionAlg' | 'securityProfile'>, now: number, deps: Pick<IntrospectionDeps, 'keyring' | 'settings'>): string {
  const alg = registeredAlg(caller.introspectionAlg, deps.settings.alg, 'introspection answers', 'introspection_signed_response_alg');
  // FAPI 2.0 §5.4.1: a fapi2 client's JWTs are PS256, ES256 or EdDSA, never RS256 (I-15), as its ID
  // tokens (FAPI-11) and authorization responses (JARM-08) are.
  if (!algorithmAllowed(caller, alg)) {
    throw new OAuthError('unauthorized_client', `A fapi2 client's introspection answers are not signed with ${alg} (FAPI 2.0 §5.4.1); its introspection_signed_response_alg must be changed to the server's --alg.`, { field: 'client_id' });
  }
  return signJwt(deps.keyring.signer(alg), 'token-introspection+jwt', {
    iss: deps.settings.issuer,
    aud: caller.id,
    iat: Math.floor(now / 1000),
    token_introspection: answer,
  });
}

/**
 * Token introspection — RFC 7662. The caller has authenticated (I-02); it learns only about tokens
 * issued to it (I-05); anything unknown, expired, revoked or not its own is `{"active": false}` and
 * nothing more (I-04). A revoked JWT's jti is inactive at once (I-07). `sub_type` (Polar's
 * extension) is added for user-delegated tokens, `cnf` for DPoP-bound ones, `act` for delegated ones,
 * and the client's static claims as the token was issued with them.
 */
import type { ClientRecord } from '../storage/types.ts';
import { viewToken, type TokenViewDeps } from './token-view.ts';

export interface IntrospectionDeps extends TokenViewDeps {
  readonly settings: { readonly issuer: string };
}

const INACTIVE = { active: false } as const;

export async function introspect(token: string, caller: ClientRecord, now: number, deps: IntrospectionDeps): Promise<Record<string, unknown>> {
  const view = await viewToken(token, now, deps);
  if (!view || !view.active || view.clientId !== caller.id) return INACTIVE;
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

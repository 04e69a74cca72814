/**
 * Token revocation — RFC 7009. Unknown, expired or already-revoked tokens answer 200 (V-04); the
 * hint only orders nothing here, since one lookup covers every type (V-05). A refresh token takes its
 * whole family with it, access tokens included (V-06), and the user's remembered consent to the
 * client (protocol/consent.ts): the app has ended the user's grant; a JWT is revoked by recording its jti
 * (V-07), which introspection and the revocation feed then report. Another client's token is refused
 * (`invalid_request`) for a confidential caller and silently ignored for a public one (V-03).
 */
import { ConflictError, type ClientRecord, type Store } from '../storage/types.ts';
import { withdrawConsent } from './consent.ts';
import { OAuthError } from '../wire/errors.ts';
import { viewToken, type TokenViewDeps } from './token-view.ts';

export interface RevokedEvent {
  readonly kind: 'access_token' | 'refresh_token';
  readonly clientId: string;
  /** Set when a JWT was revoked (what verifiers deny). */
  readonly jti: string | undefined;
  /** Stored digest (`pepperKid:hex`, never the token) when an opaque token was revoked. */
  readonly digest: string | undefined;
  /** Set when a whole family was revoked. */
  readonly familyId: string | null;
  /** Epoch ms at which the token would have expired. */
  readonly expiresAt: number;
}

export interface RevocationDeps extends TokenViewDeps {
  readonly store: TokenViewDeps['store'] & Pick<Store, 'consents' | 'audit'>;
  /** Called after a revocation is durable (e.g. to publish it to other nodes); its failure is logged, not fatal. */
  readonly onRevoked?: (event: RevokedEvent) => void | Promise<void>;
}

export async function revoke(token: string, caller: ClientRecord, now: number, deps: RevocationDeps): Promise<void> {
  const view = await viewToken(token, now, deps);
  if (!view) return;
  if (view.clientId !== caller.id) {
    if (caller.type === 'public') return;
    throw new OAuthError('invalid_request', 'The token was not issued to this client.', { field: 'token' });
  }
  const { tokens } = deps.store;
  if (view.familyId !== null && view.kind === 'refresh_token') {
    await tokens.revokeFamily(view.familyId, now);
    if (view.subjectType !== undefined) await withdrawConsent(view.clientId, view.subjectType, view.subject, now, `client:${caller.id}`, deps);
  } else if (view.recorded) {
    await tokens.revoke(view.digest, now);
  } else {
    try {
      await tokens.insert({
        digest: view.digest,
        kind: 'access_token',
        clientId: view.clientId,
        subject: view.subject,
        scope: view.scope,
        audience: view.audience,
        issuedAt: view.issuedAt,
        expiresAt: view.expiresAt,
        revokedAt: now,
        familyId: null,
        jti: view.jti,
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      await tokens.revoke(view.digest, now); // a concurrent revocation recorded it first
    }
  }
  await deps.onRevoked?.({
    kind: view.kind,
    clientId: view.clientId,
    jti: view.jwt ? view.jti : undefined,
    digest: view.jwt ? undefined : view.digest,
    familyId: view.kind === 'refresh_token' ? view.familyId : null,
    expiresAt: view.expiresAt,
  });
}

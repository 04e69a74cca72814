/**
 * Remembered consent: once a user approves a client on the consent page, a later authorization
 * request from that user (the session's subject) for that client, asking for no scope beyond those
 * approved, is answered without the page (and `prompt=none` succeeds). Kept per (client, subject
 * type, subject) in the store until withdrawn: the client revokes one of the user's refresh tokens
 * (RFC 7009), or the client is disabled or deleted. Not tied to a token's lifetime: a grant that
 * ends by itself, or a rotated client secret, is not the user's withdrawal.
 */
import { covers, type SessionRecord, type Store, type SubjectType } from '../storage/types.ts';
import type { AuthorizationRequest } from './authorize.ts';

export interface ConsentDeps {
  readonly store: Pick<Store, 'consents' | 'audit'>;
}

/** True when the user approved this client for every scope the request asks for, and has not withdrawn it. */
export async function consented(request: AuthorizationRequest, session: SessionRecord, deps: ConsentDeps): Promise<boolean> {
  const consent = await deps.store.consents.get(request.client.id, session.subjectType, session.subject);
  return consent !== undefined && covers(consent.scope, request.scopes);
}

/** Records the user's approval of the request's scopes (added to any approved before); audited. */
export async function rememberConsent(request: Pick<AuthorizationRequest, 'client' | 'scopes'>, session: SessionRecord, now: number, deps: ConsentDeps): Promise<void> {
  const consent = await deps.store.consents.grant(request.client.id, session.subjectType, session.subject, request.scopes, now);
  await deps.store.audit.append({
    at: now, actor: `session:${session.id}`, action: 'consent.grant', target: request.client.id,
    detail: { subject: session.subject, subject_type: session.subjectType, scope: consent.scope },
  });
}

/** Ends the consent of one subject to one client, if there is one; audited when there was. */
export async function withdrawConsent(clientId: string, subjectType: SubjectType, subject: string, now: number, actor: string, deps: ConsentDeps): Promise<boolean> {
  if (!(await deps.store.consents.revoke(clientId, subjectType, subject))) return false;
  await deps.store.audit.append({ at: now, actor, action: 'consent.revoke', target: clientId, detail: { subject, subject_type: subjectType } });
  return true;
}

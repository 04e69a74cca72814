/**
 * Remembered consent: once a user approves a client on the consent page, a later authorization
 * request from that user (the session's subject) for that client, asking for no scope beyond those
 * approved, is answered without the page (and `prompt=none` succeeds). Kept per (client, subject
 * type, subject) in the store until withdrawn: the client revokes one of the user's refresh tokens
 * (RFC 7009), or the client is disabled or deleted. Not tied to a token's lifetime: a grant that
 * ends by itself, or a rotated client secret, is not the user's withdrawal.
 */
import { covers, type SessionRecord, type Store, type SubjectType, type Withdrawal } from '../storage/types.ts';
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

/** One of a subject's connected apps, as the admin API and `keymint consents list` show it. */
export interface ConnectedAppView {
  readonly client_id: string;
  /** Null once the client is gone. */
  readonly client_name: string | null;
  readonly scope: string;
  /** ISO 8601, the latest approval. */
  readonly granted_at: string;
  /** A refresh token of the subject for the client is live. */
  readonly live_grants: boolean;
}

/** The subject's connected apps at `at`, each with its client's name. */
export async function connectedApps(subjectType: SubjectType, subject: string, at: number, deps: { readonly store: Pick<Store, 'consents' | 'clients'> }): Promise<ConnectedAppView[]> {
  const apps = await deps.store.consents.list(subjectType, subject, at);
  const names = new Map((await Promise.all(apps.map((a) => deps.store.clients.get(a.clientId)))).map((c) => [c?.id, c?.name]));
  return apps.map((a) => ({ client_id: a.clientId, client_name: names.get(a.clientId) ?? null, scope: a.scope, granted_at: new Date(a.grantedAt).toISOString(), live_grants: a.liveGrants }));
}

/**
 * The subject withdraws the client (the admin API, `keymint consents revoke`): its consent and every
 * grant, in one transaction (`ConsentRepo.withdraw`), audited `consent.revoke` by `actor` with what it
 * ended. Undefined when the subject had neither a consent nor a live grant for the client.
 */
export async function withdrawApp(clientId: string, subjectType: SubjectType, subject: string, at: number, actor: string, deps: ConsentDeps): Promise<Withdrawal | undefined> {
  const ended = await deps.store.consents.withdraw(clientId, subjectType, subject, at);
  if (!ended.consent && ended.tokens === 0) return undefined;
  await deps.store.audit.append({ at, actor, action: 'consent.revoke', target: clientId, detail: { subject, subject_type: subjectType, consent: ended.consent, tokens_revoked: ended.tokens } });
  return ended;
}

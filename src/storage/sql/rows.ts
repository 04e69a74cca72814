/**
 * The tables the SQL backends share, written once for SQLite and PostgreSQL: each table's columns in
 * insert order beside the values of a record in that order, and the mapping of a row to a record.
 *
 * Both drivers hand back the same row shapes: integers (epoch ms, counts, sequence numbers) as
 * numbers and JSON columns as JSON text. SQLite does so natively; the PostgreSQL pool is configured
 * to (`postgres/db.ts`). The SQL itself stays in each backend: placeholders and locking differ.
 */
import type {
  AuditEvent,
  ClientRecord,
  CodeRecord,
  DeviceCodeRecord,
  DeviceCodeStatus,
  ConnectedApp,
  ConsentRecord,
  ConsoleLinkRecord,
  ConsoleRole,
  ConsoleSessionRecord,
  ConsoleUserRecord,
  KeyRecord,
  PushedRequestRecord,
  RevocationPage,
  SealedSuccessor,
  SessionRecord,
  SubjectType,
  TokenKind,
  TokenMeta,
  TokenRecord,
} from '../types.ts';

/** A value bound to a statement parameter. */
export type SqlValue = string | number | null;

/** Clients and keys are stored as JSON documents beside the columns they are looked up by. */
export interface DocRow {
  readonly doc: string;
}

export const CLIENT_COLUMNS = ['id', 'doc', 'updated_at'] as const;
export const clientValues = (c: ClientRecord): SqlValue[] => [c.id, JSON.stringify(c), c.updatedAt];
export const toClient = (r: DocRow): ClientRecord => JSON.parse(r.doc) as ClientRecord;

export const KEY_COLUMNS = ['kid', 'doc'] as const;
export const keyValues = (k: KeyRecord): SqlValue[] => [k.kid, JSON.stringify(k)];
export const toKey = (r: DocRow): KeyRecord => JSON.parse(r.doc) as KeyRecord;

/** A sealed successor as both backends select it (RACE-04). */
export interface SuccessorRow {
  readonly successor: string;
  readonly sealed: string;
  readonly expires_at: number;
}
export const toSuccessor = (r: SuccessorRow): SealedSuccessor => ({ digest: r.successor, sealed: r.sealed, expiresAt: r.expires_at });

export const TOKEN_COLUMNS = [
  'digest', 'kind', 'client_id', 'subject', 'scope', 'audience', 'issued_at', 'expires_at', 'revoked_at', 'family_id', 'jti', 'meta',
] as const;

export const tokenValues = (t: TokenRecord): SqlValue[] => [
  t.digest, t.kind, t.clientId, t.subject, t.scope, JSON.stringify(t.audience), t.issuedAt, t.expiresAt, t.revokedAt, t.familyId, t.jti,
  t.meta === undefined ? null : JSON.stringify(t.meta),
];

export interface TokenRow {
  readonly digest: string;
  readonly kind: string;
  readonly client_id: string;
  readonly subject: string;
  readonly scope: string;
  readonly audience: string;
  readonly issued_at: number;
  readonly expires_at: number;
  readonly revoked_at: number | null;
  readonly family_id: string | null;
  readonly jti: string;
  readonly meta: string | null;
}

export const toToken = (r: TokenRow): TokenRecord => ({
  digest: r.digest,
  kind: r.kind as TokenKind,
  clientId: r.client_id,
  subject: r.subject,
  scope: r.scope,
  audience: JSON.parse(r.audience) as string[],
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  familyId: r.family_id,
  jti: r.jti,
  ...(r.meta === null ? {} : { meta: JSON.parse(r.meta) as TokenMeta }),
});

export const SESSION_COLUMNS = ['id', 'digest', 'subject', 'subject_type', 'organizations', 'created_at', 'expires_at', 'ended_at'] as const;

export const sessionValues = (s: SessionRecord): SqlValue[] => [
  s.id, s.digest, s.subject, s.subjectType, JSON.stringify(s.organizations), s.createdAt, s.expiresAt, s.endedAt,
];

export interface SessionRow {
  readonly id: string;
  readonly digest: string;
  readonly subject: string;
  readonly subject_type: string;
  readonly organizations: string;
  readonly created_at: number;
  readonly expires_at: number;
  readonly ended_at: number | null;
}

export const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  digest: r.digest,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  organizations: JSON.parse(r.organizations) as string[],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
});

export const CONSENT_COLUMNS = ['client_id', 'subject_type', 'subject', 'scope', 'granted_at'] as const;

export const consentValues = (c: ConsentRecord): SqlValue[] => [c.clientId, c.subjectType, c.subject, c.scope, c.grantedAt];

export interface ConsentRow {
  readonly client_id: string;
  readonly subject_type: string;
  readonly subject: string;
  readonly scope: string;
  readonly granted_at: number;
}

export const toConsent = (r: ConsentRow): ConsentRecord => ({
  clientId: r.client_id,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  scope: r.scope,
  grantedAt: r.granted_at,
});

/** A consent row with whether the subject holds a live refresh token for the client (`0`/`1` in SQLite). */
export const toConnectedApp = (r: ConsentRow & { readonly live_grants: number | boolean }): ConnectedApp => ({ ...toConsent(r), liveGrants: Boolean(r.live_grants) });

export const CODE_COLUMNS = [
  'digest', 'client_id', 'redirect_uri', 'scope', 'code_challenge', 'code_challenge_method', 'nonce', 'subject', 'subject_type',
  'auth_time', 'issued_at', 'expires_at', 'consumed_at', 'family_id', 'resource', 'dpop_jkt', 'session_id',
] as const;

export const codeValues = (c: CodeRecord): SqlValue[] => [
  c.digest, c.clientId, c.redirectUri, c.scope, c.codeChallenge, c.codeChallengeMethod, c.nonce, c.subject, c.subjectType,
  c.authTime, c.issuedAt, c.expiresAt, c.consumedAt, c.familyId, c.resource, c.dpopJkt, c.sessionId,
];

export interface CodeRow {
  readonly digest: string;
  readonly client_id: string;
  readonly redirect_uri: string | null;
  readonly scope: string;
  readonly code_challenge: string | null;
  readonly code_challenge_method: string | null;
  readonly nonce: string | null;
  readonly subject: string;
  readonly subject_type: string;
  readonly auth_time: number;
  readonly issued_at: number;
  readonly expires_at: number;
  readonly consumed_at: number | null;
  readonly family_id: string;
  readonly resource: string | null;
  readonly dpop_jkt: string | null;
  readonly session_id: string | null;
}

export const toCode = (r: CodeRow): CodeRecord => ({
  digest: r.digest,
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  scope: r.scope,
  codeChallenge: r.code_challenge,
  codeChallengeMethod: r.code_challenge_method,
  nonce: r.nonce,
  subject: r.subject,
  subjectType: r.subject_type as SubjectType,
  authTime: r.auth_time,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
  familyId: r.family_id,
  resource: r.resource,
  dpopJkt: r.dpop_jkt,
  sessionId: r.session_id,
});

export const DEVICE_CODE_COLUMNS = [
  'digest', 'user_code', 'client_id', 'scope', 'issued_at', 'expires_at', 'poll_interval', 'polled_at', 'status', 'subject', 'subject_type',
  'auth_time', 'decided_at', 'family_id', 'session_id',
] as const;

export const deviceCodeValues = (d: DeviceCodeRecord): SqlValue[] => [
  d.digest, d.userCode, d.clientId, d.scope, d.issuedAt, d.expiresAt, d.interval, d.polledAt, d.status, d.subject, d.subjectType,
  d.authTime, d.decidedAt, d.familyId, d.sessionId,
];

export interface DeviceCodeRow {
  readonly digest: string;
  readonly user_code: string;
  readonly client_id: string;
  readonly scope: string;
  readonly issued_at: number;
  readonly expires_at: number;
  readonly poll_interval: number;
  readonly polled_at: number | null;
  readonly status: string;
  readonly subject: string | null;
  readonly subject_type: string | null;
  readonly auth_time: number | null;
  readonly decided_at: number | null;
  readonly family_id: string;
  readonly session_id: string | null;
}

export const toDeviceCode = (r: DeviceCodeRow): DeviceCodeRecord => ({
  digest: r.digest,
  userCode: r.user_code,
  clientId: r.client_id,
  scope: r.scope,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  interval: r.poll_interval,
  polledAt: r.polled_at,
  status: r.status as DeviceCodeStatus,
  subject: r.subject,
  subjectType: r.subject_type as DeviceCodeRecord['subjectType'],
  authTime: r.auth_time,
  decidedAt: r.decided_at,
  familyId: r.family_id,
  sessionId: r.session_id,
});

export const AUDIT_COLUMNS = ['at', 'actor', 'action', 'target', 'detail'] as const;
export const auditValues = (e: AuditEvent): SqlValue[] => [e.at, e.actor, e.action, e.target, JSON.stringify(e.detail)];

export interface AuditRow {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail: string;
}

export const toAudit = (r: AuditRow): AuditEvent => ({
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  detail: JSON.parse(r.detail) as AuditEvent['detail'],
});

/** One entry of the `revocation_feed` table, which database triggers fill as `jti:` records are revoked. */
export interface RevocationRow {
  readonly seq: number;
  readonly jti: string;
  readonly expires_at: number;
}

/** The feed position a cursor names: the last sequence number seen; anything else starts over. */
export const feedPosition = (cursor: string | undefined): number =>
  cursor !== undefined && /^\d{1,15}$/.test(cursor) ? Number(cursor) : 0;

/** A page of the feed read after position `after`; the cursor stays put when nothing is new. */
export const revocationPage = (rows: readonly RevocationRow[], after: number): RevocationPage => ({
  revocations: rows.map((r) => ({ jti: r.jti, expiresAt: r.expires_at })),
  cursor: String(rows.at(-1)?.seq ?? after),
});

/** An audit row with its sequence number, for keyset paging. */
export interface AuditSeqRow extends AuditRow {
  readonly seq: number;
}

export const toAuditEntry = (r: AuditSeqRow): { seq: number; event: AuditEvent } => ({ seq: r.seq, event: toAudit(r) });

export const CONSOLE_USER_COLUMNS = ['name', 'role', 'password_hash', 'created_at', 'updated_at'] as const;
export const consoleUserValues = (u: ConsoleUserRecord): SqlValue[] => [u.name, u.role, u.passwordHash, u.createdAt, u.updatedAt];

export interface ConsoleUserRow {
  readonly name: string;
  readonly role: string;
  readonly password_hash: string;
  readonly created_at: number;
  readonly updated_at: number;
}

export const toConsoleUser = (r: ConsoleUserRow): ConsoleUserRecord => ({
  name: r.name,
  role: r.role as ConsoleRole,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const CONSOLE_SESSION_COLUMNS = ['digest', 'user_name', 'created_at', 'expires_at', 'seen_at', 'ended_at'] as const;
export const consoleSessionValues = (s: ConsoleSessionRecord): SqlValue[] => [s.digest, s.user, s.createdAt, s.expiresAt, s.seenAt, s.endedAt];

export interface ConsoleSessionRow {
  readonly digest: string;
  readonly user_name: string;
  readonly created_at: number;
  readonly expires_at: number;
  readonly seen_at: number;
  readonly ended_at: number | null;
}

export const toConsoleSession = (r: ConsoleSessionRow): ConsoleSessionRecord => ({
  digest: r.digest,
  user: r.user_name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  seenAt: r.seen_at,
  endedAt: r.ended_at,
});

export const CONSOLE_LINK_COLUMNS = ['digest', 'user_name', 'created_at', 'expires_at', 'used_at'] as const;
export const consoleLinkValues = (l: ConsoleLinkRecord): SqlValue[] => [l.digest, l.user, l.createdAt, l.expiresAt, l.usedAt];

export interface ConsoleLinkRow {
  readonly digest: string;
  readonly user_name: string;
  readonly created_at: number;
  readonly expires_at: number;
  readonly used_at: number | null;
}

export const toConsoleLink = (r: ConsoleLinkRow): ConsoleLinkRecord => ({
  digest: r.digest,
  user: r.user_name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export const PUSHED_REQUEST_COLUMNS = ['digest', 'client_id', 'params', 'issued_at', 'arrive_by', 'expires_at', 'consumed_at'] as const;

export const pushedRequestValues = (r: PushedRequestRecord): SqlValue[] => [
  r.digest, r.clientId, JSON.stringify(r.params), r.issuedAt, r.arriveBy, r.expiresAt, r.consumedAt,
];

export interface PushedRequestRow {
  readonly digest: string;
  readonly client_id: string;
  readonly params: string;
  readonly issued_at: number;
  readonly arrive_by: number;
  readonly expires_at: number;
  readonly consumed_at: number | null;
}

export const toPushedRequest = (r: PushedRequestRow): PushedRequestRecord => ({
  digest: r.digest,
  clientId: r.client_id,
  params: JSON.parse(r.params) as Record<string, string>,
  issuedAt: r.issued_at,
  arriveBy: r.arrive_by,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
});

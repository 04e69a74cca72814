/**
 * Logged-in users and organizations registered by the platform.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
export type SubjectType = 'user' | 'organization';

/** A logged-in user (or organization) registered by the platform (POST /admin/v1/sessions). */
export interface SessionRecord {
  /** Public id (`ses_…`): for DELETE and audit; not a secret. */
  readonly id: string;
  /** `pepperKid:hex` digest of the session token (SECURITY S-01). */
  readonly digest: string;
  readonly subject: string;
  readonly subjectType: SubjectType;
  /** Organizations (UUIDs) the user may act for (`web` grant with sub_type=organization). */
  readonly organizations: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly endedAt: number | null;
}

export interface SessionRepo {
  /** Durable when resolved; rejects with ConflictError on a duplicate id or digest. */
  insert(session: SessionRecord): Promise<void>;
  /** The first session matching any candidate digest (ended and expired ones included). */
  find(digests: readonly string[]): Promise<SessionRecord | undefined>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Sets endedAt iff not yet ended; resolves true when this call ended it. */
  end(id: string, at: number): Promise<boolean>;
  /**
   * Records that `clientId` got an ID token in the session (OIDC Back-Channel Logout: told when it
   * ends). ONE atomic conditional write, idempotent: a client is recorded once however many calls
   * race. Nothing for an unknown session. Durable when resolved.
   */
  addClient(id: string, clientId: string): Promise<void>;
  /** The clients recorded for the session, each once, in the order first recorded; empty for an unknown session. */
  clients(id: string): Promise<string[]>;
}

/**
 * Logged-in sessions registered by the platform (Keymint owns no passwords). A session token is
 * opaque, prefixed and checksummed (`km_st_…`), returned once, stored only as a peppered digest.
 */
import { candidateDigests, storedDigest } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { opaqueFormat } from '../tokens/opaque.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { AuditEvent, SessionRecord, Store, SubjectType } from '../storage/types.ts';
import { ClientInputError } from './clients.ts';

export const sessionTokenFormat = opaqueFormat({ kind: 'checksummed', prefix: 'km_st_' });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SUBJECT = /^[A-Za-z0-9._:@-]{1,255}$/;
export const isUuid = (v: string): boolean => UUID.test(v);

/** A subject as sessions hold it (a UUID in lower case), or a `ClientInputError` naming `subject`. */
export function checkedSubject(type: SubjectType, subject: unknown): string {
  if (typeof subject !== 'string' || !SUBJECT.test(subject) || (type === 'organization' && !isUuid(subject))) {
    throw new ClientInputError('subject', 'subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)');
  }
  return isUuid(subject) ? subject.toLowerCase() : subject;
}

export interface CreateSessionInput {
  readonly subject: string;
  readonly subjectType?: SubjectType;
  readonly organizations?: readonly string[];
  /** Seconds; default and maximum `sessionTtl`. */
  readonly ttl?: number;
}

export interface SessionServiceDeps {
  readonly store: Pick<Store, 'sessions' | 'audit' | 'tokens' | 'clients'>;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly settings: { readonly sessionTtl: number };
  readonly now?: () => number;
}

/** Told after a session ended (back-channel logout); runs in the background, and must not reject. */
export type SessionEndedListener = (session: SessionRecord, actor: string) => Promise<void>;

export class SessionService {
  readonly #deps: SessionServiceDeps;
  readonly #now: () => number;
  readonly #ended: SessionEndedListener[] = [];

  constructor(deps: SessionServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async create(input: CreateSessionInput, actor: string): Promise<{ id: string; sessionToken: string; expiresAt: number }> {
    const type = input.subjectType ?? 'user';
    if (type !== 'user' && type !== 'organization') throw new ClientInputError('subject_type', 'subject_type must be user or organization');
    const subject = checkedSubject(type, input.subject);
    // RFC 9700 §4.15.1 (SECURITY BCP-11): a user must not be able to pass for a client. Client ids are
    // generated, so no client can pick a user's subject; this closes the other direction.
    if ((await this.#deps.store.clients.get(input.subject)) !== undefined) {
      throw new ClientInputError('subject', 'subject must not be the id of a client (RFC 9700 §4.15.1)');
    }
    const orgs = input.organizations ?? [];
    if (!orgs.every(isUuid)) throw new ClientInputError('organizations', 'organizations must be UUIDs');
    const max = this.#deps.settings.sessionTtl;
    const ttl = input.ttl ?? max;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > max) throw new ClientInputError('ttl', `ttl must be a whole number of seconds in 1..${max}`);
    const now = this.#now();
    const sessionToken = sessionTokenFormat.mint();
    const record: SessionRecord = {
      id: `ses_${randomBase62(16)}`,
      digest: storedDigest(this.#deps.keyring.pepper(), sessionToken),
      subject,
      subjectType: type,
      organizations: [...new Set(orgs.map((o) => o.toLowerCase()))],
      createdAt: now,
      expiresAt: now + ttl * 1000,
      endedAt: null,
    };
    await this.#deps.store.sessions.insert(record);
    await this.#deps.store.audit.append({ at: now, actor, action: 'session.create', target: record.id, detail: { subject_type: type } });
    return { id: record.id, sessionToken, expiresAt: record.expiresAt };
  }

  /** The live session a token names (not expired, not ended), else undefined. Checksum before lookup. */
  async resolve(token: string): Promise<SessionRecord | undefined> {
    const session = await this.find(token);
    return session && session.endedAt === null && session.expiresAt > this.#now() ? session : undefined;
  }

  async find(token: string): Promise<SessionRecord | undefined> {
    if (!sessionTokenFormat.recognises(token)) return undefined;
    return this.#deps.store.sessions.find(candidateDigests(this.#deps.keyring.peppers(), token));
  }

  /**
   * Ends a session named by its token or its id; resolves false when there is no such live session.
   * `detail` is added to the audit event's (the end-session endpoint says which client asked).
   */
  async end(tokenOrId: string, actor: string, detail: AuditEvent['detail'] = {}): Promise<boolean> {
    const session = tokenOrId.startsWith('ses_') ? await this.#deps.store.sessions.get(tokenOrId) : await this.find(tokenOrId);
    if (!session) return false;
    const now = this.#now();
    const ended = await this.#deps.store.sessions.end(session.id, now);
    if (!ended) return false;
    // SECURITY RT-08: logout revokes the tokens the `web` grant issued from this session (their family).
    const revoked = await this.#deps.store.tokens.revokeFamily(session.id, now);
    await this.#deps.store.audit.append({ at: now, actor, action: 'session.end', target: session.id, detail: { ...detail, tokens_revoked: revoked } });
    // BCL-05: the apps are told in the background; the caller (a browser's logout) does not wait.
    for (const listener of this.#ended) void listener(session, actor);
    return true;
  }

  /** Runs `listener` after every session this service ends, whichever way (end-session endpoint, admin API). */
  onEnded(listener: SessionEndedListener): void {
    this.#ended.push(listener);
  }
}

/**
 * Storage contracts. Every backend (memory, sqlite, postgres) implements these and passes the one
 * contract suite in `test/storage/contract/`. Each method states what is atomic.
 *
 * Records hold digests, never bearer secrets (SECURITY S-01). Backends translate their driver's
 * errors: a duplicate key is `ConflictError`, a database that cannot answer now (locked, down, timed
 * out) is `UnavailableError` from `wire/errors.ts`.
 */

export type ClientMode = 'live' | 'sandbox';
export type ClientType = 'confidential' | 'public';
export type ClientStatus = 'active' | 'disabled';

export interface SecretRecord {
  /** Short public id of this secret (for listing and revocation), not the secret. */
  readonly id: string;
  /** Id of the pepper the digest was made with (SECURITY D-01). */
  readonly pepperKid: string;
  /** Hex HMAC-SHA256(pepper, secret). */
  readonly digest: string;
  readonly createdAt: number;
  /** Epoch ms after which the secret no longer authenticates; null = until rotated out. */
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface ClientRecord {
  readonly id: string;
  readonly name: string;
  readonly mode: ClientMode;
  readonly environment: string;
  readonly type: ClientType;
  readonly status: ClientStatus;
  /** Grant types this client may use. */
  readonly grants: readonly string[];
  /** Scopes this client may be issued. */
  readonly scopes: readonly string[];
  /** Audiences (resource indicators) this client may ask for; empty = the deployment default. */
  readonly audiences: readonly string[];
  /** Dialects this client may use; empty = all. */
  readonly dialects: readonly string[];
  readonly redirectUris: readonly string[];
  readonly trusted: boolean;
  /**
   * Whether the authorization request must carry a PKCE challenge: absent = yes. Only a confidential
   * client may be registered with false (Polar's contract: `client_secret`, no `code_verifier`); a
   * challenge it does send is still verified (SECURITY P-08).
   */
  readonly pkceRequired?: boolean;
  /** Access-token lifetime override in seconds; null = the deployment default. */
  readonly accessTokenTtl: number | null;
  /** Token requests per minute this client may make; absent or null = the deployment default. */
  readonly rateLimit?: number | null;
  /**
   * A client_credentials request matching a still-valid token this node issued to the client (same
   * endpoint, scopes and audience, enough lifetime left) gets that token again; absent = off.
   */
  readonly tokenReuse?: boolean;
  /**
   * How a confidential client authenticates: absent = with a secret (`client_secret_basic` or
   * `client_secret_post`); `private_key_jwt` = with an assertion signed by a key of `jwks` or `jwksUri`
   * (RFC 7523 §2.2), and never with a secret. Public clients authenticate with `none`.
   */
  readonly authMethod?: 'private_key_jwt';
  /** The client's public signing keys, registered inline (RFC 7591 `jwks`). */
  readonly jwks?: ClientJwks;
  /** Where the client publishes its public signing keys (RFC 7591 `jwks_uri`). */
  readonly jwksUri?: string;
  /** Every token request must carry a DPoP proof (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
  readonly dpopBound?: boolean;
  /** Audiences the client may obtain tokens for by token exchange (RFC 8693); absent = none. */
  readonly exchangeAudiences?: readonly string[];
  /** Scopes an exchanged token may carry (never more than the subject token's); absent = none. */
  readonly exchangeScopes?: readonly string[];
  /** A dynamically registered client's RFC 7592 registration access token, as a peppered digest. */
  readonly registrationToken?: { readonly pepperKid: string; readonly digest: string };
  /** Free-form labels for operators (shown by show, list and the admin API); never put in tokens. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Static claims added to every access token the client is issued (never a registered or protocol claim). */
  readonly claims?: Readonly<Record<string, ClaimValue>>;
  /** Which tool manages the client (`apply` for configuration as code); absent = made by hand or registration. */
  readonly managedBy?: string;
  readonly secrets: readonly SecretRecord[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The value of a client's static claim: a string, a number, a boolean, or an array of those. */
export type ClaimValue = string | number | boolean | ReadonlyArray<string | number | boolean>;

/** A JSON Web Key Set of public keys, as registered (validated by credentials/client-keys.ts). */
export interface ClientJwks {
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface ClientRepo {
  /** Inserts; rejects with `ConflictError` if the id exists. */
  insert(client: ClientRecord): Promise<void>;
  get(id: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  /**
   * Atomic read-modify-write: `change` sees the current record and returns the next one, with no
   * other write to this client in between (serialised per client across processes and nodes).
   * Resolves to the stored result, or undefined when the client does not exist. If `change` throws,
   * nothing is written and the error propagates.
   */
  update(id: string, change: (current: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined>;
  /** Resolves true when a client was removed. */
  delete(id: string): Promise<boolean>;
  /** Best-effort bookkeeping: sets one secret's lastUsedAt (see `secretUsed`); never fails a request. */
  touchSecret(clientId: string, secretId: string, at: number): Promise<void>;
}

/** The client with secret `secretId` marked used at `at`: what `touchSecret` writes. */
export const secretUsed = (client: ClientRecord, secretId: string, at: number): ClientRecord => ({
  ...client,
  secrets: client.secrets.map((s) => (s.id === secretId ? { ...s, lastUsedAt: at } : s)),
});

export type KeyUse = 'sig' | 'hmac';
export type KeyState = 'next' | 'active' | 'retired';

export interface KeyRecord {
  readonly kid: string;
  readonly use: KeyUse;
  /** JWS alg for `sig` keys (RS256 | ES256 | EdDSA); `HS256` for peppers. */
  readonly alg: string;
  readonly state: KeyState;
  /** Public JWK (sig keys only), JSON. */
  readonly publicJwk: string | null;
  /** Private part sealed with AES-256-GCM under the key-encryption key. */
  readonly sealed: string;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly retiredAt: number | null;
  /** Epoch ms after which a retired key is removed from the JWKS (every token it signed has expired). */
  readonly publishUntil: number | null;
}

export interface KeyChange {
  readonly put: readonly KeyRecord[];
  readonly remove: readonly string[];
}

export interface KeyRepo {
  list(): Promise<KeyRecord[]>;
  /**
   * Atomic over the whole keyring: `change` sees every key and returns what to upsert and remove;
   * concurrent mutations (two nodes rotating at once) are serialised, so the second sees the first's
   * result. Resolves to the keyring after the change.
   */
  mutate(change: (keys: readonly KeyRecord[]) => KeyChange): Promise<KeyRecord[]>;
  /** A number that changes whenever the keyring changes (cheap cache validation). */
  version(): Promise<number>;
}

export type TokenKind = 'access_token' | 'refresh_token';

/** A stateful token (opaque access token, refresh token) or a revoked JWT id. */
export interface TokenRecord {
  /** `pepperKid:hex` digest of the token (opaque) or `jti:<id>` for a JWT. */
  readonly digest: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  readonly audience: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** Grant family (refresh rotation, code redemption) for revoke-by-family; null if none. */
  readonly familyId: string | null;
  readonly jti: string;
  /** Absent on tokens of public clients acting for no user. */
  readonly meta?: TokenMeta;
}

/** What user-delegated tokens carry beyond the client-credentials record. */
export interface TokenMeta {
  /** `user` | `organization` for user-delegated tokens; absent for client tokens. */
  readonly subjectType?: string;
  /** Epoch seconds the user authenticated (OIDC `auth_time`). */
  readonly authTime?: number;
  /** Epoch ms: absolute end of a refresh-token family (RT-07); rotation never extends it. */
  readonly familyExpiresAt?: number;
  /** Scope originally granted to the family (RT-03: a rotated refresh token keeps it). */
  readonly grantedScope?: string;
  /**
   * Id of the client secret (`sec_…`) presented when the token was minted; absent for public clients.
   * A token's admin authority ends with that secret (ADM-01).
   */
  readonly credentialId?: string;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6: `cnf.jkt`). */
  readonly jkt?: string;
  /** The delegation chain of an exchanged token (RFC 8693 §4.1 `act`). */
  readonly act?: TokenActor;
  /** The client's static claims when an opaque access token was minted (introspection shows them). */
  readonly claims?: Readonly<Record<string, ClaimValue>>;
}

/** An RFC 8693 §4.1 actor: who acts (`sub`, and `iss` when another issuer named it), and the actors before it. */
export interface TokenActor {
  readonly sub: string;
  readonly iss?: string;
  readonly act?: TokenActor;
}

/**
 * Writes into a grant family and its revocation are serialised per family (SQLite: `BEGIN
 * IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock on the family id), and a revoked family
 * keeps a mark that every later write into it checks. So whatever order racing requests land in, a
 * token of the family is written either before the revocation, which then revokes it, or not at all
 * (SECURITY RACE-03).
 */
export interface TokenRepo {
  /**
   * Durable when the promise resolves (a 200 is only sent after it). Rejects with `ConflictError` on
   * a duplicate digest, and with `RevokedFamilyError` (nothing written) when the token's family is
   * revoked.
   */
  insert(token: TokenRecord): Promise<void>;
  /** The first record matching any of the candidate digests (one per live pepper, SECURITY D-01). */
  find(digests: readonly string[]): Promise<TokenRecord | undefined>;
  /** Marks revoked if not already; resolves true if this call revoked it. */
  revoke(digest: string, at: number): Promise<boolean>;
  /**
   * Marks the family revoked (the mark is kept `REVOKED_FAMILY_RETENTION_MS`) and revokes every
   * token of it, in one transaction; resolves how many tokens were newly revoked.
   */
  revokeFamily(familyId: string, at: number): Promise<number>;
  /**
   * Refresh rotation, ONE atomic write: marks `digest` revoked iff it is not already revoked AND
   * inserts `successors`, or does neither (a process killed half-way leaves the one or the other).
   * Resolves true when this call won (SECURITY RT-05); false when the token was already consumed or
   * revoked, or the successors' family is revoked (nothing written). SQL backends: `UPDATE … WHERE revoked_at IS NULL` changing one row,
   * and the inserts, in one transaction. `sealed` (the refresh grace window, RACE-04) is stored in that
   * same write, keyed by `digest`: a request that loses the rotation finds it as soon as it loses.
   */
  rotate(digest: string, at: number, successors: readonly TokenRecord[], sealed?: SealedSuccessor): Promise<boolean>;
  /**
   * The sealed successor a winning `rotate` of `digest` stored, while its window is open at `at`
   * (`expiresAt > at`); undefined otherwise (RACE-04).
   */
  successor(digest: string, at: number): Promise<SealedSuccessor | undefined>;
  /** Removes the sealed successor of `digest` (its window has ended). */
  forgetSuccessor(digest: string): Promise<void>;
  /** Revokes every live token of the client (security events, RT-08); resolves how many. */
  revokeClient(clientId: string, at: number): Promise<number>;
  /**
   * Revoked JWT ids (`jti:<id>` records whose revokedAt is set), in the order they were revoked,
   * strictly after `cursor` (undefined = from the start), at most `limit`. The returned cursor is
   * opaque and stable: pass it back to continue; it equals the input when nothing is new.
   */
  revocations(cursor: string | undefined, limit: number): Promise<RevocationPage>;
}

/**
 * A consumed refresh token's successor, kept for the refresh grace window only (RACE-04): the token
 * itself sealed with AES-256-GCM under a key derived from the KEK, never in clear.
 */
export interface SealedSuccessor {
  /** Digest of the successor refresh token (not a secret). */
  readonly digest: string;
  /** The successor token, sealed; the seal binds the consumed token's digest, `digest` and `expiresAt`. */
  readonly sealed: string;
  /** Epoch ms the window closes. */
  readonly expiresAt: number;
}

export interface RevocationPage {
  readonly revocations: ReadonlyArray<{ readonly jti: string; /** epoch ms */ readonly expiresAt: number }>;
  readonly cursor: string;
}

/** `jti:<id>` is how a JWT access token is recorded in the tokens table (family membership, revocation). */
export const jtiDigest = (jti: string): string => `jti:${jti}`;

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
}

/** An authorization code (RFC 6749 §4.1.2), stored by digest only. */
export interface CodeRecord {
  readonly digest: string;
  readonly clientId: string;
  /** The redirect_uri of the authorization request (C-04); null if none was sent. */
  readonly redirectUri: string | null;
  readonly scope: string;
  /** RFC 7636 S256 challenge; null when none (never, for codes this server issues). */
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: string | null;
  readonly nonce: string | null;
  readonly subject: string;
  readonly subjectType: SubjectType;
  /** Epoch seconds of the user's authentication. */
  readonly authTime: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
  /** Family of every token issued from this code (C-02: reuse revokes the family). */
  readonly familyId: string;
  /** The resource the authorization request named (RFC 8707); null when it named none. */
  readonly resource: string | null;
}

export interface CodeRepo {
  /** Durable when resolved; rejects with `ConflictError` on a duplicate digest. */
  insert(code: CodeRecord): Promise<void>;
  /** The first code matching any candidate digest (consumed and expired ones included). */
  find(digests: readonly string[]): Promise<CodeRecord | undefined>;
  /**
   * ONE atomic conditional write: sets consumedAt iff it is null. Resolves true for exactly one
   * caller however many race (SECURITY C-06); false when already consumed or unknown.
   */
  consume(digest: string, at: number): Promise<boolean>;
  /**
   * Redemption, ONE atomic write: sets consumedAt iff it is null AND inserts `tokens` (those issued
   * from the code, of its family), or does neither. Resolves true for exactly one caller however
   * many race (C-06); false when the code is already consumed or unknown, or its family is revoked.
   * Since the winner's tokens are written in the transaction that consumes the code, a loser that
   * finds it consumed can revoke them all (C-02, RACE-01).
   */
  redeem(digest: string, at: number, tokens: readonly TokenRecord[]): Promise<boolean>;
}

/**
 * One-time use of a DPoP proof or a client assertion (`jti`: RFC 9449 §11.1, RFC 7523 §3 item 7),
 * shared by every node and process on the store. Keys are fixed-length hashes, never the proof.
 */
export interface ReplayRepo {
  /**
   * ONE atomic insert-unless-present: records `key` until `expiresAt` (epoch ms) and resolves true
   * for the first claimer; false for every later one while the record is live at `at`. An expired
   * record counts as absent. Of N concurrent claims exactly one is true. SQL: `INSERT … ON CONFLICT
   * DO UPDATE … WHERE expires_at <= at`, one changed row says this caller won.
   */
  claim(key: string, expiresAt: number, at: number): Promise<boolean>;
}

/**
 * Every table whose rows end: each row has an expiry (`expires_at`), after which nothing reads it but
 * reuse detection, which a grace period covers (GROW-01). `revocation_feed` entries expire with the
 * JWT they name; `revoked_families` marks after `REVOKED_FAMILY_RETENTION_MS`; `refresh_successors`
 * when their grace window closes, and those are purged with no grace at all. Console sessions go after
 * their absolute end and one-time sign-in links after their expiry, used or not.
 */
export const PURGE_TABLES = ['tokens', 'codes', 'sessions', 'revocation_feed', 'replays', 'revoked_families', 'refresh_successors', 'console_sessions', 'console_links'] as const;
export type PurgeTable = (typeof PURGE_TABLES)[number];

/** Deletes at most `limit` rows of `table` that expired before `before` (epoch ms), in one short transaction; resolves how many. */
export type PurgeBatch = (table: PurgeTable, before: number, limit: number) => Promise<number>;

export interface PurgeRepo {
  /**
   * Runs `pass` as the store's one purger, resolving what it resolves, or `undefined` without running
   * it when another purger holds the store. PostgreSQL: a session advisory lock
   * (`pg_try_advisory_lock`, per schema) on one connection, every batch run on that connection, so
   * one node purges at a time and a node that dies releases the lock with its connection. SQLite:
   * one pass per process; each batch is its own `BEGIN IMMEDIATE`, so the batches of processes sharing
   * the file run one at a time under the write lock, each holding it briefly. Memory: one per process.
   */
  exclusive<T>(pass: (batch: PurgeBatch) => Promise<T>): Promise<T | undefined>;
  /**
   * The most rows one batch of this store deletes, whatever `purgeBatchSize` asks, or undefined for
   * no cap. SQLite runs a batch synchronously on the event loop under the file's write lock, so its
   * batches are kept small enough that issuance (which needs both) waits briefly behind one.
   */
  readonly maxBatch?: number;
}

export interface AuditEvent {
  readonly at: number;
  /** Who: `cli`, `admin:<client id>`, `system`. */
  readonly actor: string;
  /** What: `client.create`, `client.rotate_secret`, `key.rotate`, … */
  readonly action: string;
  /** The object acted on (client id, kid); never a secret. */
  readonly target: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditRepo {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(limit: number): Promise<AuditEvent[]>;
  /**
   * Newest first, filtered (every given filter must match exactly), keyset-paged: at most `limit`
   * events strictly older than the `before` cursor of a previous page. `next` is the cursor of the
   * following page, undefined on the last one. Cursors are opaque; a malformed one starts from the
   * newest. Stable under concurrent appends (new events never shift a page).
   */
  query(filter: AuditFilter, limit: number, before?: string): Promise<AuditPage>;
}

export interface AuditFilter {
  /** The object acted on (a client id, a kid, a console user). */
  readonly target?: string;
  readonly actor?: string;
  /** Exact, or ending with `.` a prefix (`client.` for every client action). */
  readonly action?: string;
}

/** True when `event` passes every filter given (the rule every backend implements in its own way). */
export const auditMatches = (e: AuditEvent, f: AuditFilter): boolean =>
  (f.target === undefined || e.target === f.target) &&
  (f.actor === undefined || e.actor === f.actor) &&
  (f.action === undefined || (f.action.endsWith('.') ? e.action.startsWith(f.action) : e.action === f.action));

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly next: string | undefined;
}

/** The keyset position of an audit cursor: a sequence number, or undefined (from the newest). */
export const auditPosition = (cursor: string | undefined): number | undefined =>
  cursor !== undefined && /^[1-9]\d{0,14}$/.test(cursor) ? Number(cursor) : undefined;

/** The page of `limit` events from rows fetched newest first, one more than `limit` when a next page exists. */
export function auditPage(rows: ReadonlyArray<{ readonly seq: number; readonly event: AuditEvent }>, limit: number): AuditPage {
  const page = rows.slice(0, limit);
  return { events: page.map((r) => r.event), next: rows.length > limit ? String(page.at(-1)!.seq) : undefined };
}

export type ConsoleRole = 'admin' | 'viewer';

/** A person who may sign in to the console (created with `keymint console users add`). */
export interface ConsoleUserRecord {
  /** Unique, the sign-in name. */
  readonly name: string;
  readonly role: ConsoleRole;
  /** `scrypt$N$r$p$salt$hash` (base64url parts): the parameters travel with the hash. */
  readonly passwordHash: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ConsoleUserRepo {
  /** Rejects with `ConflictError` when the name exists. */
  insert(user: ConsoleUserRecord): Promise<void>;
  get(name: string): Promise<ConsoleUserRecord | undefined>;
  /** Ordered by name. */
  list(): Promise<ConsoleUserRecord[]>;
  /** Replaces the user's password hash; true when the user exists. */
  setPassword(name: string, passwordHash: string, at: number): Promise<boolean>;
  /** Removes the user and, in the same transaction, every session and link of theirs; true when removed. */
  delete(name: string): Promise<boolean>;
}

/** A signed-in console session, stored by the digest of its cookie value (never the value). */
export interface ConsoleSessionRecord {
  /** Hex SHA-256 of the cookie value. */
  readonly digest: string;
  readonly user: string;
  readonly createdAt: number;
  /** Absolute end, epoch ms. */
  readonly expiresAt: number;
  /** Last request seen (written at most once a minute); idle expiry counts from here. */
  readonly seenAt: number;
  readonly endedAt: number | null;
}

export interface ConsoleSessionRepo {
  /** Rejects with `ConflictError` on a duplicate digest. */
  insert(session: ConsoleSessionRecord): Promise<void>;
  find(digest: string): Promise<ConsoleSessionRecord | undefined>;
  /** Sets seenAt (bookkeeping; never fails the request it serves). */
  touch(digest: string, at: number): Promise<void>;
  /** Sets endedAt iff not yet ended; true when this call ended it. */
  end(digest: string, at: number): Promise<boolean>;
  /** Removes sessions whose absolute end is before `before`; resolves how many. */
  purgeExpired(before: number): Promise<number>;
}

/** A one-time sign-in link (`keymint console link`), stored by the digest of its token. */
export interface ConsoleLinkRecord {
  /** Hex SHA-256 of the link's token. */
  readonly digest: string;
  readonly user: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export interface ConsoleLinkRepo {
  /** Rejects with `ConflictError` on a duplicate digest. */
  insert(link: ConsoleLinkRecord): Promise<void>;
  /**
   * ONE atomic conditional write: sets usedAt iff it is null and the link has not expired at `at`.
   * Resolves the link for exactly one caller however many race; undefined for every other, and for
   * an unknown, used or expired link.
   */
  consume(digest: string, at: number): Promise<ConsoleLinkRecord | undefined>;
  /** Removes links that expired before `before`; resolves how many. */
  purgeExpired(before: number): Promise<number>;
}

export interface Store {
  readonly kind: string;
  /**
   * Optional, synchronous and cheap: a value that changes whenever another connection (the CLI,
   * another node) has committed since the last call (SQLite's `data_version`). Caches use it to stay
   * exact without a feed; stores without it rely on the feed and the cache lifetime.
   */
  readonly changeMarker?: () => number;
  readonly clients: ClientRepo;
  readonly keys: KeyRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditRepo;
  /** Logged-in sessions (web grant, authorization endpoint). */
  readonly sessions: SessionRepo;
  readonly codes: CodeRepo;
  /** One-time `jti`s of proofs and assertions. */
  readonly replays: ReplayRepo;
  /** Console users, their sessions and one-time sign-in links. */
  readonly consoleUsers: ConsoleUserRepo;
  readonly consoleSessions: ConsoleSessionRepo;
  readonly consoleLinks: ConsoleLinkRepo;
  /** Removal of expired rows of every repository (GROW-01). */
  readonly purge: PurgeRepo;
  close(): Promise<void>;
}

/**
 * How long a revoked family's mark is kept: far longer than any request still writing into the
 * family can take (a request times out in seconds), after which nothing can write into it anyway
 * (its refresh tokens are revoked, its code spent, its session ended).
 */
export const REVOKED_FAMILY_RETENTION_MS = 86_400_000;

/** A token was refused because its grant family is revoked (SECURITY RACE-03). */
export class RevokedFamilyError extends Error {
  constructor(familyId: string) {
    super(`family ${familyId} is revoked`);
    this.name = 'RevokedFamilyError';
  }
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

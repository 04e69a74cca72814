/**
 * Storage contracts. Every backend (memory, sqlite, postgres) implements these and passes the one
 * contract suite in `test/storage/contract/`. Each method states what is atomic.
 *
 * Records hold digests, never bearer secrets (SECURITY S-01). Backends translate their driver's
 * errors: a duplicate key is `ConflictError`, a database that cannot answer now (locked, down, timed
 * out) is `UnavailableError` from `wire/errors.ts`.
 */

import type { AuditRepo } from './contract/audit.ts';
import type { ClientRepo } from './contract/clients.ts';
import type { CodeRepo } from './contract/codes.ts';
import type { DeviceCodeRepo } from './contract/device-codes.ts';
import type { ConsentRepo } from './contract/consents.ts';
import type { ConsoleLinkRepo, ConsoleSessionRepo, ConsoleUserRepo } from './contract/console.ts';
import type { KeyRepo } from './contract/keys.ts';
import type { PushedRequestRepo } from './contract/pushed-requests.ts';
import type { ReplayRepo } from './contract/replays.ts';
import type { SessionRepo } from './contract/sessions.ts';
import type { TokenRepo } from './contract/tokens.ts';

export * from './contract/clients.ts';
export * from './contract/keys.ts';
export * from './contract/tokens.ts';
export * from './contract/sessions.ts';
export * from './contract/codes.ts';
export * from './contract/device-codes.ts';
export * from './contract/consents.ts';
export * from './contract/replays.ts';
export * from './contract/pushed-requests.ts';
export * from './contract/audit.ts';
export * from './contract/console.ts';

/**
 * Every table whose rows end: each row has an expiry (`expires_at`), after which nothing reads it but
 * reuse detection, which a grace period covers (GROW-01). `revocation_feed` entries expire with the
 * JWT they name; `revoked_families` marks after `REVOKED_FAMILY_RETENTION_MS`; `refresh_successors`
 * when their grace window closes, and those are purged with no grace at all. Console sessions go after
 * their absolute end and one-time sign-in links after their expiry, used or not; pushed authorization
 * requests after their consent window, used or not.
 */
export const PURGE_TABLES = ['tokens', 'codes', 'device_codes', 'sessions', 'revocation_feed', 'replays', 'revoked_families', 'refresh_successors', 'console_sessions', 'console_links', 'pushed_requests'] as const;
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
   * no cap. SQLite runs a batch under the file's write lock (and, outside a serving process's upkeep
   * worker, synchronously on the event loop), so its batches are kept small enough that issuance
   * (which needs the lock) waits briefly behind one.
   */
  readonly maxBatch?: number;
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
  /** Device authorization requests (RFC 8628). */
  readonly deviceCodes: DeviceCodeRepo;
  /** What users approved clients for on the consent page (remembered consent). */
  readonly consents: ConsentRepo;
  /** Pushed authorization requests (RFC 9126), each used once. */
  readonly pushedRequests: PushedRequestRepo;
  /** One-time `jti`s of proofs and assertions. */
  readonly replays: ReplayRepo;
  /** Console users, their sessions and one-time sign-in links. */
  readonly consoleUsers: ConsoleUserRepo;
  readonly consoleSessions: ConsoleSessionRepo;
  readonly consoleLinks: ConsoleLinkRepo;
  /** Removal of expired rows of every repository (GROW-01). */
  readonly purge: PurgeRepo;
  /**
   * Optional: work a serving process runs beside the store until `stop` (SQLite: WAL checkpoints
   * off the event loop). Short-lived processes (the CLI) do without it.
   */
  readonly serve?: (hooks?: ServeHooks) => { stop(): Promise<void> };
  /**
   * Optional: why the store refuses every write until the process restarts (SQLite, once an fsync of
   * its log failed); undefined while it writes. /readyz answers 503 while it says why.
   */
  readonly failure?: () => string | undefined;
  close(): Promise<void>;
}

/** What a serving process hears of its store's upkeep and durability. */
export interface ServeHooks {
  /**
   * Once, when the upkeep fails and the serving connection takes its work back (the store still
   * works, on the event loop): why, one line, no secrets.
   */
  onFailure?(cause: string): void;
  /**
   * Once, when making commits durable fails (SQLite: the fsync of its log): why, one line, no
   * secrets. The writes waiting on it fail with `UnavailableError` (503), and so does every later
   * write until the process restarts (`Store.failure`).
   */
  onSyncFailure?(cause: string): void;
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

/**
 * Console users, their sessions and one-time sign-in links.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
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

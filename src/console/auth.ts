/**
 * Console sign-in and sessions (SECURITY CO-01..03):
 * - passwords checked with scrypt, an unknown user against a dummy hash of the same cost, and the
 *   same answer for an unknown user as for a wrong password;
 * - failures counted per user name and per address in the shared limiter backend; past a threshold
 *   the name (or the address) is locked for a growing interval, a correct password included;
 * - a session is a fresh random cookie value at every sign-in (never one the browser brought), stored
 *   as its SHA-256 digest, with an absolute and an idle end;
 * - CSRF tokens are HMACs of the session under a key derived from the KEK: nothing to store, the
 *   same on every node, useless for another session. Before sign-in the form is bound the same way
 *   to a random pre-session cookie (no login CSRF).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LockoutRule } from '../limits/types.ts';
import type { ConsoleRole, ConsoleSessionRecord, Store } from '../storage/types.ts';
import { randomBase62 } from '../tokens/random.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { bearerDigest, USER_NAME } from './users.ts';

/** Failures of one user name before it locks; the lock doubles from 30 s up to 15 min. */
export const USER_LOCKOUT: LockoutRule = { threshold: 5, baseMs: 30_000, maxMs: 900_000, windowMs: 900_000 };
/** Failures from one address (any names) before it locks. */
export const ADDRESS_LOCKOUT: LockoutRule = { threshold: 20, baseMs: 30_000, maxMs: 900_000, windowMs: 900_000 };

/** Session rows are touched at most this often (idle expiry has this resolution). */
const TOUCH_EVERY_MS = 60_000;

export interface Lockouts {
  subjectLockedFor(subject: string): Promise<number>;
  subjectFailed(subject: string, rule: LockoutRule): Promise<number>;
}

export interface ConsoleAuthDeps {
  readonly store: Pick<Store, 'consoleUsers' | 'consoleSessions' | 'consoleLinks' | 'audit'>;
  readonly lockouts: Lockouts;
  /** 32 bytes derived from the KEK for the console (CSRF tokens). */
  readonly key: Buffer;
  readonly settings: { readonly consoleSessionTtl: number; readonly consoleIdleTtl: number };
  readonly now?: () => number;
}

export interface SignedInUser {
  readonly name: string;
  readonly role: ConsoleRole;
}

export interface Session {
  readonly user: SignedInUser;
  /** The stored digest: what CSRF tokens are bound to. */
  readonly digest: string;
}

export type SignInResult =
  | { readonly ok: true; readonly cookie: string; readonly session: Session }
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'locked'; readonly retryAfter: number };

/** The audit actor of a console user. */
export const actorOf = (user: SignedInUser | string): string => `console:${typeof user === 'string' ? user : user.name}`;

export class ConsoleAuth {
  readonly #deps: ConsoleAuthDeps;
  readonly #now: () => number;

  constructor(deps: ConsoleAuthDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * A password sign-in from `ip`. Refused while the name or the address is locked (without checking
   * the password); a failure counts against both. `previous`, the session cookie the browser
   * brought, is ended: a sign-in always starts a new session.
   */
  async signIn(name: string, password: string, ip: string, previous?: string): Promise<SignInResult> {
    const { lockouts, store } = this.#deps;
    const userKey = `console-user:${name.toLowerCase()}`;
    const addressKey = `console-address:${ip}`;
    const locked = Math.max(await lockouts.subjectLockedFor(userKey), await lockouts.subjectLockedFor(addressKey));
    if (locked > 0) {
      await this.#audit(actorOf(safeName(name)), 'console.sign_in_locked', safeName(name), {});
      return { ok: false, reason: 'locked', retryAfter: Math.ceil(locked / 1000) };
    }
    const user = USER_NAME.test(name) ? await store.consoleUsers.get(name) : undefined;
    const ok = await verifyPassword(password, user?.passwordHash);
    if (!ok || !user) {
      await Promise.all([lockouts.subjectFailed(userKey, USER_LOCKOUT), lockouts.subjectFailed(addressKey, ADDRESS_LOCKOUT)]);
      await this.#audit(actorOf(safeName(name)), 'console.sign_in_failed', safeName(name), {});
      return { ok: false, reason: 'invalid' };
    }
    if (previous !== undefined) await this.signOut(previous, false);
    const started = await this.#start(user.name, user.role);
    await this.#audit(actorOf(user.name), 'console.sign_in', user.name, { method: 'password' });
    return { ok: true, ...started };
  }

  /**
   * Redeems a one-time link (consumed atomically: one browser wins) and sets the password its user
   * chose (already checked by the caller); undefined when the link is unknown, used or expired.
   */
  async redeemLink(token: string, password: string, previous?: string): Promise<{ cookie: string; session: Session } | undefined> {
    if (!/^kml_[A-Za-z0-9]{43}$/.test(token)) return undefined;
    const hash = await hashPassword(password);
    const link = await this.#deps.store.consoleLinks.consume(bearerDigest(token), this.#now());
    if (!link) return undefined;
    const user = await this.#deps.store.consoleUsers.get(link.user);
    if (!user || !(await this.#deps.store.consoleUsers.setPassword(user.name, hash, this.#now()))) return undefined;
    await this.#audit(actorOf(user.name), 'console.password_set', user.name, { method: 'link' });
    if (previous !== undefined) await this.signOut(previous, false);
    const started = await this.#start(user.name, user.role);
    await this.#audit(actorOf(user.name), 'console.sign_in', user.name, { method: 'link' });
    return started;
  }

  /**
   * The live session a cookie value names: not ended, before its absolute and idle ends, and its
   * user still there (with the user's current role). Touches the session at most once a minute.
   */
  async resolve(cookie: string | undefined): Promise<Session | undefined> {
    if (cookie === undefined || !/^kmc_[A-Za-z0-9]{43}$/.test(cookie)) return undefined;
    const { store, settings } = this.#deps;
    const digest = bearerDigest(cookie);
    const s = await store.consoleSessions.find(digest);
    const now = this.#now();
    if (!s || !live(s, now, settings.consoleIdleTtl * 1000)) return undefined;
    const user = await store.consoleUsers.get(s.user);
    if (!user) return undefined;
    if (now - s.seenAt >= TOUCH_EVERY_MS) await store.consoleSessions.touch(digest, now).catch(() => {});
    return { user: { name: user.name, role: user.role }, digest };
  }

  /** Ends the session a cookie value names (sign-out); audited unless it is a sign-in replacing it. */
  async signOut(cookie: string, audit = true): Promise<void> {
    if (!/^kmc_[A-Za-z0-9]{43}$/.test(cookie)) return;
    const digest = bearerDigest(cookie);
    const s = await this.#deps.store.consoleSessions.find(digest);
    if (!s || !(await this.#deps.store.consoleSessions.end(digest, this.#now()))) return;
    if (audit) await this.#audit(actorOf(s.user), 'console.sign_out', s.user, {});
  }

  /** The CSRF token of a signed-in session. */
  csrfToken(session: Session): string {
    return this.#mac(`session\0${session.digest}`);
  }

  /** The CSRF token of the sign-in forms, bound to the pre-session cookie. */
  preToken(preCookie: string): string {
    return this.#mac(`pre\0${preCookie}`);
  }

  /** Constant-time check of a presented CSRF token against the expected one. */
  static tokensEqual(expected: string, presented: string | null | undefined): boolean {
    if (typeof presented !== 'string') return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async #start(name: string, role: ConsoleRole): Promise<{ cookie: string; session: Session }> {
    const cookie = `kmc_${randomBase62(43)}`;
    const now = this.#now();
    const digest = bearerDigest(cookie);
    await this.#deps.store.consoleSessions.insert({ digest, user: name, createdAt: now, expiresAt: now + this.#deps.settings.consoleSessionTtl * 1000, seenAt: now, endedAt: null });
    // Sessions past their absolute end are of no use: dropped as new ones start.
    this.#deps.store.consoleSessions.purgeExpired(now).catch(() => {});
    return { cookie, session: { user: { name, role }, digest } };
  }

  #mac(value: string): string {
    return createHmac('sha256', this.#deps.key).update(`keymint-console-csrf\0${value}`).digest('base64url');
  }

  async #audit(actor: string, action: string, target: string, detail: Record<string, string | number | boolean | null>): Promise<void> {
    await this.#deps.store.audit.append({ at: this.#now(), actor, action, target, detail });
  }
}

const live = (s: ConsoleSessionRecord, now: number, idleMs: number): boolean => s.endedAt === null && now < s.expiresAt && now - s.seenAt < idleMs;

/** A typed name as the audit shows it: valid names as they are, anything else replaced (no input kept). */
const safeName = (name: string): string => (USER_NAME.test(name) ? name : '(invalid name)');

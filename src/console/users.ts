/**
 * Console users and one-time sign-in links: what `keymint console users …` and `keymint console
 * link` call. Passwords are hashed with scrypt (password.ts); a link's token is returned once and
 * stored only as its SHA-256 digest. Every change is audited under the actor's name.
 */
import { createHash } from 'node:crypto';
import { ConflictError, type ConsoleRole, type ConsoleUserRecord, type Store } from '../storage/types.ts';
import { randomBase62 } from '../tokens/random.ts';
import { hashPassword, passwordProblem } from './password.ts';

/** A user name: 1–64 of letters, digits and `._@-`, starting with a letter or digit. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const ROLES: readonly ConsoleRole[] = ['admin', 'viewer'];

/** Default and longest lifetime of a sign-in link, seconds. */
export const LINK_TTL = 900;
export const LINK_TTL_MAX = 3600;

/** The first user `console link` makes when there is none. */
export const FIRST_ADMIN = 'admin';

/** An operator's mistake: the message names the field and the fix, never a password. */
export class ConsoleUserError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ConsoleUserError';
    this.field = field;
  }
}

export class ConsoleUserNotFoundError extends Error {
  constructor(name: string) {
    super(`no console user ${JSON.stringify(name)}`);
    this.name = 'ConsoleUserNotFoundError';
  }
}

export interface ConsoleUserView {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly created_at: string;
}

export interface ConsoleLink {
  readonly user: string;
  /** The bearer token of the link, shown once. */
  readonly token: string;
  readonly expiresAt: number;
  /** True when this call created the first admin. */
  readonly created: boolean;
}

export interface ConsoleUsersDeps {
  readonly store: Pick<Store, 'consoleUsers' | 'consoleLinks' | 'audit'>;
  readonly now?: () => number;
}

/** SHA-256 hex of a console bearer value (session cookie, link token): what the store keeps. */
export const bearerDigest = (value: string): string => createHash('sha256').update(value).digest('hex');

const view = (u: ConsoleUserRecord): ConsoleUserView => ({ name: u.name, role: u.role, created_at: new Date(u.createdAt).toISOString() });

export class ConsoleUsers {
  readonly #deps: ConsoleUsersDeps;
  readonly #now: () => number;

  constructor(deps: ConsoleUsersDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Adds a user. With `password` undefined one is generated (24 base62 characters, 142 bits) and
   * returned once. Everything is checked before anything is written.
   */
  async add(name: string, role: string, password: string | undefined, actor: string): Promise<{ user: ConsoleUserView; generatedPassword: string | undefined }> {
    if (!USER_NAME.test(name)) throw new ConsoleUserError('name', 'a user name is 1–64 of letters, digits and ._@- starting with a letter or digit');
    if (!ROLES.includes(role as ConsoleRole)) throw new ConsoleUserError('role', 'the role is admin or viewer');
    if (password !== undefined) {
      const problem = passwordProblem(password);
      if (problem) throw new ConsoleUserError('password', problem);
    }
    if (await this.#deps.store.consoleUsers.get(name)) throw new ConsoleUserError('name', `the console user ${name} exists: remove it first or pick another name`);
    const generated = password === undefined ? randomBase62(24) : undefined;
    const now = this.#now();
    const record: ConsoleUserRecord = { name, role: role as ConsoleRole, passwordHash: await hashPassword(password ?? generated!), createdAt: now, updatedAt: now };
    try {
      await this.#deps.store.consoleUsers.insert(record);
    } catch (err) {
      if (err instanceof ConflictError) throw new ConsoleUserError('name', `the console user ${name} exists: remove it first or pick another name`);
      throw err;
    }
    await this.#audit(actor, 'console.user_add', name, { role });
    return { user: view(record), generatedPassword: generated };
  }

  async list(): Promise<ConsoleUserView[]> {
    return (await this.#deps.store.consoleUsers.list()).map(view);
  }

  /** Removes the user, their sessions (signed out at once) and their unused links. */
  async remove(name: string, actor: string): Promise<void> {
    if (!(await this.#deps.store.consoleUsers.delete(name))) throw new ConsoleUserNotFoundError(name);
    await this.#audit(actor, 'console.user_remove', name, {});
  }

  /**
   * A one-time sign-in link for `name`. Without a name: the only admin; with no users at all, a
   * first admin named `admin` is created (with a random password nobody is shown: it signs in by
   * links until an operator adds users with passwords).
   */
  async link(name: string | undefined, ttlSeconds: number, actor: string): Promise<ConsoleLink> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > LINK_TTL_MAX) {
      throw new ConsoleUserError('ttl', `a link lives 60..${LINK_TTL_MAX} seconds`);
    }
    let created = false;
    let user: string;
    if (name !== undefined) {
      if (!USER_NAME.test(name) || !(await this.#deps.store.consoleUsers.get(name))) throw new ConsoleUserNotFoundError(name);
      user = name;
    } else {
      const users = await this.#deps.store.consoleUsers.list();
      const admins = users.filter((u) => u.role === 'admin');
      if (users.length === 0) {
        await this.add(FIRST_ADMIN, 'admin', undefined, actor);
        created = true;
        user = FIRST_ADMIN;
      } else if (admins.length === 1) user = admins[0]!.name;
      else throw new ConsoleUserError('user', 'there are several console users: name one with --user NAME');
    }
    const token = `kml_${randomBase62(43)}`;
    const now = this.#now();
    const expiresAt = now + ttlSeconds * 1000;
    await this.#deps.store.consoleLinks.insert({ digest: bearerDigest(token), user, createdAt: now, expiresAt, usedAt: null });
    await this.#audit(actor, 'console.link_create', user, { ttl_seconds: ttlSeconds });
    return { user, token, expiresAt, created };
  }

  async #audit(actor: string, action: string, target: string, detail: Record<string, string | number | boolean | null>): Promise<void> {
    await this.#deps.store.audit.append({ at: this.#now(), actor, action, target, detail });
  }
}

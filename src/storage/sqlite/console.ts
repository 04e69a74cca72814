/** Console users, their sessions and one-time sign-in links. */
import {
  CONSOLE_LINK_COLUMNS,
  CONSOLE_SESSION_COLUMNS,
  CONSOLE_USER_COLUMNS,
  consoleLinkValues,
  consoleSessionValues,
  consoleUserValues,
  toConsoleLink,
  toConsoleSession,
  toConsoleUser,
  type ConsoleLinkRow,
  type ConsoleSessionRow,
  type ConsoleUserRow,
} from '../sql/rows.ts';
import type { ConsoleLinkRepo, ConsoleSessionRepo, ConsoleUserRepo } from '../types.ts';
import { insertSql, type Db } from './db.ts';

export function sqliteConsoleUsers(db: Db): ConsoleUserRepo {
  const insert = db.prepare(insertSql('console_users', CONSOLE_USER_COLUMNS));
  const get = db.prepare<ConsoleUserRow>('SELECT * FROM console_users WHERE name = ?');
  const list = db.prepare<ConsoleUserRow>('SELECT * FROM console_users ORDER BY name');
  const setPassword = db.prepare('UPDATE console_users SET password_hash = ?, updated_at = ? WHERE name = ?');
  const remove = db.prepare('DELETE FROM console_users WHERE name = ?');
  const removeSessions = db.prepare('DELETE FROM console_sessions WHERE user_name = ?');
  const removeLinks = db.prepare('DELETE FROM console_links WHERE user_name = ?');
  return {
    async insert(u) {
      await db.immediate(() => insert.run(...consoleUserValues(u)));
    },
    async get(name) {
      const row = get.get(name);
      return row && toConsoleUser(row);
    },
    async list() {
      return list.all().map(toConsoleUser);
    },
    async setPassword(name, hash, at) {
      return db.immediate(() => setPassword.run(hash, at, name) === 1);
    },
    async delete(name) {
      return db.immediate(() => {
        removeSessions.run(name);
        removeLinks.run(name);
        return remove.run(name) === 1;
      });
    },
  };
}

export function sqliteConsoleSessions(db: Db): ConsoleSessionRepo {
  const insert = db.prepare(insertSql('console_sessions', CONSOLE_SESSION_COLUMNS));
  const find = db.prepare<ConsoleSessionRow>('SELECT * FROM console_sessions WHERE digest = ?');
  const touch = db.prepare('UPDATE console_sessions SET seen_at = ? WHERE digest = ?');
  const end = db.prepare('UPDATE console_sessions SET ended_at = ? WHERE digest = ? AND ended_at IS NULL');
  const purge = db.prepare('DELETE FROM console_sessions WHERE expires_at < ?');
  return {
    async insert(s) {
      await db.immediate(() => insert.run(...consoleSessionValues(s)));
    },
    async find(digest) {
      const row = find.get(digest);
      return row && toConsoleSession(row);
    },
    async touch(digest, at) {
      await db.immediate(() => touch.run(at, digest));
    },
    async end(digest, at) {
      return db.immediate(() => end.run(at, digest) === 1);
    },
    async purgeExpired(before) {
      return db.immediate(() => purge.run(before));
    },
  };
}

export function sqliteConsoleLinks(db: Db): ConsoleLinkRepo {
  const insert = db.prepare(insertSql('console_links', CONSOLE_LINK_COLUMNS));
  // One statement: the conditional write and the row it wrote (RETURNING, SQLite ≥ 3.35).
  const consume = db.prepare<ConsoleLinkRow>('UPDATE console_links SET used_at = ? WHERE digest = ? AND used_at IS NULL AND expires_at > ? RETURNING *');
  const purge = db.prepare('DELETE FROM console_links WHERE expires_at < ?');
  return {
    async insert(l) {
      await db.immediate(() => insert.run(...consoleLinkValues(l)));
    },
    async consume(digest, at) {
      const row = await db.immediate(() => consume.get(at, digest, at));
      return row && toConsoleLink(row);
    },
    async purgeExpired(before) {
      return db.immediate(() => purge.run(before));
    },
  };
}

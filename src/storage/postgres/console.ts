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
import { counted, insertSql, type Db } from './db.ts';

const INSERT_USER = insertSql('console_users', CONSOLE_USER_COLUMNS);
const INSERT_SESSION = insertSql('console_sessions', CONSOLE_SESSION_COLUMNS);
const INSERT_LINK = insertSql('console_links', CONSOLE_LINK_COLUMNS);

export function postgresConsoleUsers(db: Db): ConsoleUserRepo {
  return {
    async insert(u) {
      await db.query(INSERT_USER, consoleUserValues(u));
    },
    async get(name) {
      const [row] = await db.query<ConsoleUserRow>('SELECT * FROM console_users WHERE name = $1', [name]);
      return row && toConsoleUser(row);
    },
    async list() {
      return (await db.query<ConsoleUserRow>('SELECT * FROM console_users ORDER BY name COLLATE "C"')).map(toConsoleUser);
    },
    async setPassword(name, hash, at) {
      return (await counted(db.query, 'UPDATE console_users SET password_hash = $2, updated_at = $3 WHERE name = $1', [name, hash, at])) === 1;
    },
    async delete(name) {
      return db.tx(async (q) => {
        await q('DELETE FROM console_sessions WHERE user_name = $1', [name]);
        await q('DELETE FROM console_links WHERE user_name = $1', [name]);
        return (await counted(q, 'DELETE FROM console_users WHERE name = $1', [name])) === 1;
      });
    },
  };
}

export function postgresConsoleSessions(db: Db): ConsoleSessionRepo {
  return {
    async insert(s) {
      await db.query(INSERT_SESSION, consoleSessionValues(s));
    },
    async find(digest) {
      const [row] = await db.query<ConsoleSessionRow>('SELECT * FROM console_sessions WHERE digest = $1', [digest]);
      return row && toConsoleSession(row);
    },
    async touch(digest, at) {
      await db.query('UPDATE console_sessions SET seen_at = $2 WHERE digest = $1', [digest, at]);
    },
    async end(digest, at) {
      return (await db.query('UPDATE console_sessions SET ended_at = $2 WHERE digest = $1 AND ended_at IS NULL RETURNING digest', [digest, at])).length === 1;
    },
    async purgeExpired(before) {
      return counted(db.query, 'DELETE FROM console_sessions WHERE expires_at < $1', [before]);
    },
  };
}

export function postgresConsoleLinks(db: Db): ConsoleLinkRepo {
  return {
    async insert(l) {
      await db.query(INSERT_LINK, consoleLinkValues(l));
    },
    async consume(digest, at) {
      const [row] = await db.query<ConsoleLinkRow>('UPDATE console_links SET used_at = $2 WHERE digest = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *', [digest, at]);
      return row && toConsoleLink(row);
    },
    async purgeExpired(before) {
      return counted(db.query, 'DELETE FROM console_links WHERE expires_at < $1', [before]);
    },
  };
}

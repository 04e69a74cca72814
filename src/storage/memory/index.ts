/**
 * In-process store: for tests and for a throwaway sandbox. Single-threaded JavaScript makes every
 * method atomic (no method awaits between its check and its write); nothing survives the process.
 *
 * One file per repository, as in the SQL backends, but no `migrations.ts`: there is no schema to
 * version, since every process starts empty. `maps.ts` holds the lookup and the purge that tokens and
 * codes share.
 * Importing this store loads no database driver.
 */
import type { Store } from '../types.ts';
import { MemoryAudit } from './audit.ts';
import { MemoryClients } from './clients.ts';
import { MemoryConsoleLinks, MemoryConsoleSessions, MemoryConsoleUsers } from './console.ts';
import { MemoryCodes } from './codes.ts';
import { MemoryKeys } from './keys.ts';
import { MemoryReplays } from './replays.ts';
import { MemorySessions } from './sessions.ts';
import { MemoryTokens } from './tokens.ts';

export function createMemoryStore(): Store {
  const tokens = new MemoryTokens();
  const consoleSessions = new MemoryConsoleSessions();
  const consoleLinks = new MemoryConsoleLinks();
  return {
    kind: 'memory',
    clients: new MemoryClients(),
    keys: new MemoryKeys(),
    tokens,
    sessions: new MemorySessions(),
    codes: new MemoryCodes(tokens),
    replays: new MemoryReplays(),
    audit: new MemoryAudit(),
    consoleUsers: new MemoryConsoleUsers(consoleSessions, consoleLinks),
    consoleSessions,
    consoleLinks,
    close: async () => {},
  };
}

/**
 * In-process store: for tests and for a throwaway sandbox. Single-threaded JavaScript makes every
 * method atomic (no method awaits between its check and its write); nothing survives the process.
 *
 * One file per repository, as in the SQL backends, but no `migrations.ts`: there is no schema to
 * version, since every process starts empty. `maps.ts` holds the lookup and the purge that tokens and
 * codes share.
 * Importing this store loads no database driver.
 */
import type { PurgeBatch, Store } from '../types.ts';
import { MemoryAudit } from './audit.ts';
import { MemoryClients } from './clients.ts';
import { MemoryConsoleLinks, MemoryConsoleSessions, MemoryConsoleUsers } from './console.ts';
import { MemoryCodes } from './codes.ts';
import { MemoryConsents } from './consents.ts';
import { MemoryDeviceCodes } from './device-codes.ts';
import { MemoryKeys } from './keys.ts';
import { MemoryPushedRequests } from './pushed-requests.ts';
import { MemoryReplays } from './replays.ts';
import { MemorySessions } from './sessions.ts';
import { MemoryTokens } from './tokens.ts';

export function createMemoryStore(): Store {
  const tokens = new MemoryTokens();
  const consoleSessions = new MemoryConsoleSessions();
  const consoleLinks = new MemoryConsoleLinks();
  const sessions = new MemorySessions();
  const codes: MemoryCodes = new MemoryCodes(tokens, (check): boolean => consents.covers(check));
  const consents = new MemoryConsents(tokens, (...of) => [...codes.families(...of), ...deviceCodes.families(...of)]);
  const deviceCodes = new MemoryDeviceCodes(tokens, (check): boolean => consents.covers(check));
  const replays = new MemoryReplays();
  const pushedRequests = new MemoryPushedRequests();
  let purging = false;
  const batch: PurgeBatch = async (table, before, limit) => {
    if (table === 'codes') return codes.purge(before, limit);
    if (table === 'device_codes') return deviceCodes.purge(before, limit);
    if (table === 'sessions') return sessions.purge(before, limit);
    if (table === 'replays') return replays.purge(before, limit);
    if (table === 'pushed_requests') return pushedRequests.purge(before, limit);
    if (table === 'console_sessions') return consoleSessions.purge(before, limit);
    if (table === 'console_links') return consoleLinks.purge(before, limit);
    return tokens.purge(table, before, limit);
  };
  return {
    kind: 'memory',
    clients: new MemoryClients(),
    keys: new MemoryKeys(),
    tokens,
    sessions,
    codes,
    pushedRequests,
    deviceCodes,
    consents,
    replays,
    purge: {
      async exclusive(pass) {
        if (purging) return undefined;
        purging = true;
        try {
          return await pass(batch);
        } finally {
          purging = false;
        }
      },
    },
    audit: new MemoryAudit(),
    consoleUsers: new MemoryConsoleUsers(consoleSessions, consoleLinks),
    consoleSessions,
    consoleLinks,
    close: async () => {},
  };
}

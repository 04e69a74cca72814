/**
 * Crash points of refresh rotation, for the crash-safety test only: wrappers that kill this process
 * with SIGKILL at a named point, as `kill -9` would (no finally blocks, no flush). Production code
 * knows nothing of them.
 * - `refresh-before-rotate` / `refresh-after-rotate`: around the store's `tokens.rotate` (the
 *   refresh grant has decided; the rotation has not started / has committed, no response is sent).
 * - `rotate-after-consume` / `rotate-before-commit`: inside the SQLite transaction of `rotate`,
 *   reached by watching the statements the store runs on its database handle.
 */
import type { Database, DriverStatement } from '../../src/storage/sqlite/db.ts';
import { withRepos } from '../../src/storage/layered.ts';
import type { Store, TokenRepo } from '../../src/storage/types.ts';

export const CRASH_POINTS = ['refresh-before-rotate', 'rotate-after-consume', 'rotate-before-commit', 'refresh-after-rotate'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];
export const isCrashPoint = (name: string | undefined): name is CrashPoint => CRASH_POINTS.some((p) => p === name);

const die = (): never => {
  // A signal a process sends itself is delivered before kill() returns.
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

/** The store with `tokens.rotate` dying just before it starts or just after it committed. */
export function crashingStore(store: Store, point: CrashPoint): Store {
  if (point !== 'refresh-before-rotate' && point !== 'refresh-after-rotate') return store;
  const rotate: TokenRepo['rotate'] = async (digest, at, successors) => {
    if (point === 'refresh-before-rotate') die();
    const won = await store.tokens.rotate(digest, at, successors);
    if (won) die();
    return won;
  };
  const tokens = new Proxy(store.tokens, {
    get: (target, prop) => (prop === 'rotate' ? rotate : Reflect.get(target, prop, target)),
  });
  return withRepos(store, { tokens });
}

/** `rotate`'s consuming UPDATE (also a plain revoke's, which the crash server never runs). */
const CONSUME = /^UPDATE tokens SET revoked_at = \? WHERE digest = \? AND revoked_at IS NULL$/;
const INSERT_TOKEN = /^INSERT INTO tokens /;

/**
 * The database dying once a refresh token is consumed, just before the first successor is written
 * (`rotate-after-consume`), or once the successors are written, just before the COMMIT that follows
 * (`rotate-before-commit`). Points defined by the statements, not by the store's transactions: a
 * store that committed the consume on its own would be caught with the old token consumed and no
 * successor.
 */
export function crashingDatabase(database: Database, point: CrashPoint): Database {
  if (point !== 'rotate-after-consume' && point !== 'rotate-before-commit') return database;
  let stage: 'start' | 'consumed' | 'successors written' = 'start';
  return {
    get isOpen() {
      return database.isOpen;
    },
    exec(sql) {
      if (sql === 'COMMIT' && stage === 'successors written' && point === 'rotate-before-commit') die();
      database.exec(sql);
    },
    prepare(sql) {
      const statement = database.prepare(sql);
      const consumes = CONSUME.test(sql);
      const inserts = INSERT_TOKEN.test(sql);
      if (!consumes && !inserts) return statement;
      return {
        run(...params) {
          if (inserts && stage !== 'start') {
            if (point === 'rotate-after-consume') die();
            stage = 'successors written';
          }
          const result = statement.run(...params);
          if (consumes && Number(result.changes) === 1) stage = 'consumed';
          return result;
        },
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
      } satisfies DriverStatement;
    },
    close: () => database.close(),
  };
}

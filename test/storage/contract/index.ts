/**
 * The storage contract, run unchanged against every backend (memory, SQLite, PostgreSQL): what each
 * method of `src/storage/types.ts` promises, including atomicity under concurrency. One suite per
 * repository, in the files beside this one.
 */
import { describe, test, type TestContext } from 'node:test';
import type { Store } from '../../../src/storage/types.ts';
import { auditContract } from './audit.ts';
import { clientsContract } from './clients.ts';
import { codesContract } from './codes.ts';
import { consentsContract } from './consents.ts';
import { consoleContract } from './console.ts';
import { deviceCodesContract } from './device-codes.ts';
import { keysContract } from './keys.ts';
import { purgeContract } from './purge.ts';
import { pushedRequestsContract } from './pushed-requests.ts';
import { replaysContract } from './replays.ts';
import { sessionsContract } from './sessions.ts';
import { successorContract, tokensContract } from './tokens.ts';

/** Builds a fresh, empty store for one test (registering its cleanup on `t`); undefined = skipped. */
export type MakeStore = (t: TestContext) => Promise<Store | undefined> | Store | undefined;

/** Registers one test that runs `fn` on a fresh store and closes it afterwards. */
export type StoreTest = (title: string, fn: (store: Store) => Promise<void>) => void;

export function runStoreContract(name: string, makeStore: MakeStore): void {
  const storeTest: StoreTest = (title, fn) =>
    test(title, async (t) => {
      const store = await makeStore(t);
      if (!store) return;
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  describe(`storage contract: ${name}`, () => {
    describe('clients', () => clientsContract(storeTest));
    describe('keys', () => keysContract(storeTest));
    describe('tokens', () => {
      tokensContract(storeTest);
      successorContract(storeTest);
    });
    describe('sessions', () => sessionsContract(storeTest));
    describe('codes', () => codesContract(storeTest));
    describe('device codes', () => deviceCodesContract(storeTest));
    describe('consents', () => consentsContract(storeTest));
    describe('audit', () => auditContract(storeTest));
    describe('replays', () => replaysContract(storeTest));
    describe('pushed requests', () => pushedRequestsContract(storeTest));
    describe('console', () => consoleContract(storeTest));
    describe('purge', () => purgeContract(storeTest));
  });
}

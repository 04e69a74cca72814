import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { runGrantsContract } from './grants-contract.ts';

runGrantsContract('memory', () => createMemoryStore());
runGrantsContract('sqlite', () => openSqliteStore({ dir: ':memory:' }));

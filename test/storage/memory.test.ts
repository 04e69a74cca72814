import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { runStoreContract } from './contract/index.ts';

runStoreContract('memory', () => createMemoryStore());

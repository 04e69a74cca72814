import { createMemoryStore } from '../../src/storage/memory/index.ts';
import { runStoreContract } from './contract.ts';

runStoreContract('memory', async () => createMemoryStore());

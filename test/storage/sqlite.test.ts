import { rmSync } from 'node:fs';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { tempDir } from '../support/harness.ts';
import { runStoreContract } from './contract.ts';

runStoreContract('sqlite', async (t) => {
  const dir = tempDir('keymint-sqlite-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openSqliteStore({ dir });
});

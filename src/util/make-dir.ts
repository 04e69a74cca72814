/**
 * `mkdir -p` without Node's recursive mkdir, which never returns where a parent exists but refuses
 * children with ENOENT (`--data /proc/keymint`: procfs and sysfs do): it retries for ever at full
 * CPU. Each missing level is made once; a refusal is thrown as the operator's error.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export function makeDir(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new DataDirError(`cannot create the data directory ${dir}: making ${d} failed (${code}); choose another --data`);
    }
  }
}

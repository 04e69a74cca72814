/**
 * `npm run build`: emits JavaScript and type declarations into dist/ for the published package
 * (Node will not strip types inside node_modules). Relative `.ts` imports are rewritten to `.js`.
 * Then bundles the CLI into dist/bundle/ (bundle.ts): what the installed bin/keymint.js runs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bundleCli } from './bundle.ts';

const require = createRequire(import.meta.url);
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The console's static files are read beside their module at startup; tsc copies only code.
cpSync(new URL('../src/console/assets', import.meta.url), new URL('../dist/console/assets', import.meta.url), {
  recursive: true,
  filter: (src) => !src.endsWith('.ts'),
});
await bundleCli();

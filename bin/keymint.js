#!/usr/bin/env node
// Entry point. In a source checkout it runs the TypeScript sources directly (Node 24 strips types);
// an installed package runs the JavaScript emitted by `npm run build` (Node will not strip types
// inside node_modules), where `--help` and `--version` work on any supported Node and each command
// checks the Node it needs (serve and the store commands: 24) before doing anything.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const source = new URL('src/cli/main.ts', root);
const fromSource = existsSync(fileURLToPath(source)) && !fileURLToPath(root).includes('/node_modules/');
const [major] = process.versions.node.split('.').map(Number);
if (fromSource && major < 24) {
  process.stderr.write(
    `keymint: this checkout runs its TypeScript sources, which needs Node.js 24 (this is ${process.version}); ` +
      'run it through npm (npx keymint, npm start), which uses the node@24 pinned in devDependencies\n',
  );
  process.exit(7);
}
const { main } = await import(fromSource ? source.href : new URL('dist/cli/main.js', root).href);
process.exitCode = await main(process.argv.slice(2));

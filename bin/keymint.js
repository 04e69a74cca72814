#!/usr/bin/env node
// Entry point. In a source checkout it runs the TypeScript sources directly (Node 24 strips types);
// an installed package runs the bundle `npm run build` emits into dist/bundle/ (Node will not strip
// types inside node_modules, and a few bundled modules load faster than ~190 separate ones), where
// `--help` and `--version` work on any supported Node and each command checks the Node it needs
// (serve and the store commands: 24) before doing anything.
import module from 'node:module';

// node:fs and node:url by require: importing node:fs as an ES module builds its facade, which reads
// every export and so loads fs/promises, readline and streams (~10 ms of CPU) for nothing.
const require = module.createRequire(import.meta.url);
const { existsSync } = require('node:fs');
const { fileURLToPath } = require('node:url');

// Node's compile cache (22.1+) keeps V8's compiled code and, on Node 24, the type-stripped sources,
// keyed by each file's path and contents: a second start skips most of the loading work. It lives
// in the OS temp directory (or NODE_COMPILE_CACHE), never in the package; NODE_DISABLE_COMPILE_CACHE=1
// turns it off, and a directory that cannot be written only means no cache.
module.enableCompileCache?.();

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
// `keymint clients list | head`: a reader that stops early ends the output, it is not a failure to report
// with a stack trace (an unhandled EPIPE). What else a stream reports is thrown as before.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}
const { main } = await import(fromSource ? source.href : new URL('dist/bundle/cli.js', root).href);
process.exitCode = await main(process.argv.slice(2));

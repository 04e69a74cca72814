/**
 * The CLI as a few ES modules in dist/bundle/ (esbuild), for the installed bin/keymint.js: loading
 * ~190 separate modules (resolve, stat, read, compile each) was most of `keymint sandbox`'s start.
 * Code splitting keeps what the CLI imports lazily (the service, the sandbox, the console, the
 * stores) in chunks of their own, loaded only when a command imports them. `jose` is bundled in (its
 * licence is kept at the end of the chunk that holds it); `yaml`, `pg` and `ioredis` stay
 * packages, loaded from node_modules on first use as before.
 *
 * A module that reads a file beside itself (`new URL(…, import.meta.url)`: the package.json, the
 * schema, the console's assets) gets its own dist/ location as its `import.meta.url`, so every
 * relative path means in the bundle what it means in dist/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = 'dist/bundle';
/** Node 20 is the oldest the package promises (package.json engines). */
const TARGET = 'node20';

export async function bundleCli(outdir = `${ROOT}${BUNDLE_DIR}`): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: TARGET,
    chunkNames: 'chunk-[hash]',
    external: ['yaml', 'pg', 'ioredis'],
    // Readable stack traces (KEYMINT_DEBUG=1) matter more than the bytes minifying would save.
    minifySyntax: true,
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
    plugins: [
      {
        name: 'dist-import-meta-url',
        setup(b) {
          b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
            const source = readFileSync(args.path, 'utf8');
            if (!source.includes('import.meta.url')) return undefined;
            // src/a/b.ts runs as dist/a/b.js; every output file sits one level below dist/.
            const inDist = relative(`${ROOT}src`, args.path).replace(/\.ts$/, '.js').split('\\').join('/');
            return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(`../${inDist}`)}, import.meta.url).href`), loader: 'ts' };
          });
        },
      },
    ],
  });
  // jose's MIT licence travels with its code.
  const jose = Object.keys(result.metafile.outputs).find((out) => Object.keys(result.metafile.outputs[out]!.inputs).some((i) => i.startsWith('node_modules/jose/')));
  if (jose) {
    const { version } = JSON.parse(readFileSync(`${ROOT}node_modules/jose/package.json`, 'utf8')) as { version: string };
    const licence = readFileSync(`${ROOT}node_modules/jose/LICENSE.md`, 'utf8').replaceAll('*/', '* /');
    const file = resolve(ROOT, jose);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n/*! bundled: jose ${version}\n${licence}\n*/\n`);
  }
}

/**
 * `keymint/verify` and `keymint/client` ship as subpaths used on their own (Node >= 22): their
 * sources import only `jose` (the package or one of the subpaths its exports map publishes), Node
 * built-ins and files of their own directory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const joseExports = Object.keys((createRequire(import.meta.url)('jose/package.json') as { exports: Record<string, unknown> }).exports);
/** `jose` or a subpath jose publishes (`jose/jwt/verify` matches `./jwt/*`). */
const isJose = (spec: string) =>
  spec === 'jose' || (spec.startsWith('jose/') && joseExports.some((e) => (e.endsWith('/*') ? `.${spec.slice(4)}`.startsWith(e.slice(0, -1)) : e === `.${spec.slice(4)}`)));

const root = join(import.meta.dirname, '../../src');
for (const dir of ['verify', 'client']) {
  test(`src/${dir} imports only jose, node:* and ./ files`, () => {
    for (const file of readdirSync(join(root, dir))) {
      const text = readFileSync(join(root, dir, file), 'utf8');
      for (const [, spec] of text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
        assert.ok(isJose(spec!) || spec!.startsWith('node:') || /^\.\/[\w-]+\.ts$/.test(spec!), `${dir}/${file} imports ${spec}`);
      }
    }
  });
}

/**
 * `keymint/verify` and `keymint/client` ship as subpaths used on their own (Node >= 22): their
 * sources import only `jose`, Node built-ins and files of their own directory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../../src');
for (const dir of ['verify', 'client']) {
  test(`src/${dir} imports only jose, node:* and ./ files`, () => {
    for (const file of readdirSync(join(root, dir))) {
      const text = readFileSync(join(root, dir, file), 'utf8');
      for (const [, spec] of text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
        assert.ok(spec === 'jose' || spec!.startsWith('node:') || /^\.\/[\w-]+\.ts$/.test(spec!), `${dir}/${file} imports ${spec}`);
      }
    }
  });
}

/**
 * The `yaml` library, loaded on first use. Loading it costs 60–70 ms of CPU, and a valid JSON file
 * (`keymint sandbox --file x.json`) is read without it (file.ts). A synchronous require keeps parsing
 * synchronous; on Node, `import` and `require` of `yaml` resolve to the same CommonJS build, so a
 * module that imports it shares this instance.
 */
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}

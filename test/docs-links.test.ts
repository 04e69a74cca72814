/** The docs are self-contained and current: every relative link resolves, nothing points outside the repository. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchors, brokenLinks, relativeLinks } from './support/links.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const docs = ['README.md', ...readdirSync(`${root}docs`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('every relative link in README.md and docs/ resolves, anchors included', () => {
  assert.deepEqual(brokenLinks(root, docs), []);
});

test('no doc points outside the repository or at files it does not have', () => {
  for (const file of docs) {
    const text = readFileSync(`${root}${file}`, 'utf8');
    for (const link of relativeLinks(text)) assert.ok(resolve(dirname(`${root}${file}`), link.split('#')[0]!).startsWith(root), `${file}: ${link} leaves the repository`);
    assert.doesNotMatch(text, /DIALECTS\.md|SECURITY\.md|\.\.\/shared|the protection issue|until that dialect is merged|Node ≥ 22/, file);
  }
});

test('every requirement id a doc cites is in docs/requirements.md', () => {
  const known = new Set([...readFileSync(`${root}docs/requirements.md`, 'utf8').matchAll(/^\| ([A-Z]+-\d+) \|/gm)].map((m) => m[1]));
  for (const file of docs) {
    for (const m of readFileSync(`${root}${file}`, 'utf8').matchAll(/\b(?:requirements?|SECURITY)\s+([A-Z]+-\d+)/g)) assert.ok(known.has(m[1]!), `${file}: ${m[0]}`);
  }
});

test('the link reader: code is not prose, anchors follow GitHub', () => {
  assert.deepEqual(relativeLinks('[a](x.md) `[b](y.md)` [c](https://e.x) [d](#top)\n```\n[e](z.md)\n```\n'), ['x.md', '#top']);
  assert.deepEqual([...anchors('# Admin tokens\n## `keymint/verify`: the API\n## Admin tokens\n')], ['admin-tokens', 'keymintverify-the-api', 'admin-tokens-1']);
});

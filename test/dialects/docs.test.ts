import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dialectDocs } from '../../scripts/dialect-docs.ts';

const DIR = new URL('../../docs/dialects/', import.meta.url);

test('docs/dialects/ is what the real server answers today (run `npm run docs:dialects` after a codec change)', async () => {
  const pages = await dialectDocs();
  assert.deepEqual(readdirSync(DIR).sort(), Object.keys(pages).sort());
  for (const [file, text] of Object.entries(pages)) assert.equal(readFileSync(new URL(file, DIR), 'utf8'), text, file);
  for (const text of Object.values(pages)) {
    assert.doesNotMatch(text, /ks_[0-9A-Za-z]{20}|sk_(live|sdbx|stg)_[0-9A-Za-z]{20}|eyJ[\w-]+\.|sk-[0-9a-f]{32}/, 'no real id, secret or token');
    assert.doesNotMatch(text, /Basic [A-Za-z0-9+/]{16,}/, 'no real Basic credentials (base64 of id:secret)');
  }
});

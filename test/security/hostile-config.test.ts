/**
 * Red team of configuration errors (the option named as the operator gave it, 0cffda3) as a careless
 * operator meets them: a key-encryption key of the wrong shape, a database or Redis URL carrying a
 * password, given by variable or by flag, malformed or unreachable. Every error line names the
 * option and never repeats the secret value (S-06).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rmSync } from 'node:fs';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';

const SECRET = 'S3cretPassw0rd-red';
const data = tempDir();
after(() => rmSync(data, { recursive: true, force: true }));

const KEK_31 = Buffer.alloc(31, 7).toString('base64');

test('S-06 a bad KEYMINT_KEK, database URL or Redis URL is named in the error line, and the secret it carries is never printed', async () => {
  const cases: Array<{ what: string; args: string[]; env: NodeJS.ProcessEnv; stderr: string | RegExp }> = [
    { what: 'a KEK that is not base64 of 32 bytes', args: [], env: { KEYMINT_KEK: `${SECRET}${SECRET}` }, stderr: 'keymint: KEYMINT_KEK: must be base64 of exactly 32 bytes\n' },
    { what: 'a KEK one byte short', args: [], env: { KEYMINT_KEK: KEK_31 }, stderr: 'keymint: KEYMINT_KEK: must be base64 of exactly 32 bytes\n' },
    { what: 'a KEK given as a flag', args: ['--kek', SECRET], env: {}, stderr: /^keymint clients list: unknown flag --kek; / },
    { what: 'a database URL of another scheme, by variable', args: [], env: { KEYMINT_DATABASE_URL: `mysql://keymint:${SECRET}@db.example/keymint` }, stderr: 'keymint: KEYMINT_DATABASE_URL: must be a postgres:// URL\n' },
    { what: 'a database URL of another scheme, by flag', args: ['--database-url', `mysql://keymint:${SECRET}@db.example/keymint`], env: {}, stderr: 'keymint: --database-url: must be a postgres:// URL\n' },
    { what: 'a database URL that does not parse', args: [], env: { KEYMINT_DATABASE_URL: `postgres://keymint:${SECRET}@[db/keymint` }, stderr: /^keymint: / },
    { what: 'a database nobody answers at', args: [], env: { KEYMINT_DATABASE_URL: `postgres://keymint:${SECRET}@127.0.0.1:1/keymint` }, stderr: /^keymint: the store is unavailable/ },
    { what: 'a Redis URL of another scheme', args: [], env: { KEYMINT_REDIS_URL: `http://:${SECRET}@cache.example:6379` }, stderr: 'keymint: KEYMINT_REDIS_URL: must be a redis:// or rediss:// URL\n' },
  ];
  for (const c of cases) {
    const r = await cli(['clients', 'list', '--data', data, ...c.args], c.env);
    assert.notEqual(r.code, 0, c.what);
    if (typeof c.stderr === 'string') assert.equal(r.stderr, c.stderr, c.what);
    else assert.match(r.stderr, c.stderr, `${c.what}: ${r.stderr}`);
    for (const part of [SECRET, KEK_31]) {
      assert.ok(!r.stderr.includes(part) && !r.stdout.includes(part), `${c.what}: the secret is printed`);
    }
  }
});

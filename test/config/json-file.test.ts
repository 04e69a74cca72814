/**
 * A `.json` configuration file is read without the YAML parser when it is valid (file.ts, plainJson):
 * the value is the one the parser gives, a key twice is refused with the parser's message and
 * position, and `keymint sandbox` with a valid JSON file never loads the `yaml` package.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigFileError, parseConfigFile } from '../../src/config/file.ts';
import { tempDir } from '../support/harness.ts';
import { BIN } from '../support/process.ts';

const refused = (text: string, path: string): ConfigFileError => {
  try {
    parseConfigFile(text, { path, allowSandbox: true });
  } catch (err) {
    assert.ok(err instanceof ConfigFileError, String(err));
    return err;
  }
  assert.fail('parsed');
};

test('a .json file with a key twice is refused at the second, as the YAML parser says it', () => {
  const nested = refused('{\n  "version": 1,\n  "clients": {\n    "a": {},\n    "a": {}\n  }\n}\n', 'x.json');
  assert.equal(nested.message, 'x.json:5:5: Map keys must be unique');
  assert.deepEqual([nested.line, nested.column, nested.field], [5, 5, '']);
  // Keys are compared decoded: "\u0061" is "a".
  assert.equal(refused('{"version":1,"clients":{"a":{},"\\u0061":{}}}', 'x.json').message, 'x.json:1:32: Map keys must be unique');
  assert.equal(refused('{"version": 1, "version": 1}', 'k.json').message, 'k.json:1:16: Map keys must be unique');
  // The same key in two objects, a key's text as a value, quotes and colons inside keys: no repeat.
  const jwt = '"authMethod":"private_key_jwt","jwks"';
  const text = `{"version":1,"clients":{"a":{${jwt}:{"a":"a","x\\":":["1"],"x\\\\":"2"}},"b":{${jwt}:{"a":"a:"}}}}`;
  const jwks = (clients: Record<string, { jwks?: unknown }>) => Object.values(clients).map((c) => c.jwks);
  assert.deepEqual(jwks(parseConfigFile(text, { path: 'x.json' }).file.clients), [{ a: 'a', 'x":': ['1'], 'x\\': '2' }, { a: 'a:' }]);
  assert.equal(refused(`{"version":1,"clients":{"a":{${jwt}:{"x\\":":"1","x\\u0022:":"2"}}}}`, 'x.json').message, 'x.json:1:80: Map keys must be unique');
});

test('errors found in a valid .json file and positions asked for later are those of the YAML parser', () => {
  const text = '{\n\t"version": 1,\n\t"clients": {\n\t\t"a": { "scopes": [1] }\n\t}\n}';
  assert.equal(refused(text, 'x.json').message, 'x.json:4:21: clients.a.scopes[0]: must be a string');
  const parsed = parseConfigFile('{"version":1,"clients":{"a":{"scopes":["x"]}},"sandbox":{"port":0}}', { path: 'x.json', allowSandbox: true });
  assert.equal(parsed.locate(['clients', 'a', 'scopes', 0]), 'x.json:1:40');
  assert.equal(parsed.error(['sandbox', 'port'], 'taken').message, 'x.json:1:65: sandbox.port: taken');
  // A lone carriage return is whitespace to JSON, not to YAML: the parser's reading stands.
  assert.equal(refused('{"version":1,\r"clients":{}}', 'x.json').message, 'x.json:1:14: ["\\r\\"clients\\""]: is not a known field; known: $schema, version, clients, sandbox');
});

/** Seeded generator of JSON text: escapes, number forms, nesting and whitespace a JSON writer may use. */
function jsonTexts(count: number): string[] {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const space = () => pick(['', ' ', '\t', '\n', '\r\n', '  ', '\n\t', ' \n ']);
  const strings = ['a', '', 'é', '\\u0041', '\\/', '\\n', ' x ', '#c', '- x', ': x', '\u2028', '\x7f', '{}', '[', '&a', '*a', '!t', '%', '\\"', '?', '|', "'", ' # ', 'a: b', '\\t', '---', 'yes', 'null', '~', '1', '0x1', '.inf', '\\ud83d\\ude00'];
  const numbers = ['0', '-0', '1', '-1', '1.5', '1e5', '1E-5', '1.0e+10', '123456789012345678901234', '0.1', '-0.0', '1e400'];
  const value = (depth: number): string => {
    const r = random();
    if (depth > 4 || r < 0.4) return random() < 0.4 ? `"${pick(strings)}"` : random() < 0.7 ? pick(numbers) : pick(['true', 'false', 'null']);
    const n = Math.floor(random() * 4);
    if (r < 0.7) {
      const keys = [...new Set(Array.from({ length: n }, () => pick(strings)))];
      return `{${keys.map((k) => `${space()}"${k}"${space()}:${space()}${value(depth + 1)}${space()}`).join(',') || space()}}`;
    }
    return `[${Array.from({ length: n }, () => `${space()}${value(depth + 1)}${space()}`).join(',') || space()}]`;
  };
  return Array.from({ length: count }, () => `${space()}{${space()}"version":${space()}1,${space()}"clients":{"app":{"authMethod":"private_key_jwt","jwks":{"k":${value(1)}${space()}}}}${space()},"sandbox":{}}${space()}`);
}

test('a valid .json file parses to the same value as through the YAML parser', () => {
  for (const text of jsonTexts(1500)) {
    const viaYaml = parseConfigFile(text, { path: 'c.yaml', allowSandbox: true }).file;
    assert.deepStrictEqual(parseConfigFile(text, { path: 'c.json', allowSandbox: true }).file, viaYaml, JSON.stringify(text));
  }
});

/** `keymint sandbox --file FILE` until it serves a token, then SIGTERM; the packages it loaded, seen by a module hook. */
async function packagesLoaded(file: string): Promise<string[]> {
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    import { writeSync } from 'node:fs';
    const seen = new Set();
    registerHooks({ load(url, context, next) { const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url); if (m) seen.add(m[1]); return next(url, context); } });
    process.on('exit', () => writeSync(2, 'packages: ' + [...seen].sort().join(' ') + '\\n'));
  `)}`;
  const child = spawn(process.execPath, ['--import', hook, BIN, 'sandbox', '--file', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await Promise.race([
    new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => (out += d.toString()).includes('Ctrl-C stops it.') && resolve())),
    exited.then((c) => assert.fail(`exited ${c}: ${out}${err}`)),
  ]);
  const url = /listening on (http:\/\/[\d.:]+)/.exec(out)![1]!;
  const [, id, secret] = /app +(sk_live_\w+) +secret (ks_\w+)/.exec(out)!;
  const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: id, client_secret: secret }) });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  child.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  const line = /^packages: (.*)$/m.exec(err);
  assert.ok(line, err);
  return line[1]!.split(' ').filter(Boolean);
}

test('keymint sandbox with a valid JSON file never loads yaml; with a YAML file it does', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sandbox.json'), JSON.stringify({ version: 1, clients: { app: { dialects: ['orum'] } }, sandbox: {} }, null, 2));
  writeFileSync(join(dir, 'sandbox.yaml'), 'version: 1\nclients:\n  app: { dialects: [orum] }\nsandbox: {}\n');
  const fromJson = await packagesLoaded(join(dir, 'sandbox.json'));
  assert.ok(fromJson.includes('jose'), fromJson.join(' '));
  assert.ok(!fromJson.includes('yaml'), fromJson.join(' '));
  assert.ok((await packagesLoaded(join(dir, 'sandbox.yaml'))).includes('yaml'));
});

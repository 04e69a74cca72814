/**
 * Every operator mistake the CLI refuses: one line on stderr naming the cause and the fix, the exit
 * code `keymint --help` documents, no stack trace, and nothing written to the data directory.
 * Permission cases run the CLI as `nobody` when the tests run as root (root reads anything).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { EXIT } from '../../src/cli/command.ts';
import { tempDir } from '../support/harness.ts';
import { BIN, cli, serve, type CliResult } from '../support/process.ts';

const root = tempDir('keymint-operr-');
chmodSync(root, 0o755); // so `nobody` may look inside
const store = join(root, 'store');
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

before(async () => {
  const r = await cli(['clients', 'create', '--data', store, '--name', 'seed']);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A copy of the seeded store, owned by whoever the CLI will run as. */
function copy(): string {
  const dir = join(root, `case-${++n}`);
  cpSync(store, dir, { recursive: true });
  return dir;
}

/** Every path under `dir` with its type, mode and size: what "nothing was written" compares. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return ['(absent)'];
  const s = lstatSync(dir);
  if (!s.isDirectory()) return [`file ${(s.mode & 0o777).toString(8)} ${readFileSync(dir, 'utf8')}`];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const p = join(e.parentPath, e.name);
      const st = lstatSync(p);
      return `${p.slice(dir.length)} ${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o777).toString(8)} ${st.isDirectory() ? '' : st.size}`;
    })
    .sort();
}

/** Runs the CLI as another user (root only). */
function cliAs(uid: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { uid, gid: uid, encoding: 'utf8', cwd: root, env: { ...process.env, HOME: root } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function refused(paths: string[], run: () => Promise<CliResult>, exit: number, stderr: string): Promise<void> {
  const before = paths.map(snapshot);
  const r = await run();
  assert.equal(r.stderr, stderr);
  assert.equal(r.code, exit);
  assert.equal(r.stdout, '');
  assert.deepEqual(paths.map(snapshot), before, 'nothing was written');
}

test('a second serve on a busy port: exit 3, and no data directory made', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const data = join(root, 'never-made');
  await refused([data], () => cli(['serve', '--port', String(port), '--data', data]), EXIT.portBusy,
    `keymint: port ${port} on 127.0.0.1 is already in use (another keymint serve?); stop that process or choose another --port\n`);
});

test('--data naming a file: exit 4, the file untouched, for serve and for a read command', async () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'not a directory');
  const message = `keymint: --data (or KEYMINT_DATA) names a file, not a directory: ${file}; point it at a directory (created if absent)\n`;
  await refused([file], () => cli(['serve', '--port', '0', '--data', file]), EXIT.dataDir, message);
  await refused([file], () => cli(['clients', 'list', '--data', file]), EXIT.dataDir, message);
  const below = join(file, 'sub');
  await refused([file], () => cli(['clients', 'create', '--name', 'x', '--data', below]), EXIT.dataDir,
    `keymint: cannot use the data directory ${below}: ${file} is a file; point --data (or KEYMINT_DATA) at a directory\n`);
});

test('a mistyped --data for read commands: exit 6, says so, creates nothing', async () => {
  const typo = join(root, 'stroe');
  const message = `keymint: no Keymint store at ${typo}: the directory does not exist; check --data (or KEYMINT_DATA), or create the store with keymint serve --data ${typo}\n`;
  for (const args of [['clients', 'list'], ['clients', 'show', 'sk_live_x'], ['keys', 'list'], ['audit'], ['clients', 'delete', 'sk_live_x']]) {
    await refused([typo], () => cli([...args, '--data', typo]), EXIT.noStore, message);
  }
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await refused([empty], () => cli(['clients', 'list', '--data', empty]), EXIT.noStore,
    `keymint: no Keymint store in ${empty} (no keymint.db there); check --data (or KEYMINT_DATA), or create the store with keymint serve --data ${empty}\n`);
});

test('a KEK that is a directory: exit 5', async () => {
  const dir = copy();
  unlinkSync(join(dir, 'kek'));
  mkdirSync(join(dir, 'kek'));
  await refused([dir], () => cli(['clients', 'list', '--data', dir]), EXIT.kek,
    `keymint: the KEK ${join(dir, 'kek')} is a directory, not the key file; restore the file holding the base64 key (or set KEYMINT_KEK)\n`);
});

test('a deleted kek beside an existing database is refused, never replaced: exit 5', async () => {
  const dir = copy();
  unlinkSync(join(dir, 'kek'));
  const message = `keymint: config kek: ${join(dir, 'kek')} is missing but the store holds keys sealed with it; restore the file from a backup (or set KEYMINT_KEK): a new KEK cannot open those keys\n`;
  await refused([dir], () => cli(['clients', 'list', '--data', dir]), EXIT.kek, message);
  await refused([dir], () => cli(['serve', '--port', '0', '--data', dir]), EXIT.kek, message);
  assert.ok(!existsSync(join(dir, 'kek')));
});

test('another KEK than the store was sealed with: exit 5, one line from serve too', async () => {
  const dir = copy();
  const message = 'keymint: config kek: the keys in the store were sealed with another key-encryption key; every node and the CLI need the same KEYMINT_KEK\n';
  const wrong = { KEYMINT_KEK: Buffer.alloc(32, 7).toString('base64') };
  await refused([dir], () => cli(['keys', 'list', '--data', dir], wrong), EXIT.kek, message);
  await refused([dir], () => cli(['serve', '--port', '0', '--data', dir], wrong), EXIT.kek, message);
});

test('an unreadable data directory: exit 4', async () => {
  const dir = copy();
  const before = snapshot(dir);
  let run = () => cliAs(NOBODY, ['clients', 'list', '--data', dir]);
  if (!asRoot) {
    chmodSync(dir, 0o000);
    run = () => cli(['clients', 'list', '--data', dir]);
  }
  try {
    await refused([], run, EXIT.dataDir, `keymint: cannot read and write the data directory ${dir} (permission denied); run keymint as its owner, or give this user access (chmod 700)\n`);
  } finally {
    chmodSync(dir, 0o700);
  }
  assert.deepEqual(snapshot(dir), before, 'nothing was written');
});

/**
 * A copy of the store in which the CLI (`run`) may use everything but `name`: as root, everything is
 * nobody's but that file, which stays root's 0600, and the CLI runs as nobody; else the file is 000.
 */
function unreadable(name: string): { dir: string; file: string; run: (args: string[]) => Promise<CliResult> } {
  const dir = copy();
  const file = join(dir, name);
  if (!asRoot) {
    chmodSync(file, 0o000);
    return { dir, file, run: (args) => cli(args) };
  }
  for (const f of readdirSync(dir)) if (f !== name) chownSync(join(dir, f), NOBODY, NOBODY);
  chownSync(dir, NOBODY, NOBODY);
  return { dir, file, run: (args) => cliAs(NOBODY, args) };
}

test('an unreadable database in a usable data directory: exit 4, for a read command and for serve', async () => {
  const { dir, file: db, run } = unreadable('keymint.db');
  const message = `keymint: cannot read and write the database ${db} (permission denied); run keymint as its owner, or give this user access (chmod 600 ${db})\n`;
  await refused([dir], () => run(['clients', 'list', '--data', dir]), EXIT.dataDir, message);
  await refused([dir], () => run(['serve', '--port', '0', '--data', dir]), EXIT.dataDir, message);
});

test('keymint sandbox --data gets the same checks: a file, an unreadable database (exit 4); a busy port refused before the directory is made (exit 3)', async (t) => {
  const file = join(root, 'sandbox-file');
  writeFileSync(file, 'not a directory');
  await refused([file], () => cli(['sandbox', '--data', file]), EXIT.dataDir,
    `keymint: --data names a file, not a directory: ${file}; point it at a directory (created if absent)\n`);

  const { dir, file: db, run } = unreadable('keymint.db');
  await refused([dir], () => run(['sandbox', '--data', dir]), EXIT.dataDir,
    `keymint: cannot read and write the database ${db} (permission denied); run keymint as its owner, or give this user access (chmod 600 ${db})\n`);

  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const data = join(root, 'sandbox-never-made');
  await refused([data], () => cli(['sandbox', '--data', data, '--port', String(port)]), EXIT.portBusy,
    `keymint: port ${port} on 127.0.0.1 is already in use (another keymint sandbox?); stop that process or choose another --port\n`);
});

test('output read by a pipe that closes early (keymint clients list | head): exit 0, no EPIPE stack trace', async () => {
  for (const args of [['clients', 'list', '--data', store], ['--help']]) {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', args.join(' '));
    assert.equal(code, 0, args.join(' '));
  }
});

test('a misspelt KEYMINT_* variable is named with the option meant, once per variable; the command still runs', async () => {
  const r = await cli(['clients', 'list', '--data', store], { KEYMINT_DATA_DIR: '/elsewhere', KEYMINT_PROT: '9000', KEYMINT_XYZQ: '1', KEYMINT_DEBUG: '' });
  assert.equal(r.stderr, [
    'keymint: warning: KEYMINT_DATA_DIR is not a Keymint variable and is ignored (did you mean KEYMINT_DATA?); keymint serve --help lists them',
    'keymint: warning: KEYMINT_PROT is not a Keymint variable and is ignored (did you mean KEYMINT_PORT?); keymint serve --help lists them',
    'keymint: warning: KEYMINT_XYZQ is not a Keymint variable and is ignored; keymint serve --help lists them',
    '',
  ].join('\n'));
  assert.equal(r.code, 0);
  assert.match(r.stdout, / seed\n$/);
});

test('a value the service refuses, on a --data with no store yet: exit 2, and no directory, KEK or database left behind', async () => {
  const fresh = join(root, 'fresh', 'data');
  await refused([join(root, 'fresh')], () => cli(['clients', 'create', '--name', 'x', '--grant', 'bogus', '--data', fresh]), EXIT.usage,
    `keymint: grant: unknown grant; known: client_credentials, authorization_code, refresh_token, web, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:device_code\n`);
  await refused([join(root, 'fresh')], () => cli(['console', 'users', 'add', 'bad name!', '--role', 'admin', '--data', fresh]), EXIT.usage,
    'keymint: name: a user name is 1–64 of letters, digits and ._@- starting with a letter or digit\n');
  const empty = join(root, 'empty-dir');
  mkdirSync(empty);
  writeFileSync(join(empty, 'notes.txt'), 'kept');
  await refused([empty], () => cli(['clients', 'create', '--name', 'x', '--scope', 'bad scope', '--data', empty]), EXIT.usage,
    'keymint: scope: a scope contains characters outside RFC 6749 §3.3\n');
});

test('a data directory the file system will not make (under /proc): exit 4 at once, where Node\'s recursive mkdir spun for ever', { skip: !existsSync('/proc/self') && 'no /proc here' }, async () => {
  const run = (args: string[]) => new Promise<CliResult>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
  for (const args of [['serve', '--port', '0'], ['clients', 'create', '--name', 'x'], ['sandbox']]) {
    const r = await run([...args, '--data', '/proc/keymint-never/data']);
    assert.equal(r.stderr, 'keymint: cannot create the data directory /proc/keymint-never/data: making /proc/keymint-never failed (ENOENT); choose another --data\n', args[0]);
    assert.equal(r.code, EXIT.dataDir);
    assert.equal(r.stdout, '');
  }
});

test('an unreadable KEK: exit 5', async () => {
  const { dir, file: kek, run } = unreadable('kek');
  await refused([dir], () => run(['clients', 'list', '--data', dir]), EXIT.kek, `keymint: cannot read the KEK ${kek} (permission denied); run keymint as its owner (the file should be mode 600)\n`);
});

test('warnings: a KEK readable by others, a world-writable data directory; the command still runs', async () => {
  const dir = copy();
  chmodSync(join(dir, 'kek'), 0o644);
  chmodSync(dir, 0o777);
  const r = await cli(['clients', 'list', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /seed\n$/);
  assert.equal(
    r.stderr,
    `keymint: warning: the data directory ${dir} is writable by every user (mode 777): anyone could replace its database or KEK; run chmod 700 ${dir}\n` +
      `keymint: warning: the KEK ${join(dir, 'kek')} is open to other users (mode 644): whoever reads it can unseal the signing keys; run chmod 600 ${join(dir, 'kek')}\n`,
  );
});

test('a warning at start: --client-urls-allow-private with open registration or client ID metadata documents lets anyone aim the server at private addresses; the server still starts; alone it says nothing', async () => {
  const warning = (what: string) =>
    `keymint: warning: --client-urls-allow-private with ${what} lets anyone make this server fetch (jwks_uri, client ID metadata documents) and POST (backchannel_logout_uri) to private and loopback addresses; keep the combination to a development machine\n`;
  const cases: Array<[string[], string | undefined]> = [
    [['--client-urls-allow-private', '--registration', 'open'], warning('--registration open')],
    [['--client-urls-allow-private', '--registration', 'open', '--client-id-metadata-documents'], warning('--registration open and --client-id-metadata-documents')],
    [['--client-urls-allow-private', '--registration', 'token'], undefined],
    [['--registration', 'open', '--client-id-metadata-documents'], undefined],
  ];
  for (const [flags, expected] of cases) {
    const s = await serve(['--data', join(root, `exposure-${flags.length}-${flags.join('').length}`), ...flags]);
    try {
      const warnings = s.logs().split('\n').filter((l) => l.startsWith('keymint: warning: --client-urls-allow-private')).map((l) => `${l}\n`);
      assert.deepEqual(warnings, expected === undefined ? [] : [expected], flags.join(' '));
      assert.equal((await fetch(`${s.url}/.well-known/oauth-authorization-server`)).status, 200, 'the server runs');
    } finally {
      s.child.kill();
    }
  }
});

test('an unreachable PostgreSQL: exit 8, one line', async () => {
  const r = await cli(['clients', 'list', '--database-url', 'postgres://keymint@127.0.0.1:1/keymint', '--data', join(root, 'pg-kek'), '--db-acquire-timeout-ms', '500']);
  assert.equal(r.code, EXIT.unavailable, r.stderr);
  assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  assert.equal(r.stderr, 'keymint: the store is unavailable (PostgreSQL unavailable); check --database-url (or KEYMINT_DATABASE_URL) and that PostgreSQL is up, then retry\n');
});

test('a SQLite store whose write lock another process holds: exit 8, one line naming the lock, nothing written', async () => {
  const dir = copy();
  const holder = new DatabaseSync(join(dir, 'keymint.db'));
  holder.exec('BEGIN IMMEDIATE');
  let r: CliResult;
  try {
    r = await cli(['clients', 'create', '--name', 'blocked', '--data', dir]);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  assert.equal(r.code, EXIT.unavailable, r.stderr);
  assert.equal(
    r.stderr,
    'keymint: the store is unavailable (SQLite database is locked); another process held the SQLite write lock of the --data directory past the busy timeout (5 s); retry, and if it persists, end the transaction that holds it\n',
  );
  const list = await cli(['clients', 'list', '--data', dir]);
  assert.equal(list.code, 0, list.stderr);
  assert.doesNotMatch(list.stdout, /blocked/);
});

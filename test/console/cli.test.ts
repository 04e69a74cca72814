/** `keymint console users …` and `keymint console link` by the real CLI, on a data directory a server then opens. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { startServer, tempDir } from '../support/harness.ts';
import { cli } from '../support/process.ts';
import { Browser } from './support.ts';

const data = tempDir('keymint-console-cli-');
after(() => rmSync(data, { recursive: true, force: true }));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(['console', ...args, '--data', data, '--issuer', 'http://localhost:8080'], env);

test('console link with no users creates the admin "admin" and prints a one-time link that signs in once', async (t) => {
  const r = await run(['link', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { user: string; url: string; created: boolean };
  assert.equal(out.user, 'admin');
  assert.equal(out.created, true);
  assert.match(out.url, /^http:\/\/localhost:8080\/console\/link\?token=kml_[A-Za-z0-9]{43}$/);
  assert.equal(r.stderr, "keymint: note: the link works on a server started with --console (or KEYMINT_CONSOLE=true) whose issuer is http://localhost:8080; give this command the server's --issuer (or --port) if it differs\n");
  const server = await startServer({ console: 'true' }, { dataDir: data });
  t.after(() => server.close());
  const token = new URL(out.url).searchParams.get('token')!;
  const b = new Browser(server.url);
  assert.equal((await b.redeem(token)).status, 303);
  assert.equal((await b.redeem(token)).status, 400);
});

test('console users add with --password-env, and with a generated password printed once; list; sign-in works; remove', async (t) => {
  const added = await run(['users', 'add', 'ann', '--role', 'admin', '--password-env', 'ANN_PW'], { ANN_PW: 'a long enough password' });
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'added ann (admin)\n');
  const gen = await run(['users', 'add', 'vic', '--role', 'viewer']);
  assert.equal(gen.code, 0, gen.stderr);
  const password = /^password: ([A-Za-z0-9]{24})$/m.exec(gen.stdout)?.[1];
  assert.ok(password, gen.stdout);
  const list = await run(['users', 'list', '--json']);
  assert.deepEqual((JSON.parse(list.stdout) as Array<{ name: string; role: string }>).map((u) => `${u.name}:${u.role}`), ['admin:admin', 'ann:admin', 'vic:viewer']);
  assert.ok(!list.stdout.includes('scrypt') && !list.stdout.includes(password));

  const server = await startServer({ console: 'true' }, { dataDir: data });
  t.after(() => server.close());
  const ann = new Browser(server.url);
  assert.equal((await ann.signIn('ann', 'a long enough password')).status, 303);
  const vic = new Browser(server.url);
  assert.equal((await vic.signIn('vic', password)).status, 303);
  assert.equal((await vic.get('/console/clients')).status, 200);

  const removed = await run(['users', 'remove', 'vic']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await vic.get('/console/clients')).status, 303, 'the removed user is signed out');
  const audit = (await server.keymint.store.audit.list(50)).map((e) => `${e.actor} ${e.action} ${e.target}`);
  assert.ok(audit.includes('cli console.user_add ann'));
  assert.ok(audit.includes('cli console.user_remove vic'));
});

test('operator mistakes: one line naming the fix, exit 2 (1 for an unknown user), nothing created', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, number, RegExp]> = [
    [['users', 'add', 'bob'], {}, 2, /^keymint console users add: --role ROLE is required .*; see keymint console users add --help\n$/],
    [['users', 'add', 'bob', '--role', 'owner'], {}, 2, /^keymint console users add: --role must be one of admin, viewer, got "owner"; see keymint console users add --help\n$/],
    [['users', 'add', 'bob', '--role', 'admin', '--password-env', 'NOPE'], {}, 2, /^keymint: password-env: the environment variable NOPE is not set or empty\n$/],
    [['users', 'add', 'bob', '--role', 'admin', '--password-env', 'PW'], { PW: 'short' }, 2, /^keymint: password: a password must have at least 12 characters\n$/],
    [['users', 'add', 'bad name', '--role', 'admin'], {}, 2, /^keymint: name: a user name is 1–64 of letters/],
    [['users', 'add', 'ann', '--role', 'viewer'], {}, 2, /^keymint: name: the console user ann exists: remove it first or pick another name\n$/],
    [['users', 'remove', 'bob'], {}, 1, /^keymint: no console user "bob"; keymint console users list shows the console users\n$/],
    [['link', '--user', 'bob'], {}, 1, /^keymint: no console user "bob"; keymint console users list shows the console users\n$/],
    [['link'], {}, 2, /^keymint: user: there are several console users: name one with --user NAME\n$/],
    [['link', '--user', 'ann', '--ttl', '999999'], {}, 2, /^keymint console link: --ttl expects a whole number from 60 to 3600, got "999999"; see keymint console link --help\n$/],
    [['frobnicate'], {}, 2, /^keymint console: unknown command "frobnicate"; commands: users add, users list, users remove, link\n$/],
  ];
  for (const [args, env, code, message] of cases) {
    const r = await run(args, env);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  const list = await run(['users', 'list', '--json']);
  assert.ok(!(JSON.parse(list.stdout) as Array<{ name: string }>).some((u) => u.name === 'bob'));
});

/**
 * `keymint console users add|list|remove` and `keymint console link`: console users are made here
 * (the console itself has no sign-up). Passwords never come from the command line, where `ps` shows
 * them: `--password-env VAR` names an environment variable, or one is generated and printed once.
 */
import { ConsoleUserError, ConsoleUsers, LINK_TTL } from '../console/index.ts';
import type { KeymintCore } from '../core.ts';
import type { Flags } from './flags.ts';

const out = (s: string) => process.stdout.write(s);

export async function consoleCommand(core: KeymintCore, args: string[], flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const users = new ConsoleUsers({ store: core.store });
  const [sub, verb, name] = args;
  const asJson = flags.json === true;
  if (sub === 'users' && verb === 'add') {
    if (!name) throw new ConsoleUserError('name', 'name the user: keymint console users add NAME --role admin|viewer');
    if (typeof flags.role !== 'string') throw new ConsoleUserError('role', 'give a role: --role admin or --role viewer');
    let password: string | undefined;
    if (typeof flags['password-env'] === 'string') {
      password = env[flags['password-env']];
      if (password === undefined || password === '') throw new ConsoleUserError('password-env', `the environment variable ${flags['password-env']} is not set or empty`);
    }
    const { user, generatedPassword } = await users.add(name, flags.role, password, 'cli');
    if (asJson) out(`${JSON.stringify({ ...user, ...(generatedPassword ? { password: generatedPassword } : {}) }, null, 2)}\n`);
    else {
      out(`added ${user.name} (${user.role})\n`);
      if (generatedPassword) out(`password: ${generatedPassword}\n\nThe password is shown only now; Keymint stores only its scrypt hash.\n`);
    }
    return 0;
  }
  if (sub === 'users' && verb === 'list') {
    const list = await users.list();
    if (asJson) out(`${JSON.stringify(list, null, 2)}\n`);
    else for (const u of list) out(`${u.name.padEnd(24)}  ${u.role.padEnd(6)}  ${u.created_at}\n`);
    return 0;
  }
  if (sub === 'users' && verb === 'remove') {
    if (!name) throw new ConsoleUserError('name', 'name the user: keymint console users remove NAME');
    await users.remove(name, 'cli');
    if (!asJson) out(`removed ${name}; their sessions have ended\n`);
    return 0;
  }
  if (sub === 'link' && verb === undefined) {
    const ttl = typeof flags.ttl === 'string' ? Number(flags.ttl) : LINK_TTL;
    const user = typeof flags.user === 'string' ? flags.user : undefined;
    const link = await users.link(user, ttl, 'cli');
    const url = `${core.config.issuer}/console/link?token=${link.token}`;
    if (asJson) out(`${JSON.stringify({ user: link.user, url, expires_at: new Date(link.expiresAt).toISOString(), created: link.created }, null, 2)}\n`);
    else {
      if (link.created) out(`created the console user ${link.user} (admin)\n`);
      out(`Sign-in link for ${link.user}, valid once until ${new Date(link.expiresAt).toISOString()}:\n${url}\n`);
    }
    if (!core.config.console) process.stderr.write('keymint: note: the console is off in this configuration; serve with --console (or KEYMINT_CONSOLE=true) to use the link\n');
    return 0;
  }
  process.stderr.write('keymint console: expected users add NAME --role admin|viewer [--password-env VAR], users list, users remove NAME, or link [--user NAME] [--ttl SECONDS]\n');
  return 2;
}

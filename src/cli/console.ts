/**
 * `keymint console users add|list|remove` and `keymint console link`: console users are made here
 * (the console itself has no sign-up). Passwords never come from the command line, where `ps` shows
 * them: `--password-env VAR` names an environment variable, or one is generated and printed once.
 */
import { ConsoleUserError, ConsoleUsers, LINK_TTL, LINK_TTL_MAX } from '../console/users.ts';
import type { Command, FlagSpec } from './command.ts';

const out = (s: string) => process.stdout.write(s);
const JSON_FLAG: FlagSpec = { type: 'boolean', doc: 'Print JSON instead of text' };
const NAME = [{ name: 'NAME', doc: 'The user name: 1–64 letters, digits and ._@-', required: true }] as const;

export const consoleUsersAdd: Command = {
  name: 'console users add',
  summary: 'Add a console user; without --password-env a password is generated and printed once',
  description: 'The password is hashed with scrypt; only the hash is stored.',
  store: 'create',
  args: NAME,
  flags: {
    role: { type: 'string', value: 'ROLE', required: true, choices: ['admin', 'viewer'], doc: 'admin (may change things) or viewer (read-only)' },
    'password-env': { type: 'string', value: 'VAR', doc: 'The environment variable holding the password (at least 12 characters)' },
    json: JSON_FLAG,
  },
  examples: ['console users add ann --role admin --password-env ANN_PASSWORD', 'console users add vic --role viewer'],
  async run({ args, flags, withCore }) {
    let password: string | undefined;
    const variable = flags['password-env'];
    if (typeof variable === 'string') {
      password = process.env[variable];
      if (password === undefined || password === '') throw new ConsoleUserError('password-env', `the environment variable ${variable} is not set or empty`);
    }
    return withCore(async (core) => {
      const { user, generatedPassword } = await new ConsoleUsers({ store: core.store }).add(args[0]!, String(flags.role), password, 'cli');
      if (flags.json === true) out(`${JSON.stringify({ ...user, ...(generatedPassword ? { password: generatedPassword } : {}) }, null, 2)}\n`);
      else {
        out(`added ${user.name} (${user.role})\n`);
        if (generatedPassword) out(`password: ${generatedPassword}\n\nThe password is shown only now; Keymint stores only its scrypt hash.\n`);
      }
      return 0;
    });
  },
};

export const consoleUsersList: Command = {
  name: 'console users list',
  summary: 'List console users and their roles (never passwords)',
  store: 'existing',
  flags: { json: JSON_FLAG },
  examples: ['console users list --json'],
  run: ({ flags, withCore }) =>
    withCore(async (core) => {
      const list = await new ConsoleUsers({ store: core.store }).list();
      if (flags.json === true) out(`${JSON.stringify(list, null, 2)}\n`);
      else for (const u of list) out(`${u.name.padEnd(24)}  ${u.role.padEnd(6)}  ${u.created_at}\n`);
      return 0;
    }),
};

export const consoleUsersRemove: Command = {
  name: 'console users remove',
  summary: 'Remove a console user; their sessions end at once',
  store: 'existing',
  args: NAME,
  flags: { json: JSON_FLAG },
  examples: ['console users remove vic'],
  run: ({ args, flags, withCore }) =>
    withCore(async (core) => {
      await new ConsoleUsers({ store: core.store }).remove(args[0]!, 'cli');
      if (flags.json !== true) out(`removed ${args[0]}; their sessions have ended\n`);
      return 0;
    }),
};

export const consoleLink: Command = {
  name: 'console link',
  summary: 'Print a one-time sign-in link for the console (with no users, creates the admin "admin")',
  description: 'The link signs its user in once and asks them to choose a password; it is stored only as a digest.',
  store: 'create',
  flags: {
    user: { type: 'string', value: 'NAME', doc: 'Whose link (default: the only admin)' },
    ttl: { type: 'integer', value: 'SECONDS', min: 60, max: LINK_TTL_MAX, doc: `How long the link works (default ${LINK_TTL})` },
    json: JSON_FLAG,
  },
  examples: ['console link', 'console link --user ann --ttl 300'],
  run: ({ flags, config, withCore }) =>
    withCore(async (core) => {
      const link = await new ConsoleUsers({ store: core.store }).link(typeof flags.user === 'string' ? flags.user : undefined, typeof flags.ttl === 'number' ? flags.ttl : LINK_TTL, 'cli');
      const url = `${config.issuer}/console/link?token=${link.token}`;
      if (flags.json === true) out(`${JSON.stringify({ user: link.user, url, expires_at: new Date(link.expiresAt).toISOString(), created: link.created }, null, 2)}\n`);
      else {
        if (link.created) out(`created the console user ${link.user} (admin)\n`);
        out(`Sign-in link for ${link.user}, valid once until ${new Date(link.expiresAt).toISOString()}:\n${url}\n`);
      }
      // This command cannot see the server's flags: say what the link needs instead of guessing whether it has it.
      if (!config.console) process.stderr.write(`keymint: note: the link works on a server started with --console (or KEYMINT_CONSOLE=true) whose issuer is ${config.issuer}; give this command the server's --issuer (or --port) if it differs\n`);
      return 0;
    }),
};

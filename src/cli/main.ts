/**
 * `keymint serve | clients … | keys … | audit | migrate`. Every command takes the same config flags
 * (`--data`, `--environment`, …) as `serve`, and works while a server runs on the same data.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, OPTIONS, type Config, type RawConfig } from '../config/index.ts';
import { ClientInputError, ClientNotFoundError } from '../credentials/clients.ts';
import { DRAIN_MS, supervise, supervises } from '../cluster/primary.ts';
import { announceListening, stopRequested, workerOptions } from '../cluster/worker.ts';
import { createKeymint, openKeymint } from '../service.ts';
import { migratePostgres } from '../storage/postgres/index.ts';
import { createLogger } from '../util/log.ts';
import { clientsCommand } from './clients.ts';
import { consoleCommand } from './console.ts';
import { ConsoleUserError, ConsoleUserNotFoundError } from '../console/index.ts';
import { keysCommand, auditCommand } from './keys.ts';
import { USAGE } from './usage.ts';

import type { Flags } from './flags.ts';

/** Config flags shared by every command, generated from the config table. */
const CONFIG_FLAGS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  OPTIONS.filter((o) => !o.envOnly).map((o) => [o.flag, { type: o.boolean ? 'boolean' : 'string', multiple: o.repeatable === true }]),
);

export const COMMAND_FLAGS: NonNullable<ParseArgsConfig['options']> = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  mode: { type: 'string' },
  type: { type: 'string' },
  ttl: { type: 'string' },
  'rate-limit': { type: 'string' },
  admin: { type: 'boolean' },
  trusted: { type: 'boolean' },
  'pkce-optional': { type: 'boolean' },
  'redirect-uri': { type: 'string', multiple: true },
  'allow-audience': { type: 'string', multiple: true },
  'allow-dialect': { type: 'string', multiple: true },
  'auth-method': { type: 'string' },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  'dpop-bound': { type: 'boolean' },
  'exchange-audience': { type: 'string', multiple: true },
  'exchange-scope': { type: 'string', multiple: true },
  'expire-old-in': { type: 'string' },
  limit: { type: 'string' },
  role: { type: 'string' },
  'password-env': { type: 'string' },
  user: { type: 'string' },
};

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...CONFIG_FLAGS, ...COMMAND_FLAGS }, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`keymint: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const flags = parsed.values as Flags;
  const [command, ...rest] = parsed.positionals;
  if (flags.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !flags.help ? 2 : 0;
  }
  try {
    const config = loadConfig(configFlags(flags, command));
    switch (command) {
      case 'serve':
        return await serve(config);
      case 'clients':
        return await withCore(config, (core) => clientsCommand(core, rest, flags));
      case 'keys':
        return await withCore(config, (core) => keysCommand(core, rest, flags));
      case 'console':
        return await withCore(config, (core) => consoleCommand(core, rest, flags));
      case 'audit':
        return await withCore(config, (core) => auditCommand(core, flags));
      case 'migrate':
        if (config.databaseUrl !== undefined) {
          const applied = await migratePostgres({ url: config.databaseUrl, schema: config.databaseSchema, acquireTimeoutMs: config.dbAcquireTimeoutMs });
          process.stdout.write(applied.length === 0 ? 'schema up to date\n' : `migrations applied: ${applied.join(', ')}\n`);
          return 0;
        }
        return await withCore(config, async () => {
          process.stdout.write('migrations applied\n');
          return 0;
        });
      default:
        process.stderr.write(`keymint: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keymint: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ClientInputError) {
      process.stderr.write(`keymint: ${err.field}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConsoleUserError) {
      process.stderr.write(`keymint: ${err.field}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConsoleUserNotFoundError) {
      process.stderr.write(`keymint: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ClientNotFoundError) {
      process.stderr.write('keymint: no such client\n');
      return 1;
    }
    throw err;
  }
}

/** The config table's flags, mapped to config keys. In `clients`, `--dialect` is not a mount. */
function configFlags(flags: Flags, command: string): RawConfig {
  const raw: RawConfig = {};
  for (const o of OPTIONS) {
    const v = flags[o.flag];
    if (v !== undefined) raw[o.key] = v;
  }
  if (command !== 'serve') delete raw.dialects;
  return raw;
}

async function withCore(config: Config, run: (core: Awaited<ReturnType<typeof openKeymint>>) => Promise<number>): Promise<number> {
  const core = await openKeymint({ ...config, logLevel: 'warn' });
  try {
    return await run(core);
  } finally {
    await core.close();
  }
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  if (supervises(config)) return supervise(config, log);
  const keymint = await createKeymint(config, { log, ...workerOptions() });
  const port = await keymint.listen();
  announceListening(log, {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    issuer: keymint.config.issuer,
    store: keymint.store.kind,
    // Whether Redis is used, never its URL (it may carry a password).
    redis: config.redisUrl === undefined ? 'none' : keymint.redis?.healthy() ? 'connected' : 'connecting',
    dialects: config.dialects.map((d) => `${d.name}=${d.path ?? 'default'}`),
    alg: config.alg,
  });
  await stopRequested(log);
  await keymint.drain(DRAIN_MS);
  await keymint.close();
  return 0;
}

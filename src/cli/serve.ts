/**
 * `keymint serve` and `keymint migrate`. What they run is imported when they run: every command is
 * loaded to parse a command line, and another command (`keymint sandbox`) must not pay for these.
 */
import type { Keymint } from '../service.ts';
import { createLogger } from '../util/log.ts';
import { SaidElsewhere, type Command } from './command.ts';
import { listenError } from './preflight.ts';

export const serve: Command = {
  name: 'serve',
  summary: 'Start the token service',
  description:
    'Creates the data directory, its KEK and the first keys on first start. Every config option can\n' +
    'also come from its KEYMINT_* environment variable; a flag wins over the environment.',
  store: 'create',
  flags: {},
  examples: [
    'serve',
    'serve --port 0 --data ./keymint-data',
    'serve --issuer https://auth.example.com --host 0.0.0.0 --dialect oauth2 --dialect orum=/orum/oauth/token',
    'serve --database-url postgres://keymint@db/keymint --redis-url redis://cache:6379 --workers 4',
    'serve --issuer https://auth.example.com --tls-cert server.pem --tls-key server.key --tls-client-ca clients-ca.pem',
    'serve --issuer https://auth.example.com --port 443 --tls-cert server.pem --tls-key server.key --mtls-port 8443',
  ],
  async run({ config }) {
    const [{ DRAIN_MS, supervise, supervises }, { announceListening, firstToRefuse, leaveCluster, stopRequested, workerOptions }, { createKeymint }] = await Promise.all([
      import('../cluster/primary.ts'),
      import('../cluster/worker.ts'),
      import('../service.ts'),
    ]);
    const log = createLogger(config.logLevel);
    if (supervises(config)) return supervise(config, log);
    let keymint: Keymint | undefined;
    let port: number;
    try {
      // With --port 0, createKeymint binds already (the issuer names the real port): its listen errors too.
      keymint = await createKeymint(config, { log, ...workerOptions() });
      port = await keymint.listen();
    } catch (err) {
      await keymint?.close();
      // Node names the port a failed listen asked for: the mutual-TLS listener's, or the main one's.
      const mtlsFailed = config.mtlsPort !== undefined && config.mtlsPort !== 0 && (err as { port?: unknown }).port === config.mtlsPort;
      const failure = listenError(err as NodeJS.ErrnoException, mtlsFailed ? { port: config.mtlsPort!, host: config.host, flag: 'mtls-port' } : config);
      const say = await firstToRefuse();
      leaveCluster();
      throw say ? failure : new SaidElsewhere(failure);
    }
    announceListening(log, {
      url: `${config.tlsCert === undefined ? 'http' : 'https'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
      issuer: keymint.config.issuer,
      // Where the mutual-TLS listener is reached (RFC 8705 §5 aliases), when there is one.
      ...(keymint.mtls ? { mtlsUrl: keymint.config.mtlsUrl } : {}),
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
  },
};

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply pending storage migrations',
  description: 'With --database-url, migrates the PostgreSQL schema; otherwise creates or migrates the SQLite store in --data.',
  store: 'create',
  flags: {},
  examples: ['migrate --database-url postgres://keymint@db/keymint', 'migrate --data /var/lib/keymint'],
  async run({ config, withCore }) {
    if (config.databaseUrl !== undefined) {
      const { migratePostgres } = await import('../storage/postgres/index.ts');
      const applied = await migratePostgres({ url: config.databaseUrl, schema: config.databaseSchema, acquireTimeoutMs: config.dbAcquireTimeoutMs });
      process.stdout.write(applied.length === 0 ? 'schema up to date\n' : `migrations applied: ${applied.join(', ')}\n`);
      return 0;
    }
    await withCore(async () => undefined);
    process.stdout.write('migrations applied\n');
    return 0;
  },
};

/**
 * Store round-trips per issued token (issue 5: zero for client_credentials with a JWT once the client
 * is cached). `node bench/store-trips.ts DATA_DIR [DATABASE_URL [REDIS_URL]] [TOKENS]` runs this
 * checkout's service in-process on the configured store (SQLite in DATA_DIR, or PostgreSQL +
 * Redis), with every repository method counted, issues TOKENS tokens over HTTP one after another
 * (the first, which loads the client, is not counted) and prints `{tokens, calls, perToken, methods}`.
 * Everything else is at its defaults (client cache included), so the figure is what production does.
 */
import { loadConfig } from '../src/config/index.ts';
import { createKeymint } from '../src/service.ts';
import { openStore } from '../src/storage/open.ts';
import type { Store } from '../src/storage/types.ts';

const [dataDir = '', databaseUrl = '', redisUrl = '', tokensArg = '500'] = process.argv.slice(2);
const tokens = Math.min(100_000, Math.max(1, Number(tokensArg)));
const methods = new Map<string, number>();

/** The store with every repository's methods counted; `close` goes to the real store. */
function counted(base: Store): Store {
  const overrides: PropertyDescriptorMap = { close: { value: () => base.close() } };
  for (const [name, repo] of Object.entries(base) as [string, unknown][]) {
    if (repo === null || typeof repo !== 'object') continue;
    const proxy = new Proxy(repo, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const key = `${name}.${String(prop)}`;
          methods.set(key, (methods.get(key) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    overrides[name] = { value: proxy, enumerable: true };
  }
  return Object.create(base, overrides) as Store;
}

const config = loadConfig({ dataDir, port: '0', logLevel: 'warn', ...(databaseUrl ? { databaseUrl } : {}), ...(redisUrl ? { redisUrl } : {}) });
const keymint = await createKeymint(config, { store: counted(await openStore(config)) });
try {
  const port = await keymint.listen();
  const { client, clientSecret } = await keymint.clients.create({ name: 'bench-store-trips' }, 'bench');
  const headers = {
    authorization: `Basic ${Buffer.from(`${client.client_id}:${clientSecret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
  const issue = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/oauth2/token`, { method: 'POST', headers, body: 'grant_type=client_credentials' });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`token request answered ${res.status}`);
  };
  await issue();
  methods.clear();
  for (let i = 0; i < tokens; i++) await issue();
  const calls = [...methods.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${JSON.stringify({ tokens, calls, perToken: calls / tokens, methods: Object.fromEntries(methods) })}\n`);
} finally {
  await keymint.close();
}

/**
 * Several Keymint nodes in this process on one PostgreSQL schema and one Redis prefix, as a
 * deployment behind a load balancer would run them (same KEK, shared store, shared feed).
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type RawConfig } from '../../src/config/index.ts';
import { createKeymint, type Keymint } from '../../src/service.ts';
import { createLogger } from '../../src/util/log.ts';
import { basic, tempDir } from './harness.ts';
import { DATABASE_URL, DB_WAIT_MS, REDIS_URL, dropRedisPrefix, dropSchema, uniqueName } from './services.ts';

export interface Node {
  readonly keymint: Keymint;
  readonly url: string;
  token(id: string, secret: string, headers?: Record<string, string>): Promise<Response>;
}

export interface Cluster {
  readonly schema: string;
  readonly prefix: string;
  readonly kek: string;
  start(flags?: RawConfig): Promise<Node>;
  close(): Promise<void>;
}

export function cluster(shared: RawConfig = {}): Cluster {
  const schema = uniqueName('kmt');
  const prefix = `${uniqueName('kmt')}:`;
  const kek = randomBytes(32).toString('base64');
  const nodes: Node[] = [];
  return {
    schema,
    prefix,
    kek,
    async start(flags = {}) {
      const raw: RawConfig = {
        port: '0',
        dataDir: tempDir(),
        logLevel: 'silent',
        // As in the single-node harness: the event-loop shedder is off unless a test turns it on, so a
        // busy test machine gives these tests no 503 they are not about.
        maxEventLoopDelayMs: '0',
        databaseUrl: DATABASE_URL,
        databaseSchema: schema,
        redisUrl: REDIS_URL,
        redisPrefix: prefix,
        // The production default (100 ms) lets a node answer from its local limiter when Redis is
        // slow; on a loaded test machine a Redis answer can take that long, and a shared-limit test
        // would then see the local fallback's counts (a CI run had six 200s where a limit of 4 held).
        // Tests of the fallback itself set their own.
        redisTimeoutMs: '5000',
        // Likewise PostgreSQL's (production: 2 s to get a connection, 5 s a statement): on a loaded
        // machine starting a backend alone took over 2 s, and 30 parallel refreshes of one token
        // through three nodes got a 503 among their 400s. Tests of the timeouts set their own.
        dbAcquireTimeoutMs: String(DB_WAIT_MS),
        dbQueryTimeoutMs: String(DB_WAIT_MS),
        ...shared,
        ...flags,
      };
      const config = loadConfig(raw, { KEYMINT_KEK: kek });
      const keymint = await createKeymint(config, { log: createLogger('silent') });
      const port = await keymint.listen();
      const url = `http://127.0.0.1:${port}`;
      const node: Node = {
        keymint,
        url,
        token: (id, secret, headers = {}) =>
          fetch(`${url}/oauth2/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret), ...headers },
            body: 'grant_type=client_credentials',
          }),
      };
      nodes.push(node);
      return node;
    },
    async close() {
      await Promise.all(nodes.map((n) => n.keymint.close()));
      await dropSchema(schema);
      await dropRedisPrefix(prefix);
    },
  };
}

/** Polls `check` until it holds or `withinMs` passes; resolves whether it held. */
export async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * PostgreSQL and Redis for tests: each suite gets its own schema / key prefix and removes it after.
 * When a service does not answer, the suite skips with a message naming it, or fails when
 * KEYMINT_REQUIRE_SERVICES=1 (CI).
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';

export const DATABASE_URL = process.env.KEYMINT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.KEYMINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * How long a test's PostgreSQL pool waits for a connection, and a statement may run, before the
 * store gives up with a 503 (production: 2 s and 5 s). A test that is not about those timeouts must
 * not see them fire on a loaded machine; the tests of the timeouts set their own.
 */
export const DB_WAIT_MS = 30_000;

const required = (): boolean => process.env.KEYMINT_REQUIRE_SERVICES === '1';

/** Resolves true when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves true when the service answers; otherwise skips `t` (or throws under
 * KEYMINT_REQUIRE_SERVICES=1) and resolves false.
 */
export async function needService(t: TestContext, name: 'PostgreSQL' | 'Redis'): Promise<boolean> {
  const url = name === 'PostgreSQL' ? DATABASE_URL : REDIS_URL;
  if (await reachable(url, name === 'PostgreSQL' ? 5432 : 6379)) return true;
  const message = `${name} does not answer at ${url}`;
  if (required()) throw new Error(`${message} (KEYMINT_REQUIRE_SERVICES=1)`);
  t.skip(message);
  return false;
}

/** A fresh schema name; `dropSchema` removes it. */
export const uniqueName = (prefix: string): string => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

export async function dropSchema(schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under `prefix`. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

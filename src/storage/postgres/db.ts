/**
 * A bounded `pg` pool behind two calls, `query` and `tx`, that turn every outage into
 * `UnavailableError` (→ 503 + Retry-After) and a unique violation into `ConflictError`. The driver
 * is imported here only, on first use, so a SQLite-only deployment never loads it.
 *
 * Nothing waits unboundedly: acquiring a connection gives up after `acquireTimeoutMs`, a query after
 * `queryTimeoutMs` (client side, and `statement_timeout` server side).
 *
 * Rows come back as SQLite returns them, so both backends share the row mappers of `../sql/rows.ts`:
 * `bigint` as a number (epoch milliseconds and counters stay far below 2^53), `json`/`jsonb` as text.
 */
import type { Pool, PoolClient } from 'pg';
import { UnavailableError } from '../../wire/errors.ts';
import { ConflictError } from '../types.ts';

export type Query = <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

export interface Db {
  readonly query: Query;
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  tx<T>(fn: (q: Query) => Promise<T>): Promise<T>;
  /** Runs `fn` on one connection held throughout, each statement committed on its own (session-level locks). */
  session<T>(fn: (q: Query) => Promise<T>): Promise<T>;
  stats(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  /** False after a connection-level failure, true again after the next successful query. */
  readonly healthy: boolean;
}

export interface DbOptions {
  readonly url: string;
  /** Schema every table lives in (one per deployment, or per test). */
  readonly schema: string;
  readonly poolSize: number;
  readonly acquireTimeoutMs: number;
  readonly queryTimeoutMs: number;
}

export async function openDb(options: DbOptions): Promise<Db> {
  let pg: typeof import('pg');
  try {
    pg = (await import('pg')).default as unknown as typeof import('pg');
  } catch (err) {
    throw new Error('the PostgreSQL store needs the `pg` package: npm install pg', { cause: err });
  }
  const pool: Pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    options: `-c search_path=${options.schema}`,
    application_name: 'keymint',
    types: { getTypeParser: (oid, format) => ROW_PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format) },
  });
  let healthy = true;
  // An idle connection dropped by the server emits here; without a listener the process would crash.
  pool.on('error', () => {
    healthy = false;
  });
  const mapped = (err: unknown): Error => {
    const e = classify(err);
    if (e instanceof UnavailableError) healthy = false;
    return e;
  };
  // Only driver errors are classified; errors thrown by a caller's code inside `tx` pass unchanged.
  const run = async <R>(client: Pool | PoolClient, sql: string, params?: readonly unknown[]): Promise<R[]> => {
    try {
      const result = await client.query(sql, params as unknown[] | undefined);
      healthy = true;
      return result.rows as R[];
    } catch (err) {
      throw mapped(err);
    }
  };
  /**
   * Runs `fn` on one checked-out connection. On a failure that is not the connection's, `undo` runs
   * (a transaction's ROLLBACK) before the error propagates; a connection that failed is destroyed on
   * release, never handed to the next caller.
   */
  const held = async <T>(fn: (client: PoolClient, q: Query) => Promise<T>, undo?: (client: PoolClient) => Promise<unknown>): Promise<T> => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw mapped(err);
    }
    let broken: Error | undefined;
    // The pool listens for errors of idle connections only: one lost while checked out here, between
    // two statements, would be an uncaught 'error' event and end the process. Noted instead; the
    // next statement fails as unavailable and the connection is destroyed on release.
    const lost = (err: Error) => {
      broken = mapped(err);
    };
    client.on('error', lost);
    try {
      return await fn(client, (sql, params) => run(client, sql, params));
    } catch (err) {
      if (err instanceof UnavailableError) broken = err;
      else if (broken === undefined && undo) await undo(client).catch((undoErr: unknown) => (broken = mapped(undoErr)));
      throw err;
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  };
  return {
    query: (sql, params) => run(pool, sql, params),
    tx: (fn) =>
      held(async (client, q) => {
        await q('BEGIN');
        const result = await fn(q);
        await q('COMMIT');
        return result;
      }, (client) => client.query('ROLLBACK')),
    session: (fn) => held((_client, q) => fn(q)),
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, healthy }),
    close: () => pool.end(),
  };
}

const ROW_PARSERS = new Map<number, (text: string) => unknown>([
  [20, Number], // int8 (bigint, bigserial, count(*))
  [114, (text) => text], // json
  [3802, (text) => text], // jsonb
]);

/** `INSERT INTO table (a, b, …) VALUES ($1, $2, …)` for columns listed in `../sql/rows.ts`. */
export const insertSql = (table: string, columns: readonly string[]): string =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;

/** Runs a write (`UPDATE …`, `DELETE …`) and resolves how many rows it changed. */
export async function counted(q: Query, write: string, params: readonly unknown[]): Promise<number> {
  const [row] = await q<{ n: number }>(`WITH w AS (${write} RETURNING 1) SELECT count(*) AS n FROM w`, params);
  return row?.n ?? 0;
}

/** The row of `table` matching the first candidate digest, in candidate order (current pepper first). */
export async function firstByDigest<R extends { readonly digest: string }>(q: Query, table: string, digests: readonly string[]): Promise<R | undefined> {
  if (digests.length === 0) return undefined;
  const rows = await q<R>(`SELECT * FROM ${table} WHERE digest = ANY($1::text[])`, [digests]);
  for (const d of digests) {
    const row = rows.find((r) => r.digest === d);
    if (row) return row;
  }
  return undefined;
}

/** SQLSTATE classes that mean "the database is not there right now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3]|58)/;

function classify(err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '23505') return new ConflictError('duplicate key');
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // 57014 query_canceled is what statement_timeout raises.
    if (UNAVAILABLE_SQLSTATE.test(code) || code === '57014' || code === '40001' || code === '40P01') {
      return new UnavailableError(`PostgreSQL unavailable (${code})`, { cause: err, what: 'postgres' });
    }
    return err as Error;
  }
  // Socket errors (ECONNREFUSED, ECONNRESET, …), pool acquire timeouts, "Connection terminated",
  // client-side query timeouts: all mean the database cannot answer now.
  return new UnavailableError('PostgreSQL unavailable', { cause: err, what: 'postgres' });
}

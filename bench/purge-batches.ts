/**
 * What one purge batch costs, by batch size and by where the expired rows lie in the table (the two
 * layouts of bench/data-seed.ts): `node bench/purge-batches.ts [--store postgres|sqlite] [--rows
 * 1000000] [--sizes 1000,250] [--batches 40]` (PostgreSQL from DATABASE_URL, default the local test
 * database). For each layout, expired rows oldest-first and then interleaved with live ones, it
 * builds the tokens table by Keymint's own migrations (in a schema or a data dir of its own, removed
 * at the end) with ROWS tokens, half of them expired, and runs the purge's own statement
 * (src/storage/sql/purge.ts) committed as Keymint commits it (PostgreSQL: `synchronous_commit = off`;
 * SQLite: WAL, `synchronous = NORMAL`, each batch its own `BEGIN IMMEDIATE`), BATCHES of each size in
 * alternation. Prints, per layout and size, the batches' duration p50 / p90 / max and, on PostgreSQL,
 * the WAL bytes per purged row (the WAL position before and after each batch: run it on a database
 * nothing else writes to). Durations are the machine's; bytes are the store's.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migratePostgres } from '../src/storage/postgres/index.ts';
import { purgeSql } from '../src/storage/sql/purge.ts';
import { openDatabase, sqliteDb } from '../src/storage/sqlite/db.ts';
import { migrate } from '../src/storage/sqlite/migrations.ts';
import { dropSchema, runSchema } from './pg-schema.ts';
import { removeTempDir, tempDir } from './procs.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'postgres' },
    rows: { type: 'string', default: '1000000' },
    sizes: { type: 'string', default: '1000,250' },
    batches: { type: 'string', default: '40' },
  },
});
const rows = Number(values.rows);
const sizes = values.sizes.split(',').map(Number);
const batches = Number(values.batches);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LAYOUTS = ['oldest-first', 'interleaved'] as const;
type Layout = (typeof LAYOUTS)[number];
// Row i (from 1) is expired when this holds; an expired row's expiry is long past, a live one's far ahead.
const expiredWhen = (layout: Layout) => (layout === 'oldest-first' ? `i <= ${Math.floor(rows / 2)}` : 'i % 2 = 0');
const NOW = Date.now();

interface Batch {
  readonly ms: number;
  readonly rows: number;
  readonly walBytes?: number;
}

/**
 * BATCHES batches of each size through `run`, timed; `wal` reads the store's WAL position where it has
 * one, `between` runs untimed before each round of sizes.
 */
async function measure(run: (size: number) => Promise<number>, wal?: () => Promise<bigint>, between?: () => void): Promise<Map<number, Batch[]>> {
  const seen = new Map<number, Batch[]>(sizes.map((s) => [s, []]));
  for (let r = 0; r < batches; r++) {
    between?.();
    for (const size of sizes) {
      const before = await wal?.();
      const started = performance.now();
      const n = await run(size);
      const ms = performance.now() - started;
      const after = await wal?.();
      seen.get(size)!.push({ ms, rows: n, ...(before !== undefined && after !== undefined ? { walBytes: Number(after - before) } : {}) });
    }
  }
  return seen;
}

function report(layout: Layout, seen: Map<number, Batch[]>): void {
  for (const [size, list] of seen) {
    const ms = list.map((b) => b.ms).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(2);
    const purged = list.reduce((sum, b) => sum + b.rows, 0);
    const wal = list.every((b) => b.walBytes !== undefined) ? `, ${Math.round(list.reduce((sum, b) => sum + b.walBytes!, 0) / purged)} bytes of WAL per row` : '';
    console.log(`${values.store} ${layout}, batches of ${size}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms over ${list.length} batches (${purged} rows)${wal}`);
  }
}

async function postgres(): Promise<void> {
  const schema = runSchema();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await migratePostgres({ url, schema });
    await db.query(`SET search_path TO "${schema}"`);
    for (const layout of LAYOUTS) {
      await db.query('TRUNCATE tokens');
      await db.query(
        `INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti)
         SELECT 'bench:' || md5(random()::text || i) || md5(i::text), 'access_token', 'c' || (i % 100000), 'c' || (i % 100000),
                'payments:read', '["https://api.example.com"]'::jsonb, 0,
                CASE WHEN ${expiredWhen(layout)} THEN 1000 + i ELSE ${NOW * 2} + i END, NULL, NULL, md5(i::text)
         FROM generate_series(1, $1::int) i`,
        [rows],
      );
      await db.query('VACUUM (ANALYZE) tokens');
      await db.query('CHECKPOINT');
      await db.query('SET synchronous_commit = off');
      const sql = `WITH w AS (${purgeSql('tokens', '$1', '$2')} RETURNING 1) SELECT count(*)::int AS n FROM w`;
      const seen = await measure(
        async (size) => (await db.query<{ n: number }>(sql, [NOW, size])).rows[0]!.n,
        async () => BigInt((await db.query<{ at: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at`)).rows[0]!.at),
      );
      await db.query('RESET synchronous_commit');
      report(layout, seen);
    }
  } finally {
    await db.end();
    const failed = await dropSchema(url, schema);
    if (failed) console.error(`schema ${schema} not dropped: ${failed}`);
  }
}

async function sqlite(): Promise<void> {
  const dir = tempDir('purge-batches');
  const database = openDatabase({ dir });
  try {
    const db = sqliteDb(database);
    migrate(db);
    // Checkpoints between batches, not inside their commits: a serving node's upkeep thread runs them.
    database.exec('PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0');
    const remove = database.prepare(purgeSql('tokens', '?', '?'));
    for (const layout of LAYOUTS) {
      database.exec('DELETE FROM tokens');
      db.blocking(() =>
        database
          .prepare(
            `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
             INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti)
             SELECT 'bench:' || lower(hex(randomblob(32))), 'access_token', 'c' || (i % 100000), 'c' || (i % 100000), 'payments:read',
                    '["https://api.example.com"]', 0, CASE WHEN ${expiredWhen(layout)} THEN 1000 + i ELSE ? + i END, NULL, NULL, lower(hex(randomblob(16)))
             FROM g`,
          )
          .run(rows, NOW * 2),
      );
      database.exec('ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)');
      const seen = await measure(
        async (size) => Number((await db.unflushed(() => remove.run(NOW, size))).changes),
        undefined,
        () => database.exec('PRAGMA wal_checkpoint(PASSIVE)'),
      );
      report(layout, seen);
    }
  } finally {
    database.close();
    removeTempDir(dir);
  }
}

if (values.store === 'postgres') await postgres();
else if (values.store === 'sqlite') await sqlite();
else throw new Error(`--store must be postgres or sqlite, not ${values.store}`);

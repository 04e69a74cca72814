/**
 * Scale of data: does a store holding `--data-clients` clients and `--data-tokens` opaque tokens
 * (default a million and ten million) answer as fast as an empty one? Per store (SQLite, PostgreSQL):
 * two servers on the server core, one on an empty store (only the clients and tokens the load uses)
 * and one on a full store seeded in bulk by bench/data-seed.ts; rounds alternate between them.
 * - issuance: fuuffy opaque tokens (each one written to the tokens table) for `real` different
 *   clients in turn, so client lookups miss the cache and hit the clients table;
 * - introspection: `sample` different stored tokens in turn (oauth2 /oauth2/introspect);
 * both paced at `--data-rate` requests/s (16 connections), p99 compared full ÷ empty.
 * Then, on the full store: bytes per token, the time a migration that adds an index to the tokens
 * table takes, and the time to purge the expired share in batches.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { keymintAt, type Context } from '../context.ts';
import { histogramText } from '../latency.ts';
import { pacedLoad, type LoadResult } from '../load.ts';
import { dropSchema, runSchema } from '../pg-schema.ts';
import { NODE, removeTempDir, ROOT, runPinned, tempDir } from '../procs.ts';
import { int, median, ms, progress, ratio, Series } from '../rounds.ts';
import { startKeymint, type Server } from '../servers.ts';

const REAL_CLIENTS = 500;
const SAMPLE_TOKENS = 1000;
const EXPIRED_SHARE = 0.5;
const GOAL = 1.2;
const PURGE_BATCH = 10_000;

interface Seeded {
  readonly real: Array<{ id: string; secret: string }>;
  readonly caller: { id: string; secret: string };
  readonly sample: string[];
  readonly seedSeconds: number;
  readonly bulkRowsPerSecond: number;
  readonly tokenBytes: number;
}

interface Store {
  readonly name: string;
  readonly postgres: boolean;
}

interface Target {
  readonly label: string;
  readonly server: Server;
  readonly seeded: Seeded;
  readonly dataDir: string;
  readonly schema: string | undefined;
}

export async function dataSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const table = ctx.report.table(`Scale of data: ${int(opts.dataClients)} clients and ${int(opts.dataTokens)} opaque tokens vs an empty store (paced ${int(opts.dataRate)}/s, 16 connections)`, [
    'store',
    'operation',
    'empty p50 / p99',
    'full p50 / p99',
    'p99 full ÷ empty (rounds)',
    'full: histogram',
  ]);
  const facts = ctx.report.table('Scale of data: storage, migration and purge on the full store', ['store', 'seeded in', 'bytes per token (table and indexes)', 'migration adding an index to tokens', `purge of ${Math.round(EXPIRED_SHARE * 100)}% expired (batches of ${int(PURGE_BATCH)})`]);
  const stores: Store[] = [
    { name: 'SQLite', postgres: false },
    { name: 'PostgreSQL', postgres: true },
  ].filter((s) => opts.dataStores.includes(s.postgres ? 'postgres' : 'sqlite'));
  for (const store of stores) {
    try {
      await measureStore(ctx, store, table.rows, facts.rows);
    } catch (err) {
      progress(`data ${store.name}: skipped: ${(err as Error).message.split('\n')[0]}`);
      table.notes.push(`${store.name} skipped: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  table.notes.push(
    `Each server first gets ${Math.max(opts.warmup, 5)} s of each operation, not counted. Issuance: the fuuffy dialect's opaque tokens (each written to the tokens table) for ${REAL_CLIENTS} clients in turn (their cached copies expire, so lookups reach the clients table); introspection: ${SAMPLE_TOKENS} stored tokens in turn. Rounds alternate between the two servers; the ratio is the median of per-round ratios.`,
    `The full store: clients copied in SQL from a real one, tokens with random digests of the real length spread over them, ${Math.round(EXPIRED_SHARE * 100)}% expired long ago: ${ctx.opts.dataInterleaved ? 'every other token (--data-interleaved), so every page holds expired and live ones' : 'the older half, written first, as tokens expire in the order they were issued'} (bench/data-seed.ts).`,
  );
}

async function measureStore(ctx: Context, store: Store, rows: string[][], factRows: string[][]): Promise<void> {
  const { opts } = ctx;
  const kek = randomBytes(32).toString('base64');
  const targets: Target[] = [];
  try {
    for (const [label, clients, tokens] of [['empty', REAL_CLIENTS + 1, SAMPLE_TOKENS], ['full', opts.dataClients, opts.dataTokens]] as const) {
      const dataDir = tempDir(`data-${label}`);
      const schema = store.postgres ? runSchema() : undefined;
      progress(`data ${store.name} ${label}: seeding ${int(clients)} clients and ${int(tokens)} tokens`);
      const spec = { dataDir, clients, tokens, real: REAL_CLIENTS, sample: SAMPLE_TOKENS, expiredShare: label === 'full' ? EXPIRED_SHARE : 0, interleaved: opts.dataInterleaved, ...(schema ? { databaseUrl: opts.databaseUrl, schema } : {}) };
      const file = join(dataDir, 'seeded.json');
      await runPinned(-1, NODE, [join(ROOT, 'bench/data-seed.ts'), JSON.stringify(spec), file], 4 * 3600_000, { env: { KEYMINT_KEK: kek } });
      const seeded = JSON.parse(readFileSync(file, 'utf8')) as Seeded;
      progress(`data ${store.name} ${label}: seeded in ${seeded.seedSeconds.toFixed(0)} s (${int(seeded.bulkRowsPerSecond || 0)} bulk tokens/s)${Number.isFinite(seeded.tokenBytes) ? `, ${int(seeded.tokenBytes)} bytes per token` : ''}`);
      const storeFlags = schema ? ['--database-url', opts.databaseUrl] : [];
      const at = keymintAt(ctx, dataDir, { dialects: ['oauth2', 'fuuffy'], storeFlags });
      const started = await startKeymint({ ...at, env: { KEYMINT_KEK: kek, ...(schema ? { KEYMINT_DATABASE_SCHEMA: schema } : {}) }, extraFlags: [...at.extraFlags, '--workers', '1'] });
      if (!started.ok) throw new Error(`keymint serve refused to start: ${started.reason}`);
      targets.push({ label, server: started.server, seeded, dataDir, schema });
    }
    const ops = [
      {
        name: 'issuance (opaque, stored)',
        load: (t: Target) => ({
          req: { url: `${t.server.base}/v1/auth/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
          bodies: t.seeded.real.map((c) => new URLSearchParams({ client_id: c.id, client_secret: c.secret }).toString()),
        }),
      },
      {
        name: 'introspection',
        load: (t: Target) => ({
          req: {
            url: `${t.server.base}/oauth2/introspect`,
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${t.seeded.caller.id}:${t.seeded.caller.secret}`).toString('base64')}` },
            body: '',
          },
          bodies: t.seeded.sample.map((token) => `token=${token}`),
        }),
      },
    ];
    // Each server's first traffic, not counted: the empty store's first round came right after the
    // full store's seed had written gigabytes, and on SQLite a commit's fsync (on the event loop) then
    // took ~180 ms, twice in that round (docs/performance.md, "The purge beside issuance").
    for (const t of targets) {
      for (const op of ops) {
        const { req, bodies } = op.load(t);
        const result = await pacedLoad(req, { connections: 16, seconds: Math.max(opts.warmup, 5), core: opts.loadCore, rate: opts.dataRate, bodies });
        progress(`${store.name} ${op.name} ${t.label} warm-up: p50 ${ms(result.p50)} p99 ${ms(result.p99)}${result.failed ? `, ${result.failed} failed ${JSON.stringify(result.statuses)}` : ''}`);
      }
    }
    for (const op of ops) {
      const series = new Map(targets.map((t) => [t.label, new Series<LoadResult>(`${store.name} ${op.name} ${t.label}`, (r) => -r.p99)]));
      for (let r = 1; r <= opts.rounds; r++) {
        for (const t of r % 2 ? targets : [...targets].reverse()) {
          const { req, bodies } = op.load(t);
          const result = await pacedLoad(req, { connections: 16, seconds: opts.duration, core: opts.loadCore, rate: opts.dataRate, bodies });
          series.get(t.label)!.add(result);
          const bad = result.failed ? `, ${result.failed} failed ${JSON.stringify(result.statuses)}` : '';
          progress(`${store.name} ${op.name} ${t.label} round ${r}/${opts.rounds}: p50 ${ms(result.p50)} p99 ${ms(result.p99)}${bad}`);
        }
      }
      const empty = series.get('empty')!;
      const full = series.get('full')!;
      const ratios = full.rounds.map((f, i) => f.p99 / (empty.rounds[i]?.p99 ?? NaN));
      const mid = median(ratios);
      const e = empty.pick('median')!;
      const f = full.pick('median')!;
      rows.push([store.name, op.name, `${ms(e.p50)} / ${ms(e.p99)}`, `${ms(f.p50)} / ${ms(f.p99)}`, `${ratio(mid)} (${ratios.map((x) => x.toFixed(2)).join(', ')})`, histogramText(f.latency?.histogram ?? [])]);
      const failed = [...empty.rounds, ...full.rounds].some((x) => x.failed > x.ok * 0.01);
      ctx.report.target(`${store.name} ${op.name} p99, full ÷ empty store`, `${ratio(mid)} (${ms(f.p99)} vs ${ms(e.p99)})`, `≤ ${GOAL}×`, failed || !Number.isFinite(mid) ? false : mid <= GOAL);
    }
    const full = targets.find((t) => t.label === 'full')!;
    await full.server.stop();
    const facts = store.postgres ? await postgresFacts(ctx, full.schema!) : sqliteFacts(full.dataDir);
    factRows.push([store.name, `${full.seeded.seedSeconds.toFixed(0)} s`, int(full.seeded.tokenBytes), facts.migration, facts.purge]);
  } finally {
    for (const t of targets) {
      await t.server.stop();
      removeTempDir(t.dataDir);
      if (t.schema) await dropSchema(opts.databaseUrl, t.schema);
    }
  }
}

interface Facts {
  readonly migration: string;
  readonly purge: string;
}

const seconds = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;

/** A migration of the kind the schema has (an index on tokens), and the batched purge, timed on the full store. */
function sqliteFacts(dataDir: string): Facts {
  const db = new DatabaseSync(join(dataDir, 'keymint.db'));
  try {
    db.exec('PRAGMA busy_timeout = 60000');
    let t = performance.now();
    db.exec('BEGIN IMMEDIATE; CREATE INDEX bench_tokens_subject ON tokens (subject); COMMIT');
    const migration = seconds(t);
    db.exec('DROP INDEX bench_tokens_subject');
    const cutoff = Date.now() - 7 * 86_400_000;
    const batch = db.prepare(`DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at < ? LIMIT ${PURGE_BATCH})`);
    t = performance.now();
    let purged = 0;
    for (;;) {
      db.exec('BEGIN IMMEDIATE');
      const n = Number(batch.run(cutoff).changes);
      db.exec('COMMIT');
      purged += n;
      if (n < PURGE_BATCH) break;
    }
    return { migration, purge: `${seconds(t)} for ${int(purged)} rows` };
  } finally {
    db.close();
  }
}

async function postgresFacts(ctx: Context, schema: string): Promise<Facts> {
  const db = new pg.Client({ connectionString: ctx.opts.databaseUrl });
  await db.connect();
  try {
    await db.query(`SET search_path TO "${schema}"`);
    let t = performance.now();
    await db.query('CREATE INDEX bench_tokens_subject ON tokens (subject)');
    const migration = seconds(t);
    await db.query('DROP INDEX bench_tokens_subject');
    const cutoff = Date.now() - 7 * 86_400_000;
    t = performance.now();
    let purged = 0;
    for (;;) {
      const r = await db.query(`DELETE FROM tokens WHERE ctid IN (SELECT ctid FROM tokens WHERE expires_at < $1 LIMIT ${PURGE_BATCH})`, [cutoff]);
      purged += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < PURGE_BATCH) break;
    }
    return { migration, purge: `${seconds(t)} for ${int(purged)} rows` };
  } finally {
    await db.end();
  }
}

/**
 * Seeds a Keymint store in bulk for the data section (bench/sections/data.ts), not through the API:
 * `node bench/data-seed.ts SPEC_JSON OUT_FILE`, SPEC `{dataDir, databaseUrl?, schema?, clients, tokens,
 * real, sample, expiredShare, interleaved?}`, with KEYMINT_KEK in the environment.
 *
 * 1. Opens the store the way `keymint serve` does (migrations, KEK, keys, pepper) and creates `real`
 *    clients through ClientService (with secrets, for the load) plus one caller for introspection,
 *    and `sample` opaque access tokens of that caller with their real digests (stored through the
 *    repository): the requests the load will make.
 * 2. Fills the rest in SQL, inside the database: `clients − real` clients (copies of a real client's
 *    document under new ids) and `tokens − sample` token records with random digests of the real
 *    length, spread over the bulk clients; `expiredShare` of them expired long ago (what a purge
 *    removes), the rest live. The expired ones are the oldest, written first, as in a store that
 *    grew over time: a token is stored when it is issued, and tokens expire in the order they were
 *    issued, so the ones a purge finds share table pages with each other, not with live ones.
 *    `interleaved: true` expires every (1 / expiredShare)-th row instead: every page holds both, the
 *    worst case for a purge (each deleted row dirties a page that live rows keep; on PostgreSQL 372
 *    bytes of WAL per purged row against 181 oldest-first: bench/purge-batches.ts, batches of 1,000).
 * Writes `{real: [{id, secret}], caller: {id, secret}, sample: [token], seedSeconds, tokenBytes}` to
 * OUT_FILE; tokenBytes is the store's size growth per bulk token (SQLite: file pages; PostgreSQL:
 * table, TOAST and indexes).
 */
import { closeSync, fsyncSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { loadConfig } from '../src/config/index.ts';
import { openKeymint } from '../src/core.ts';
import { storedDigest } from '../src/tokens/digest.ts';
import { KEYMINT_ACCESS, opaqueFormat } from '../src/tokens/opaque.ts';

interface Spec {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly schema?: string;
  readonly clients: number;
  readonly tokens: number;
  readonly real: number;
  readonly sample: number;
  readonly expiredShare: number;
  readonly interleaved?: boolean;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const out = process.argv[3] ?? '';
const started = performance.now();
const now = Date.now();
const DAY = 86_400_000;

const config = loadConfig({
  dataDir: spec.dataDir,
  logLevel: 'warn',
  ...(spec.databaseUrl ? { databaseUrl: spec.databaseUrl, databaseSchema: spec.schema ?? 'keymint' } : {}),
});
const core = await openKeymint(config);
const real: Array<{ id: string; secret: string }> = [];
let template: string;
let pepperKid: string;
const sample: string[] = [];
let caller: { id: string; secret: string };
try {
  for (let i = 0; i < spec.real + 1; i++) {
    const { client, clientSecret } = await core.clients.create({ name: `data-${i}`, dialects: [] }, 'bench');
    real.push({ id: client.client_id, secret: clientSecret ?? '' });
  }
  caller = real.pop()!;
  template = real[0]?.id ?? caller.id;
  const pepper = core.keyring.pepper();
  pepperKid = pepper.kid;
  const format = opaqueFormat(KEYMINT_ACCESS);
  for (let i = 0; i < spec.sample; i++) {
    const token = format.mint();
    sample.push(token);
    await core.store.tokens.insert({
      digest: storedDigest(pepper, token),
      kind: 'access_token',
      clientId: caller.id,
      subject: caller.id,
      scope: '',
      audience: [config.audience],
      issuedAt: now,
      expiresAt: now + 30 * DAY,
      revokedAt: null,
      familyId: null,
      jti: `bench${i}`,
    });
  }
} finally {
  await core.close();
}

const bulkClients = Math.max(0, spec.clients - spec.real);
const bulkTokens = Math.max(0, spec.tokens - spec.sample);
// Row i (from 1) is expired when i % expiredEvery = 0 (interleaved) or i ≤ expiredRows (oldest first).
const expiredEvery = spec.interleaved && spec.expiredShare > 0 ? Math.max(1, Math.round(1 / spec.expiredShare)) : 0;
const expiredRows = spec.interleaved ? 0 : Math.round(Math.max(0, spec.tokens - spec.sample) * spec.expiredShare);
let tokenBytes = NaN;
let bulkSeconds = NaN;

if (spec.databaseUrl) {
  const db = new pg.Client({ connectionString: spec.databaseUrl });
  await db.connect();
  try {
    await db.query(`SET search_path TO "${spec.schema}"`);
    const size = async () => Number((await db.query<{ n: string }>(`SELECT pg_total_relation_size('tokens') AS n`)).rows[0]!.n);
    await db.query(
      `INSERT INTO clients (id, doc, updated_at)
       SELECT id, replace(t.doc::text, $1, id)::jsonb, t.updated_at
       FROM (SELECT doc, updated_at FROM clients WHERE id = $1) t,
            LATERAL (SELECT 'sk_live_bk' || lpad(i::text, 22, '0') AS id FROM generate_series(1, $2::int) i) g`,
      [template, bulkClients],
    );
    const before = await size();
    // A bulk load: the primary key and the secondary indexes of tokens are dropped and built again
    // afterwards from their own definitions (one sort each instead of ten million inserts at random
    // places in a B-tree larger than shared_buffers, each writing a full page to the WAL). The
    // indexes come out packed, as after a REINDEX. The jti trigger is off meanwhile (it acts only on
    // digests `jti:…`, which no bulk row has).
    const key = (await db.query<{ conname: string; def: string }>(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'tokens'::regclass AND contype = 'p'`)).rows[0]!;
    const indexes = (await db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tokens' AND indexname <> $2`,
      [spec.schema, key.conname],
    )).rows;
    await db.query(`SET synchronous_commit = off; SET maintenance_work_mem = '512MB'`);
    for (const index of indexes) await db.query(`DROP INDEX "${index.indexname}"`);
    await db.query(`ALTER TABLE tokens DROP CONSTRAINT "${key.conname}"`);
    await db.query('ALTER TABLE tokens DISABLE TRIGGER USER');
    const bulkStarted = performance.now();
    const batch = 1_000_000;
    for (let from = 1; from <= bulkTokens; from += batch) {
      await db.query(
        `INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti)
         SELECT $1 || ':' || md5(random()::text || i) || md5(i::text || random()::text), 'access_token',
                'sk_live_bk' || lpad((1 + i % GREATEST($2::int, 1))::text, 22, '0'),
                'sk_live_bk' || lpad((1 + i % GREATEST($2::int, 1))::text, 22, '0'),
                'payments:read', $3::jsonb, $4::bigint,
                CASE WHEN ($5::int > 0 AND i % $5::int = 0) OR i <= $10::int THEN $6::bigint + i ELSE $7::bigint + i END,
                NULL, NULL, md5(i::text)
         FROM generate_series($8::int, $9::int) i`,
        [pepperKid, bulkClients, JSON.stringify([config.audience]), now - 90 * DAY, expiredEvery, now - 60 * DAY, now + 30 * DAY, from, Math.min(bulkTokens, from + batch - 1), expiredRows],
      );
    }
    await db.query('ALTER TABLE tokens ENABLE TRIGGER USER');
    await db.query(`ALTER TABLE tokens ADD CONSTRAINT "${key.conname}" ${key.def}`);
    for (const index of indexes) await db.query(index.indexdef);
    bulkSeconds = (performance.now() - bulkStarted) / 1000;
    // What autovacuum would have done to a table of that age (this server may run with it off):
    // hint bits and the visibility map set, statistics taken.
    await db.query('VACUUM (ANALYZE) tokens');
    await db.query('VACUUM (ANALYZE) clients');
    // The load's gigabytes reach the disk now, not during the rounds: a store that grew to this size
    // over months is not writing back a bulk load while it serves (the empty one would not be either),
    // and a checkpoint spread over the next minutes made every commit wait behind it.
    await db.query('CHECKPOINT');
    tokenBytes = bulkTokens ? ((await size()) - before) / bulkTokens : NaN;
  } finally {
    await db.end();
  }
} else {
  const file = join(spec.dataDir, 'keymint.db');
  const db = new DatabaseSync(file);
  const pages = () => {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    return statSync(file).size;
  };
  try {
    db.exec('PRAGMA synchronous = OFF; PRAGMA busy_timeout = 60000');
    const doc = (db.prepare('SELECT doc, updated_at FROM clients WHERE id = ?').get(template) ?? {}) as { doc: string; updated_at: number };
    db.exec('BEGIN');
    db.prepare(
      `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
       INSERT INTO clients (id, doc, updated_at) SELECT 'sk_live_bk' || printf('%022d', i), replace(?, ?, 'sk_live_bk' || printf('%022d', i)), ? FROM g`,
    ).run(bulkClients, doc.doc, template, doc.updated_at);
    db.exec('COMMIT');
    const before = pages();
    // A bulk load: the rollback journal in memory (node:sqlite refuses journal_mode OFF), a page
    // cache of 3 GiB (the primary key index of ten million tokens, 940 MB, stays in it), and
    // the secondary indexes of tokens dropped and built again afterwards from their own definitions
    // (one sort each instead of ten million random inserts); the primary key on digest stays, so
    // the lookups the load makes go through an index grown by inserts, as a live store's. The file
    // goes back to WAL before Keymint opens it.
    const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens' AND sql IS NOT NULL`).all() as Array<{ name: string; sql: string }>;
    db.exec('PRAGMA journal_mode = DELETE; PRAGMA journal_mode = MEMORY; PRAGMA cache_size = -3145728; PRAGMA temp_store = MEMORY');
    for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
    const bulkStarted = performance.now();
    const insert = db.prepare(
      `WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?)
       INSERT INTO tokens (digest, kind, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, family_id, jti)
       SELECT ? || ':' || lower(hex(randomblob(32))), 'access_token',
              'sk_live_bk' || printf('%022d', 1 + i % max(?, 1)), 'sk_live_bk' || printf('%022d', 1 + i % max(?, 1)),
              'payments:read', ?, ?, CASE WHEN (? > 0 AND i % ? = 0) OR i <= ? THEN ? + i ELSE ? + i END, NULL, NULL, lower(hex(randomblob(16)))
       FROM g`,
    );
    const batch = 1_000_000;
    for (let from = 1; from <= bulkTokens; from += batch) {
      db.exec('BEGIN');
      insert.run(from, Math.min(bulkTokens, from + batch - 1), pepperKid, bulkClients, bulkClients, JSON.stringify([config.audience]), now - 90 * DAY, expiredEvery, expiredEvery || 1, expiredRows, now - 60 * DAY, now + 30 * DAY);
      db.exec('COMMIT');
    }
    for (const index of indexes) db.exec(index.sql);
    bulkSeconds = (performance.now() - bulkStarted) / 1000;
    db.exec('ANALYZE; PRAGMA journal_mode = WAL');
    tokenBytes = bulkTokens ? (pages() - before) / bulkTokens : NaN;
  } finally {
    db.close();
  }
  // Written with synchronous = OFF: the load's pages reach the disk now, not during the rounds (as
  // for PostgreSQL's CHECKPOINT above).
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

writeFileSync(out, JSON.stringify({ real, caller, sample, seedSeconds: (performance.now() - started) / 1000, bulkSeconds, bulkRowsPerSecond: bulkTokens / bulkSeconds, tokenBytes }));

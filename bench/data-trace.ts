/**
 * Diagnosis of the data section (not part of `bench/run.ts`): where in a round the slow requests of
 * a seeded store fall, against the store's own events. `node bench/data-trace.ts SPEC_JSON` with
 * `{dataDir, seeded, op: 'issue' | 'introspect', rounds, seconds, rate?, databaseUrl?, schema?,
 * flags?: string[], slowMs?, tail?}` (KEYMINT_KEK in the environment, `seeded` the JSON
 * bench/data-seed.ts wrote for that store) starts `keymint serve` on the store and runs paced rounds
 * (200/s, 16 connections) with a per-request trace, while sampling every 50 ms: the server's purge
 * metrics (a pass's window: it ends where `keymint_purge_duration_seconds_sum` grows, and began that
 * long before), the SQLite file's mtime (in WAL mode only a checkpoint writes the main file), or
 * PostgreSQL's checkpoint counter, WAL bytes and page images, and whether a purge DELETE is running.
 * Prints, per round, how much of it a purge pass covered, p50 / p99, how many requests took over
 * `slowMs` and how many of those fell in a pass, then each slow request's time in the round with the
 * events around it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { NODE, removeTempDir, ROOT, sleep, tempDir } from './procs.ts';
import { startKeymint } from './servers.ts';

interface Spec {
  dataDir: string;
  seeded: string;
  op: 'issue' | 'introspect';
  rounds: number;
  seconds: number;
  rate?: number;
  databaseUrl?: string;
  schema?: string;
  flags?: string[];
  slowMs?: number;
  /** Seconds to keep sampling after the last round for a purge pass to end (default 0). */
  tail?: number;
}
interface Seeded {
  real: Array<{ id: string; secret: string }>;
  caller: { id: string; secret: string };
  sample: string[];
}
interface Sample {
  at: number;
  purged: number;
  /** keymint_purge_duration_seconds_sum: grows by a pass's duration when it ends. */
  purgeSeconds: number;
  /** PostgreSQL: a purge DELETE was running. */
  deleting: boolean;
  fileMtime: number;
  checkpoints: number;
  walBytes: number;
  walFpi: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const seeded = JSON.parse(readFileSync(spec.seeded, 'utf8')) as Seeded;
const slowMs = spec.slowMs ?? 15;
const storeFlags = spec.databaseUrl ? ['--database-url', spec.databaseUrl] : [];
const started = await startKeymint({
  bin: join(ROOT, 'bin/keymint.js'),
  core: 0,
  dataDir: spec.dataDir,
  alg: 'RS256',
  dialects: ['oauth2', 'fuuffy'],
  storeFlags,
  extraFlags: ['--workers', '1', ...(spec.flags ?? [])],
  env: { ...(spec.schema ? { KEYMINT_DATABASE_SCHEMA: spec.schema } : {}) },
});
if (!started.ok) throw new Error(started.reason);
const server = started.server;
const db = spec.databaseUrl ? new pg.Client({ connectionString: spec.databaseUrl }) : undefined;
await db?.connect();

const samples: Sample[] = [];
const passes: Array<{ from: number; to: number }> = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const at = Date.now();
    let purged = NaN;
    let purgeSeconds = NaN;
    let deleting = false;
    try {
      const text = await (await fetch(`${server.base}/metrics`)).text();
      purged = Number(/keymint_purged_rows_total\{table="tokens"\} (\d+)/.exec(text)?.[1] ?? 0);
      purgeSeconds = Number(/keymint_purge_duration_seconds_sum(?:\{\})? ([\d.e+-]+)/.exec(text)?.[1] ?? 0);
    } catch {
      // the server is busy or stopping
    }
    let fileMtime = NaN;
    let checkpoints = NaN;
    let walBytes = NaN;
    let walFpi = NaN;
    if (db) {
      const r = await db.query<{ c: string; b: string; f: string }>('SELECT checkpoints_timed + checkpoints_req AS c, (SELECT wal_bytes FROM pg_stat_wal) AS b, (SELECT wal_fpi FROM pg_stat_wal) AS f FROM pg_stat_bgwriter');
      checkpoints = Number(r.rows[0]!.c);
      const d = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DELETE FROM tokens%'`);
      deleting = d.rows[0].n > 0;
      walBytes = Number(r.rows[0]!.b);
      walFpi = Number(r.rows[0]!.f);
    } else fileMtime = statSync(join(spec.dataDir, 'keymint.db')).mtimeMs;
    samples.push({ at, purged, purgeSeconds, deleting, fileMtime, checkpoints, walBytes, walFpi });
    await sleep(50);
  }
})();

const basic = `Basic ${Buffer.from(`${seeded.caller.id}:${seeded.caller.secret}`).toString('base64')}`;
const load =
  spec.op === 'issue'
    ? { url: `${server.base}/v1/auth/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, bodies: seeded.real.map((c) => new URLSearchParams({ client_id: c.id, client_secret: c.secret }).toString()) }
    : { url: `${server.base}/oauth2/introspect`, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, bodies: seeded.sample.map((t) => `token=${t}`) };

const runPaced = (trace: string): Promise<{ p50: number; p99: number; origin: number; failed: number; statuses: Record<string, number> }> =>
  new Promise((resolve, reject) => {
    const child = spawn(NODE, [join(ROOT, 'bench/paced-load.ts'), JSON.stringify({ ...load, body: '', connections: 16, rate: spec.rate ?? 200, seconds: spec.seconds, warmup: 1, trace })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!));
      } catch (err) {
        reject(err);
      }
    });
  });

const traces = tempDir('data-trace');
const results: Array<{ trace: string; res: { p50: number; p99: number; origin: number; failed: number; statuses: Record<string, number> } }> = [];
for (let r = 1; r <= spec.rounds; r++) {
  const trace = join(traces, `round-${r}.txt`);
  results.push({ trace, res: await runPaced(trace) });
}
// A pass that overlaps the last round is known when it ends.
const waitUntil = Date.now() + (spec.tail ?? 0) * 1000;
while (Date.now() < waitUntil && samples.at(-1)!.purgeSeconds === samples.find((x) => x.at >= results.at(-1)!.res.origin)?.purgeSeconds) await sleep(200);
sampling = false;
await sampler;
// Purge passes: each ends where the duration sum grows, and began that long before.
for (let i = 1; i < samples.length; i++) {
  const grew = samples[i]!.purgeSeconds - samples[i - 1]!.purgeSeconds;
  if (grew > 0) passes.push({ from: samples[i]!.at - grew * 1000, to: samples[i]!.at });
}
for (const [k, { trace, res }] of results.entries()) {
  const r = k + 1;
  const rows = readFileSync(trace, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number, number]);
  const slow = rows.filter((x) => x[2] > slowMs);
  const unanswered = rows.filter((x) => Number.isNaN(x[2]));
  if (unanswered.length) console.log(`round ${r}: ${unanswered.length} unanswered (${(res as { lost?: number }).lost ?? '?'} lost with their connection), sent at ${unanswered.slice(0, 20).map((x) => `${(x[0] / 1000).toFixed(2)}s${Number.isNaN(x[1]) ? '(unsent)' : ''}`).join(' ')}`);
  const within = samples.filter((s) => s.at >= res.origin - 1000 && s.at <= res.origin + spec.seconds * 1000 + 1000);
  // Events: an interval between two samples in which a purge DELETE ran (PostgreSQL), the main file was written (SQLite: a checkpoint), or a checkpoint ran (PostgreSQL).
  const events: Array<{ from: number; to: number; what: string }> = [];
  for (let i = 1; i < within.length; i++) {
    const a = within[i - 1]!;
    const b = within[i]!;
    const from = a.at - res.origin;
    const to = b.at - res.origin;
    if (b.deleting) events.push({ from, to, what: 'delete' });
    if (b.fileMtime !== a.fileMtime && !Number.isNaN(b.fileMtime)) events.push({ from, to, what: 'db-write' });
    if (b.checkpoints > a.checkpoints) events.push({ from, to, what: 'checkpoint' });
  }
  const first = within[0];
  const last = within.at(-1);
  for (const p of passes) if (p.to >= res.origin && p.from <= res.origin + spec.seconds * 1000) events.push({ from: p.from - res.origin, to: p.to - res.origin, what: 'pass' });
  const purgeWindows = events.filter((e) => e.what === 'pass');
  const purgedInRound = first && last ? last.purged - first.purged : NaN;
  const wal = db && first && last ? ` wal ${((last.walBytes - first.walBytes) / 1e6).toFixed(1)} MB fpi ${last.walFpi - first.walFpi}` : '';
  const covered = purgeWindows.reduce((a, e) => a + Math.max(0, Math.min(e.to, spec.seconds * 1000) - Math.max(e.from, 0)), 0) / (spec.seconds * 1000);
  console.log(`round ${r}: purge pass covered ${(covered * 100).toFixed(0)}% of the round; passes ${JSON.stringify(purgeWindows.map((e) => [Math.round(e.from), Math.round(e.to)]))}`);
  console.log(`round ${r}: p50 ${res.p50.toFixed(2)} p99 ${res.p99.toFixed(2)} failed ${res.failed} ${JSON.stringify(res.statuses)} slow>${slowMs}ms ${slow.length}, purged ${purgedInRound}, purge-sample-windows ${purgeWindows.length}, db-writes ${events.filter((e) => e.what === 'db-write').length}, checkpoints ${events.filter((e) => e.what === 'checkpoint').length}${wal}`);
  const inPurge = slow.filter((x) => purgeWindows.some((e) => x[0] + x[2] >= e.from - 100 && x[0] <= e.to + 100)).length;
  console.log(`  slow during a purge window (±100 ms): ${inPurge}/${slow.length}`);
  for (const x of slow.slice(0, 60)) {
    const near = events.filter((e) => e.to >= x[0] - 100 && e.from <= x[0] + x[2]).map((e) => e.what);
    console.log(`  t=${(x[0] / 1000).toFixed(3)}s ${x[2].toFixed(1)} ms ${near.join(',')}`);
  }
}
await db?.end();
await server.stop();
removeTempDir(traces);

/**
 * Scale-out benchmark: tokens/s and p99 for client_credentials (JWT) on SQLite (one node), on
 * PostgreSQL + Redis (one node, then two nodes sharing the store), and goodput under 10× overload
 * with load shedding. Servers run as child processes (`keymint serve`), the load generator here.
 * Bounded: each run lasts KEYMINT_BENCH_SECONDS (default 5). Needs PostgreSQL and Redis for the
 * scale-out runs (KEYMINT_TEST_DATABASE_URL / KEYMINT_TEST_REDIS_URL); skips them otherwise.
 *
 *   node bench/scale.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { openLoop } from './open-loop.ts';
import { loadConfig, OPTIONS, type RawConfig } from '../src/config/index.ts';
import { openKeymint } from '../src/service.ts';
import { DATABASE_URL, REDIS_URL, dropRedisPrefix, dropSchema, reachable, uniqueName } from '../test/support/services.ts';

interface CannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly latency: { readonly p99: number };
}
/** autocannon ships no types; this is the part used here. */
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<CannonResult>;

const SECONDS = Number(process.env.KEYMINT_BENCH_SECONDS ?? 5);
const BIN = new URL('../bin/keymint.js', import.meta.url).pathname;
const UNLIMITED = { rateLimitClient: '100000000', rateLimitIp: '100000000', maxInFlight: '0', maxEventLoopDelayMs: '0' };

interface Result {
  readonly name: string;
  readonly tokensPerSec: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly shedPerSec?: number;
  /** Open loop: requests not answered within the 1 s deadline. */
  readonly timedOutPerSec?: number;
}

const flagsOf = (raw: RawConfig): string[] =>
  Object.entries({ logLevel: 'info', ...raw }).flatMap(([k, v]) => {
    const flag = OPTIONS.find((o) => o.key === k)?.flag;
    return v === undefined || flag === undefined ? [] : [`--${flag}`, String(v)];
  });

async function serve(raw: RawConfig, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...flagsOf({ port: '0', ...raw })], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d;
      const m = /"url":"(http:[^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${buf}`)));
  });
  return { url, child };
}

async function makeClient(raw: RawConfig, env: NodeJS.ProcessEnv): Promise<string> {
  const core = await openKeymint(loadConfig({ logLevel: 'silent', ...raw }, env));
  try {
    const { client, clientSecret } = await core.clients.create({ name: 'bench' }, 'bench');
    return `Basic ${Buffer.from(`${client.client_id}:${clientSecret}`).toString('base64')}`;
  } finally {
    await core.close();
  }
}

function cannon(url: string, auth: string, options: { connections: number; overallRate?: number }): Promise<CannonResult> {
  return autocannon({
    url: `${url}/oauth2/token`,
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
    duration: SECONDS,
    connections: options.connections,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
}

async function run(name: string, raw: RawConfig, env: NodeJS.ProcessEnv, nodes = 1): Promise<Result> {
  const auth = await makeClient(raw, env);
  const servers = await Promise.all(Array.from({ length: nodes }, () => serve(raw, env)));
  try {
    await Promise.all(servers.map((s) => cannon(s.url, auth, { connections: 4 }))); // warm-up (JIT, client cache)
    const results = await Promise.all(servers.map((s) => cannon(s.url, auth, { connections: 16 })));
    return {
      name,
      tokensPerSec: Math.round(results.reduce((n, r) => n + r['2xx'], 0) / SECONDS),
      p99: Math.max(...results.map((r) => r.latency.p99)),
      non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    };
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
  }
}

/** Goodput under 10× the measured capacity, open loop, with and without load shedding. */
async function overload(raw: RawConfig, env: NodeJS.ProcessEnv, capacity: number, shedding: boolean): Promise<Result> {
  const auth = await makeClient(raw, env);
  const limits = shedding ? { maxInFlight: '64', maxEventLoopDelayMs: '100' } : { maxInFlight: '0', maxEventLoopDelayMs: '0' };
  const { url, child } = await serve({ ...raw, ...limits }, env);
  try {
    await cannon(url, auth, { connections: 4 });
    const r = await openLoop(`${url}/oauth2/token`, { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, 'grant_type=client_credentials', capacity * 10, SECONDS);
    return {
      name: `sqlite, open loop ${r.offeredPerSec}/s offered (10× capacity), shedding ${shedding ? 'on' : 'off'}`,
      tokensPerSec: r.goodputPerSec,
      p99: Number.NaN,
      non2xx: (r.shedPerSec + r.timedOutPerSec) * SECONDS,
      shedPerSec: r.shedPerSec,
      timedOutPerSec: r.timedOutPerSec,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'keymint-bench-'));
const kek = randomBytes(32).toString('base64');
const results: Result[] = [];
try {
  const sqlite = await run('sqlite, 1 node', { dataDir: join(dir, 'sqlite'), ...UNLIMITED }, {});
  results.push(sqlite);
  if ((await reachable(DATABASE_URL, 5432)) && (await reachable(REDIS_URL, 6379))) {
    const schema = uniqueName('kmbench');
    const prefix = `${uniqueName('kmbench')}:`;
    const shared = { dataDir: join(dir, 'pg'), databaseUrl: DATABASE_URL, databaseSchema: schema, redisUrl: REDIS_URL, redisPrefix: prefix, ...UNLIMITED };
    try {
      results.push(await run('postgres + redis, 1 node', shared, { KEYMINT_KEK: kek }));
      results.push(await run('postgres + redis, 2 nodes', { ...shared, nodeCount: '2' }, { KEYMINT_KEK: kek }, 2));
    } finally {
      await dropSchema(schema);
      await dropRedisPrefix(prefix);
    }
  } else {
    process.stderr.write(`PostgreSQL (${DATABASE_URL}) or Redis (${REDIS_URL}) does not answer: scale-out runs skipped\n`);
  }
  const heavy = { rateLimitClient: '100000000', rateLimitIp: '100000000' };
  results.push(await overload({ dataDir: join(dir, 'overload-on'), ...heavy }, {}, sqlite.tokensPerSec, true));
  results.push(await overload({ dataDir: join(dir, 'overload-off'), ...heavy }, {}, sqlite.tokensPerSec, false));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.table(results);
process.stdout.write('store round-trips per client_credentials JWT token once the client is cached: 0 (test/scale/round-trips.test.ts)\n');

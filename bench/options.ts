/**
 * Benchmark options: `npm run bench -- --duration 5 --rounds 3 …`, each flag with a `BENCH_*`
 * environment twin (flag wins). Defaults are for the real run on a quiet machine.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './procs.ts';

export const SECTIONS = ['core', 'half', 'signing', 'workers', 'dialects', 'sender', 'scale', 'data', 'verify', 'sandbox'] as const;
export type Section = (typeof SECTIONS)[number];
export type Pick = 'median' | 'best';
export type LoaderChoice = 'auto' | 'wrk' | 'autocannon';

export interface BenchOptions {
  /** Seconds of measured load per round (per target). */
  readonly duration: number;
  /** Rounds per target; the reported figure is the median (or best) round. */
  readonly rounds: number;
  readonly pick: Pick;
  /** Seconds of unmeasured load before a target's first round (JIT, caches, connection set-up). */
  readonly warmup: number;
  readonly connections: number;
  readonly sections: readonly Section[];
  /** Algorithms of the core section. */
  readonly algs: readonly string[];
  readonly loader: LoaderChoice;
  readonly serverCore: number;
  readonly loadCore: number;
  /** The keymint CLI to benchmark (default this checkout's bin/keymint.js). */
  readonly keymint: string;
  /** Extra flags appended to every `keymint serve`. */
  readonly serverFlags: readonly string[];
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Data section: clients and opaque tokens in the full store, and the paced rate of its load. */
  readonly dataClients: number;
  readonly dataTokens: number;
  readonly dataRate: number;
  readonly dataStores: Array<'sqlite' | 'postgres'>;
  readonly dataInterleaved: boolean;
  /** Free text written above the results (e.g. "short validation run on a shared machine"). */
  readonly note: string;
  /** Write docs/benchmarks.md (default true). */
  readonly write: boolean;
}

const SPEC = {
  duration: { type: 'string', env: 'BENCH_DURATION', def: '10', doc: 'seconds of load per round' },
  rounds: { type: 'string', env: 'BENCH_ROUNDS', def: '3', doc: 'rounds per target' },
  pick: { type: 'string', env: 'BENCH_PICK', def: 'median', doc: 'median | best round' },
  warmup: { type: 'string', env: 'BENCH_WARMUP', def: '2', doc: 'seconds of warm-up load per target' },
  connections: { type: 'string', env: 'BENCH_CONNECTIONS', def: '64', doc: 'concurrent connections' },
  sections: { type: 'string', env: 'BENCH_SECTIONS', def: SECTIONS.join(','), doc: `comma list of ${SECTIONS.join(', ')}` },
  algs: { type: 'string', env: 'BENCH_ALGS', def: 'RS256,EdDSA', doc: 'algorithms of the core section' },
  loader: { type: 'string', env: 'BENCH_LOADER', def: 'auto', doc: 'auto (wrk if on PATH) | wrk | autocannon' },
  'server-core': { type: 'string', env: 'BENCH_SERVER_CORE', def: '0', doc: 'core for servers and references' },
  'load-core': { type: 'string', env: 'BENCH_LOAD_CORE', def: '1', doc: 'core for load generators' },
  keymint: { type: 'string', env: 'BENCH_KEYMINT', def: 'bin/keymint.js', doc: 'keymint CLI to benchmark (another checkout\'s bin/keymint.js)' },
  'server-flags': { type: 'string', env: 'BENCH_SERVER_FLAGS', def: '', doc: 'extra flags for every keymint serve (space-separated)' },
  'database-url': { type: 'string', env: 'BENCH_DATABASE_URL', def: 'postgres://postgres@127.0.0.1:5432/test', doc: 'PostgreSQL for the scale section (in a schema of the run, dropped at the end)' },
  'redis-url': { type: 'string', env: 'BENCH_REDIS_URL', def: 'redis://127.0.0.1:6379', doc: 'Redis for the scale section (keys prefixed with that schema name)' },
  'data-clients': { type: 'string', env: 'BENCH_DATA_CLIENTS', def: '1000000', doc: 'data section: clients in the full store' },
  'data-tokens': { type: 'string', env: 'BENCH_DATA_TOKENS', def: '10000000', doc: 'data section: opaque tokens in the full store' },
  'data-rate': { type: 'string', env: 'BENCH_DATA_RATE', def: '200', doc: 'data section: paced requests/s of issuance and introspection' },
  'data-interleaved': { type: 'boolean', env: 'BENCH_DATA_INTERLEAVED', def: '', doc: 'data section: expire every other token of the full store instead of its older half (the worst case for a purge)' },
  'data-stores': { type: 'string', env: 'BENCH_DATA_STORES', def: 'sqlite,postgres', doc: 'data section: stores to measure, one at a time (sqlite, postgres)' },
  note: { type: 'string', env: 'BENCH_NOTE', def: '', doc: 'note written above the results' },
  'no-write': { type: 'boolean', env: 'BENCH_NO_WRITE', def: '', doc: 'do not write docs/benchmarks.md' },
  help: { type: 'boolean', env: '', def: '', doc: 'this help' },
} as const;

export const USAGE = `npm run bench -- [options]   (each option also reads its BENCH_* environment variable)\n${Object.entries(SPEC)
  .map(([flag, s]) => `  --${flag.padEnd(14)} ${s.doc}${s.def ? ` (default ${s.def})` : ''}${s.env ? ` [${s.env}]` : ''}`)
  .join('\n')}\n`;

export class OptionError extends Error {}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  const options = Object.fromEntries(Object.entries(SPEC).map(([k, s]) => [k, { type: s.type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
  if (values.help) return 'help';
  const get = (flag: keyof typeof SPEC): string => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    if (v === true) return 'true';
    const s = SPEC[flag];
    return (s.env && env[s.env]) || s.def;
  };
  const num = (flag: keyof typeof SPEC, min: number, max: number): number => {
    const n = Number(get(flag));
    if (!Number.isFinite(n) || n < min || n > max) throw new OptionError(`--${flag} must be a number between ${min} and ${max}`);
    return n;
  };
  const list = (flag: keyof typeof SPEC): string[] => get(flag).split(',').map((s) => s.trim()).filter(Boolean);
  const sections = list('sections');
  for (const s of sections) if (!(SECTIONS as readonly string[]).includes(s)) throw new OptionError(`unknown section ${JSON.stringify(s)}; known: ${SECTIONS.join(', ')}`);
  const algs = list('algs');
  for (const a of algs) if (!['RS256', 'ES256', 'EdDSA'].includes(a)) throw new OptionError(`unknown alg ${JSON.stringify(a)}`);
  const pick = get('pick');
  if (pick !== 'median' && pick !== 'best') throw new OptionError('--pick must be median or best');
  const loader = get('loader');
  if (loader !== 'auto' && loader !== 'wrk' && loader !== 'autocannon') throw new OptionError('--loader must be auto, wrk or autocannon');
  const dataStores = list('data-stores');
  for (const d of dataStores) if (d !== 'sqlite' && d !== 'postgres') throw new OptionError(`unknown data store ${JSON.stringify(d)}; known: sqlite, postgres`);
  const noWrite = get('no-write');
  const interleaved = get('data-interleaved');
  return {
    duration: num('duration', 1, 600),
    rounds: Math.round(num('rounds', 1, 20)),
    pick,
    warmup: num('warmup', 0, 60),
    connections: Math.round(num('connections', 1, 1024)),
    sections: sections as Section[],
    algs,
    loader,
    serverCore: Math.round(num('server-core', 0, 1023)),
    loadCore: Math.round(num('load-core', 0, 1023)),
    keymint: resolve(ROOT, get('keymint')),
    serverFlags: get('server-flags').split(/\s+/).filter(Boolean),
    databaseUrl: get('database-url'),
    redisUrl: get('redis-url'),
    dataClients: Math.round(num('data-clients', 1000, 100_000_000)),
    dataTokens: Math.round(num('data-tokens', 1000, 1_000_000_000)),
    dataRate: num('data-rate', 1, 100_000),
    dataStores: dataStores as Array<'sqlite' | 'postgres'>,
    dataInterleaved: interleaved === 'true' || interleaved === '1',
    note: get('note'),
    write: !(noWrite === 'true' || noWrite === '1'),
  };
}

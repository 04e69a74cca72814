/**
 * Issue 5: one node and two nodes sharing one store, on SQLite (a shared data dir) and on
 * PostgreSQL + Redis (`--database-url`, `--redis-url`), all nodes pinned to the server core, load split
 * evenly across the nodes' ports. Reported next to the SQLite single-node figure of this section, plus
 * store round-trips per issued token when the server exposes a store counter on GET /metrics
 * (target for client_credentials with a JWT: 0 once the client is cached). A store whose flags the
 * server refuses (not in this build yet, or the database is unreachable) is skipped with a note.
 */
import { type Context, warmUp } from '../context.ts';
import { closedLoopSplit, type LoadResult, type TokenRequest } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { describe, int, loadSeries, ms, progress, ratio, type Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint, type Server } from '../servers.ts';

/** Counters on GET /metrics read as store round-trips (the first name present wins). */
export const STORE_COUNTERS = ['keymint_store_round_trips_total', 'keymint_store_queries_total', 'keymint_store_operations_total'];

interface Setup {
  readonly store: string;
  readonly nodes: Server[];
  readonly requests: TokenRequest[];
  readonly single: Series<LoadResult>;
  readonly double: Series<LoadResult>;
  /** Store round-trips per token over the single-node rounds, when a counter exists. */
  readonly trips: number[];
}

export async function scaleSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const stores: [string, string[]][] = [
    ['SQLite', []],
    ['PostgreSQL + Redis', ['--database-url', opts.databaseUrl, '--redis-url', opts.redisUrl]],
  ];
  const table = ctx.report.table('Scale-out: one and two nodes on one store (RS256, oauth2, all nodes on one core)', [
    'store',
    'nodes',
    'tokens/s',
    'p50',
    'p99',
    'vs SQLite 1 node',
    'store round-trips / token',
  ]);
  const setups: Setup[] = [];
  const skipped = new Map<string, string>();
  const dirs: string[] = [];
  try {
    for (const [store, storeFlags] of stores) {
      const dataDir = tempDir('scale');
      dirs.push(dataDir);
      const setup = await startNodes(ctx, store, dataDir, storeFlags);
      if (typeof setup === 'string') {
        skipped.set(store, setup);
        progress(`scale ${store}: skipped: ${setup}`);
      } else setups.push(setup);
    }
    for (let r = 1; r <= opts.rounds; r++) {
      for (const s of setups) {
        const before = await storeTrips(s.nodes.slice(0, 1));
        const one = s.single.add(await closedLoopSplit(ctx.loader, s.requests.slice(0, 1), load(ctx)));
        const after = await storeTrips(s.nodes.slice(0, 1));
        if (before !== undefined && after !== undefined && one.ok > 0) s.trips.push((after - before) / one.ok);
        progress(`${s.single.label} round ${r}/${opts.rounds}: ${describe(one)}`);
        const two = s.double.add(await closedLoopSplit(ctx.loader, s.requests, load(ctx)));
        progress(`${s.double.label} round ${r}/${opts.rounds}: ${describe(two)}`);
      }
    }
    const baseline = setups.find((s) => s.store === 'SQLite')?.single.pick(opts.pick);
    for (const [store] of stores) {
      const reason = skipped.get(store);
      if (reason !== undefined) {
        table.rows.push([store, '', 'skipped', '', '', '', '']);
        table.notes.push(`${store} skipped: ${reason}`);
      }
      const s = setups.find((x) => x.store === store);
      if (!s) continue;
      const trips = s.trips.length ? s.trips.reduce((a, b) => a + b, 0) / s.trips.length : undefined;
      for (const [nodes, series] of [[1, s.single], [2, s.double]] as const) {
        const p = series.pick(opts.pick);
        if (!p) continue;
        const vs = baseline ? ratio(p.rps / baseline.rps) : 'n/a';
        table.rows.push([s.store, String(nodes), int(p.rps), ms(p.p50), ms(p.p99), vs, nodes === 1 ? (trips === undefined ? 'n/a' : trips.toFixed(2)) : '']);
      }
      if (trips !== undefined) ctx.report.target(`store round-trips per token, ${s.store}`, trips.toFixed(2), '0 (client cached)', trips < 0.005);
    }
    if (setups.every((s) => s.trips.length === 0)) {
      table.notes.push(`Store round-trips: no counter on GET /metrics (looked for ${STORE_COUNTERS.join(', ')}).`);
    }
    table.notes.push('Two nodes: one load generator per node, connections split evenly; p99 is the worse node\'s.');
  } finally {
    for (const s of setups) for (const n of s.nodes) await n.stop();
    for (const d of dirs) removeTempDir(d);
  }
}

const load = (ctx: Context) => ({ connections: ctx.opts.connections, seconds: ctx.opts.duration, core: ctx.opts.loadCore });

async function startNodes(ctx: Context, store: string, dataDir: string, storeFlags: string[]): Promise<Setup | string> {
  const { opts } = ctx;
  const nodes: Server[] = [];
  const start = async () => {
    const s = await startKeymint({ core: opts.serverCore, dataDir, alg: 'RS256', dialects: ['oauth2'], storeFlags, extraFlags: opts.serverFlags });
    if (s.ok) nodes.push(s.server);
    return s;
  };
  progress(`scale ${store}: starting node 1`);
  const first = await start();
  if (!first.ok) return `\`keymint serve${storeFlags.length ? ` ${storeFlags.filter((f) => f.startsWith('--')).join(' … ')} …` : ''}\` refused to start (${first.reason})`;
  try {
    const creds = await createClient({ dataDir, storeFlags }, opts.loadCore);
    progress(`scale ${store}: starting node 2 on the same store`);
    const second = await start();
    if (!second.ok) throw new Error(`${store}: the second node refused to start: ${second.reason}`);
    const requests = nodes.map((n) => OAUTH2.request(n.base, creds));
    for (const [i, req] of requests.entries()) await checkToken(`keymint ${store} node ${i + 1}`, req, OAUTH2.token, 'RS256');
    for (const [i, req] of requests.entries()) await warmUp(ctx, `${store} node ${i + 1}`, req);
    return { store, nodes, requests, single: loadSeries(`${store} 1 node`), double: loadSeries(`${store} 2 nodes`), trips: [] };
  } catch (err) {
    for (const n of nodes) await n.stop();
    throw err;
  }
}

/** Sum of the first store counter found on the nodes' GET /metrics, or undefined. */
async function storeTrips(nodes: readonly Server[]): Promise<number | undefined> {
  let total = 0;
  for (const n of nodes) {
    let text: string;
    try {
      const res = await fetch(`${n.base}/metrics`, { signal: AbortSignal.timeout(5000) });
      text = await res.text();
      if (!res.ok) return undefined;
    } catch {
      return undefined;
    }
    const name = STORE_COUNTERS.find((c) => new RegExp(`^${c}[{ ]`, 'm').test(text));
    if (!name) return undefined;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'gm'))) total += Number(m[1]);
  }
  return total;
}

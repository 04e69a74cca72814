/**
 * Issue 5: one node and two nodes sharing one store, on SQLite (a shared data dir) and on
 * PostgreSQL + Redis (`--database-url`, `--redis-url`), all nodes pinned to the server core, load split
 * evenly across the nodes' ports; next to the SQLite single-node figure of this section. Plus store
 * round-trips per issued token (bench/store-trips.ts; target for client_credentials with a JWT: 0
 * once the client is cached). A store whose flags the server refuses (not in this build, or the
 * database unreachable) is skipped with a note. The PostgreSQL schema is this run's own, dropped at
 * the end.
 */
import { join } from 'node:path';
import { keymintAt, type Context, warmUp } from '../context.ts';
import { closedLoopSplit, type LoadResult, type TokenRequest } from '../load.ts';
import { dropSchema, runSchema } from '../pg-schema.ts';
import { NODE, removeTempDir, ROOT, runPinned, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { describe, failureShare, int, loadSeries, ms, pairedRatio, progress, ratio, rates, type Series } from '../rounds.ts';
import type { Table } from '../report.ts';
import { checkToken, createClient, startKeymint, type Server } from '../servers.ts';

interface Store {
  readonly name: string;
  readonly flags: string[];
  readonly env: Record<string, string>;
}

interface Setup {
  readonly store: Store;
  readonly dataDir: string;
  readonly nodes: Server[];
  readonly requests: TokenRequest[];
  readonly single: Series<LoadResult>;
  readonly double: Series<LoadResult>;
}

export async function scaleSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const schema = runSchema();
  const stores: Store[] = [
    { name: 'SQLite', flags: [], env: {} },
    { name: 'PostgreSQL + Redis', flags: ['--database-url', opts.databaseUrl, '--redis-url', opts.redisUrl], env: { KEYMINT_DATABASE_SCHEMA: schema, KEYMINT_REDIS_PREFIX: `${schema}:` } },
  ];
  const table = ctx.report.table('Scale-out: one and two nodes on one store (RS256, oauth2, every node on the server core)', [
    'store',
    'nodes',
    'tokens/s',
    'p50',
    'p99',
    'vs SQLite 1 node (paired)',
    'store calls / token',
  ]);
  const setups: Setup[] = [];
  const skipped = new Map<string, string>();
  const trips = new Map<string, string>();
  let usedPostgres = false;
  try {
    for (const store of stores) {
      const setup = await startNodes(ctx, store);
      if (typeof setup === 'string') {
        skipped.set(store.name, setup);
        progress(`scale ${store.name}: skipped: ${setup}`);
        continue;
      }
      usedPostgres ||= store.flags.length > 0;
      setups.push(setup);
      trips.set(store.name, await storeTrips(ctx, setup));
    }
    for (let r = 1; r <= opts.rounds; r++) {
      for (const s of setups) {
        const one = s.single.add(await closedLoopSplit(ctx.loader, s.requests.slice(0, 1), load(ctx)));
        progress(`${s.single.label} round ${r}/${opts.rounds}: ${describe(one)}`);
        ctx.report.round(failureShare(one) > 0.01, one.statuses);
        const two = s.double.add(await closedLoopSplit(ctx.loader, s.requests, load(ctx)));
        progress(`${s.double.label} round ${r}/${opts.rounds}: ${describe(two)}`);
        ctx.report.round(failureShare(two) > 0.01, two.statuses);
      }
    }
    report(ctx, table, stores, setups, skipped, trips);
  } finally {
    for (const s of setups) for (const n of s.nodes) await n.stop();
    for (const s of setups) removeTempDir(s.dataDir);
    if (usedPostgres) {
      const err = await dropSchema(opts.databaseUrl, schema);
      if (err) table.notes.push(`Could not drop PostgreSQL schema ${schema}: ${err}`);
    }
  }
}

function report(ctx: Context, table: Table, stores: Store[], setups: Setup[], skipped: Map<string, string>, trips: Map<string, string>): void {
  const baseline = setups.find((s) => s.store.flags.length === 0)?.single;
  for (const store of stores) {
    const reason = skipped.get(store.name);
    if (reason !== undefined) {
      table.rows.push([store.name, '', 'skipped', '', '', '', '']);
      table.notes.push(`${store.name} skipped: ${reason}`);
    }
    const s = setups.find((x) => x.store === store);
    if (!s) continue;
    for (const [nodes, series] of [[1, s.single], [2, s.double]] as const) {
      const p = series.pick(ctx.opts.pick);
      if (!p) continue;
      const vs = baseline ? ratio(pairedRatio(rates(series), rates(baseline), ctx.opts.pick)) : 'n/a';
      table.rows.push([store.name, String(nodes), int(p.rps), ms(p.p50), ms(p.p99), vs, nodes === 1 ? (trips.get(store.name) ?? 'n/a') : '']);
    }
  }
  table.notes.push(
    'Two nodes: one load generator per node, connections split evenly; p99 is the worse node\'s. Both nodes share the server core, so this shows the cost of sharing a store, not scale-out capacity.',
    'Store calls / token: repository calls per issued token after the first (bench/store-trips.ts: this checkout\'s service in-process with every store method counted, default client cache, tokens issued one after another).',
  );
}

const load = (ctx: Context) => ({ connections: ctx.opts.connections, seconds: ctx.opts.duration, core: ctx.opts.loadCore });

async function startNodes(ctx: Context, store: Store): Promise<Setup | string> {
  const dataDir = tempDir('scale');
  const at = { ...keymintAt(ctx, dataDir, { storeFlags: store.flags }), env: store.env };
  const nodes: Server[] = [];
  try {
    progress(`scale ${store.name}: starting node 1`);
    const first = await startKeymint(at);
    if (!first.ok) {
      removeTempDir(dataDir);
      return `\`keymint serve${store.flags.filter((f) => f.startsWith('--')).map((f) => ` ${f} …`).join('')}\` refused to start (${first.reason})`;
    }
    nodes.push(first.server);
    const creds = await createClient(at, ctx.opts.loadCore);
    progress(`scale ${store.name}: starting node 2 on the same store`);
    const second = await startKeymint(at);
    if (!second.ok) throw new Error(`${store.name}: the second node refused to start: ${second.reason}`);
    nodes.push(second.server);
    const requests = nodes.map((n) => OAUTH2.request(n.base, creds));
    for (const [i, req] of requests.entries()) await checkToken(`keymint ${store.name} node ${i + 1}`, req, OAUTH2.token, 'RS256');
    for (const [i, req] of requests.entries()) await warmUp(ctx, `${store.name} node ${i + 1}`, req);
    return { store, dataDir, nodes, requests, single: loadSeries(`${store.name} 1 node`), double: loadSeries(`${store.name} 2 nodes`) };
  } catch (err) {
    for (const n of nodes) await n.stop();
    removeTempDir(dataDir);
    throw err;
  }
}

/** Store calls per token from bench/store-trips.ts on the same store (and KEK), as text for the table. */
async function storeTrips(ctx: Context, s: Setup): Promise<string> {
  const urls = s.store.flags.length ? [ctx.opts.databaseUrl, ctx.opts.redisUrl] : [];
  try {
    const args = [join(ROOT, 'bench/store-trips.ts'), s.dataDir, ...(urls.length ? urls : ['', '']), '500'];
    const env = { KEYMINT_RATE_LIMIT_CLIENT: '0', KEYMINT_RATE_LIMIT_IP: '0', ...s.store.env };
    const out = await runPinned(ctx.opts.serverCore, NODE, args, 120_000, { env });
    const r = JSON.parse(out.trim()) as { perToken: number; methods: Record<string, number> };
    const detail = Object.entries(r.methods).map(([k, v]) => `${k} ×${v}`).join(', ');
    progress(`scale ${s.store.name}: ${r.perToken.toFixed(3)} store calls per token${detail ? ` (${detail} over 500 tokens)` : ''}`);
    ctx.report.target(`store calls per token, ${s.store.name}`, r.perToken.toFixed(3), '≈ 0 (< 0.01: cache refreshes only)', r.perToken < 0.01);
    return r.perToken.toFixed(3);
  } catch (err) {
    progress(`scale ${s.store.name}: store-trips probe failed: ${(err as Error).message.split('\n')[0]}`);
    return 'n/a';
  }
}

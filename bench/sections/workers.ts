/**
 * Every core: `keymint serve` as one worker and as two, each signing inline and on the threadpool,
 * for each algorithm of `--algs`, with nothing pinned — servers and the load generator (wrk with two
 * threads) share both cores alike, as a real deployment on a two-core machine would. libuv's
 * threadpool keeps its default 4 threads in every process. Rounds rotate between the four servers.
 * Target (RS256): two workers signing as `--signing auto` does by default ≥ 1.4 × one worker signing
 * inline (one core's worth of signing); every other pair is reported beside it.
 */
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import type { LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { cpuPerToken, int, loadSeries, median, ms, pairedRatio, progress, ratio, ratioDetail, rates, type Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint, type Server } from '../servers.ts';

const GOAL = 1.4;

interface Shape {
  readonly label: string;
  readonly workers: 1 | 2;
  readonly signing: 'inline' | 'threadpool';
}

const SHAPES: readonly Shape[] = [
  { label: '1 worker, signing on the threadpool (4 threads)', workers: 1, signing: 'threadpool' },
  { label: '1 worker, signing inline', workers: 1, signing: 'inline' },
  { label: '2 workers, signing inline', workers: 2, signing: 'inline' },
  { label: '2 workers, signing on the threadpool (4 threads each)', workers: 2, signing: 'threadpool' },
];

/** What `--signing auto` picks for two workers on this machine's two cores (src/tokens/jwt.ts). */
const AUTO_TWO = SHAPES[3]!;

interface Target {
  readonly shape: Shape;
  readonly server: Server;
  readonly req: ReturnType<typeof OAUTH2.request>;
  readonly series: Series<LoadResult>;
}

export async function workersSection(ctx: Context): Promise<void> {
  for (const alg of ctx.opts.algs) await measureAlg(ctx, alg);
  progress('workers: done');
}

async function measureAlg(ctx: Context, alg: string): Promise<void> {
  const { opts } = ctx;
  const unpinned = { ...ctx, opts: { ...opts, serverCore: -1, loadCore: -1 } };
  const dataDir = tempDir('workers');
  const servers: Server[] = [];
  try {
    const creds = await createClient(keymintAt(unpinned, dataDir), -1);
    const targets: Target[] = [];
    for (const shape of SHAPES) {
      const at = keymintAt(unpinned, dataDir, { alg });
      const flags = ['--workers', String(shape.workers), '--signing', shape.signing];
      const started = await startKeymint({ ...at, extraFlags: [...at.extraFlags, ...flags] });
      if (!started.ok) throw new Error(`keymint serve ${flags.join(' ')} refused to start: ${started.reason}`);
      servers.push(started.server);
      const req = OAUTH2.request(started.server.base, creds);
      await checkToken(`keymint ${shape.label}`, req, OAUTH2.token, alg);
      await warmUp(unpinned, `${alg} ${shape.label}`, req);
      targets.push({ shape, server: started.server, req, series: loadSeries(`${alg} ${shape.label}`) });
    }
    for (let r = 1; r <= opts.rounds; r++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r - 1) % targets.length]!;
        await round(unpinned, t.series, t.req, r, t.server);
      }
    }
    report(ctx, alg, targets);
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dataDir);
  }
}

function report(ctx: Context, alg: string, targets: readonly Target[]): void {
  const { pick } = ctx.opts;
  const auto = targets.find((t) => t.shape === AUTO_TWO)!.series;
  const table = ctx.report.table(`Workers: one machine, every core (${alg}, oauth2, nothing pinned)`, [
    'server',
    'tokens/s',
    'p50',
    'p99',
    'CPU-µs / token',
    'rounds (tokens/s)',
    'this ÷ 1 worker inline',
  ]);
  const oneInline = targets.find((t) => t.shape.workers === 1 && t.shape.signing === 'inline')!.series;
  for (const t of targets) {
    const p = t.series.pick(pick);
    if (!p) continue;
    const x = t.series === oneInline ? NaN : pairedRatio(rates(t.series), rates(oneInline), pick);
    table.rows.push([t.shape.label, int(p.rps), ms(p.p50), ms(p.p99), int(median(t.series.rounds.map(cpuPerToken))), t.series.spread(int, (v) => v.rps), t.series === oneInline ? '' : ratio(x)]);
  }
  if (alg === 'RS256') {
    const x = pairedRatio(rates(auto), rates(oneInline), pick);
    const detail = ratioDetail(rates(auto), rates(oneInline), pick);
    ctx.report.target(`2 workers (${AUTO_TWO.signing}, what auto picks) vs 1 worker inline`, `${ratio(x)}${detail ? ` (${detail})` : ''}`, `≥ ${GOAL}×`, Number.isFinite(x) ? x >= GOAL : undefined);
  }
  table.notes.push('wrk with 2 threads and the servers all unpinned, on every core; CPU-µs / token sums the primary, the workers and their threads.');
}

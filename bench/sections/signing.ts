/**
 * Where to sign: Keymint with `--signing inline` and with `--signing threadpool`, side by side in
 * alternating rounds, for each algorithm, in two deployment shapes: one process pinned to the server
 * core (load generator on the other), and everything unpinned (server and generator share every
 * core). CPU-µs per token from the server's own accounting says what the thread hand-off costs;
 * tokens/s says what it gives. These figures decide what `--signing auto` picks (docs/performance.md).
 */
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import type { LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { cpuPerToken, int, loadSeries, median, pairedRatio, progress, ratio, ratioDetail, rates, type Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint, type Server } from '../servers.ts';

const MODES = ['inline', 'threadpool'] as const;

export async function signingSection(ctx: Context): Promise<void> {
  const table = ctx.report.table('Signing inline vs on the threadpool (Keymint, oauth2)', ['shape', 'alg', 'signing', 'tokens/s', 'p99', 'CPU-µs / token', 'threadpool ÷ inline (tokens/s)']);
  const shapes = [
    { name: `pinned: server on core ${ctx.opts.serverCore}, generator on core ${ctx.opts.loadCore}`, server: ctx.opts.serverCore, load: ctx.opts.loadCore },
    { name: 'unpinned: server and generator share every core', server: -1, load: -1 },
  ];
  for (const shape of shapes) for (const alg of ctx.opts.algs) await measure(ctx, shape, alg, table.rows);
  table.notes.push('Rounds alternate between the two servers (inline first in odd rounds, threadpool first in even ones); the ratio is the median of per-round ratios. The threadpool has libuv\'s default 4 threads.');
}

async function measure(ctx: Context, shape: { name: string; server: number; load: number }, alg: string, rows: string[][]): Promise<void> {
  const dataDir = tempDir(`signing-${alg}`);
  const servers: Server[] = [];
  const c = { ...ctx, opts: { ...ctx.opts, serverCore: shape.server, loadCore: shape.load } };
  try {
    const creds = await createClient(keymintAt(c, dataDir), shape.load);
    const series = new Map<string, { server: Server; req: ReturnType<typeof OAUTH2.request>; series: Series<LoadResult> }>();
    for (const mode of MODES) {
      const at = keymintAt(c, dataDir, { alg });
      const started = await startKeymint({ ...at, extraFlags: [...at.extraFlags, '--signing', mode, '--workers', '1'] });
      if (!started.ok) throw new Error(`keymint serve --signing ${mode} refused to start: ${started.reason}`);
      servers.push(started.server);
      const req = OAUTH2.request(started.server.base, creds);
      await checkToken(`keymint ${alg} ${mode}`, req, OAUTH2.token, alg);
      await warmUp(c, `${alg} signing ${mode} (${shape.server < 0 ? 'unpinned' : 'pinned'})`, req);
      series.set(mode, { server: started.server, req, series: loadSeries(`${alg} ${mode} ${shape.server < 0 ? 'unpinned' : 'pinned'}`) });
    }
    for (let r = 1; r <= ctx.opts.rounds; r++) {
      const order = r % 2 === 1 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const s = series.get(mode)!;
        await round(c, s.series, s.req, r, s.server);
      }
    }
    const inline = series.get('inline')!.series;
    const pool = series.get('threadpool')!.series;
    const x = pairedRatio(rates(pool), rates(inline), ctx.opts.pick);
    const detail = ratioDetail(rates(pool), rates(inline), ctx.opts.pick);
    for (const [mode, s] of [['inline', inline], ['threadpool', pool]] as const) {
      const p = s.pick(ctx.opts.pick);
      if (!p) continue;
      rows.push([shape.name, alg, mode, int(p.rps), `${p.p99.toFixed(1)} ms`, int(median(s.rounds.map(cpuPerToken))), mode === 'threadpool' ? `${ratio(x)}${detail ? ` (${detail})` : ''}` : '']);
    }
    progress(`signing ${alg} ${shape.server < 0 ? 'unpinned' : 'pinned'}: threadpool ÷ inline ${ratio(x)}`);
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dataDir);
  }
}

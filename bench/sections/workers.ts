/**
 * Every core: `keymint serve --workers 2` against one worker, RS256, with nothing pinned — servers and
 * the load generator (wrk with two threads) share both cores alike, as a real deployment on a
 * two-core machine would. One worker is measured twice: with `--signing threadpool` (what `auto`
 * picks when a worker has a spare core: libuv's default 4 threads sign on both cores) and with
 * `--signing inline` (one core's worth of signing); two workers sign inline (`auto`: one worker per
 * core). Rounds rotate between the three servers. Target: two workers ≥ 1.4 × one worker.
 */
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import type { LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { cpuPerToken, int, loadSeries, median, ms, pairedRatio, progress, ratio, ratioDetail, rates, type Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint, type Server } from '../servers.ts';

const GOAL = 1.4;

const SHAPES = [
  { label: '1 worker, signing on the threadpool (4 threads)', flags: ['--workers', '1', '--signing', 'threadpool'] },
  { label: '1 worker, signing inline', flags: ['--workers', '1', '--signing', 'inline'] },
  { label: '2 workers, signing inline', flags: ['--workers', '2', '--signing', 'inline'] },
] as const;

export async function workersSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const unpinned = { ...ctx, opts: { ...opts, serverCore: -1, loadCore: -1 } };
  const dataDir = tempDir('workers');
  const servers: Server[] = [];
  try {
    const creds = await createClient(keymintAt(unpinned, dataDir), -1);
    const targets: Array<{ label: string; server: Server; req: ReturnType<typeof OAUTH2.request>; series: Series<LoadResult> }> = [];
    for (const shape of SHAPES) {
      const at = keymintAt(unpinned, dataDir);
      const started = await startKeymint({ ...at, extraFlags: [...at.extraFlags, ...shape.flags] });
      if (!started.ok) throw new Error(`keymint serve ${shape.flags.join(' ')} refused to start: ${started.reason}`);
      servers.push(started.server);
      const req = OAUTH2.request(started.server.base, creds);
      await checkToken(`keymint ${shape.label}`, req, OAUTH2.token, 'RS256');
      await warmUp(unpinned, shape.label, req);
      targets.push({ label: shape.label, server: started.server, req, series: loadSeries(shape.label) });
    }
    const load = { ...unpinned, opts: { ...unpinned.opts } };
    for (let r = 1; r <= opts.rounds; r++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r - 1) % targets.length]!;
        await round(load, t.series, t.req, r, t.server);
      }
    }
    const table = ctx.report.table('Workers: one machine, every core (RS256, oauth2, nothing pinned)', ['server', 'tokens/s', 'p50', 'p99', 'CPU-µs / token', 'rounds (tokens/s)', '2 workers ÷ this']);
    const two = targets[2]!.series;
    for (const t of targets) {
      const p = t.series.pick(opts.pick);
      if (!p) continue;
      const x = t.series === two ? NaN : pairedRatio(rates(two), rates(t.series), opts.pick);
      table.rows.push([t.label, int(p.rps), ms(p.p50), ms(p.p99), int(median(t.series.rounds.map(cpuPerToken))), t.series.spread(int, (v) => v.rps), t.series === two ? '' : ratio(x)]);
      if (t !== targets[2]) {
        const detail = ratioDetail(rates(two), rates(t.series), opts.pick);
        ctx.report.target(`2 workers vs ${t.label}`, `${ratio(x)}${detail ? ` (${detail})` : ''}`, `≥ ${GOAL}×`, Number.isFinite(x) ? x >= GOAL : undefined);
      }
    }
    table.notes.push('wrk with 2 threads and the servers all unpinned, on every core; CPU-µs / token sums the primary, the workers and their threads.');
    progress('workers: done');
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dataDir);
  }
}

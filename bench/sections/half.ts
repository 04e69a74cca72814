/**
 * Issue 2: p99 of Keymint RS256 at half of its measured capacity (open-loop paced load, 64
 * connections). Capacity is the core section's RS256 figure of this run, or measured here when the
 * core section did not run. Target: p99 ≤ 5 ms.
 */
import { round, warmUp, type Context } from '../context.ts';
import { pacedLoad, type LoadResult } from '../load.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { OAUTH2 } from '../recipes.ts';
import { describe, failureShare, int, loadSeries, ms, progress, Series } from '../rounds.ts';
import { checkToken, createClient, startKeymint } from '../servers.ts';

const P99_GOAL_MS = 5;

export async function halfSection(ctx: Context): Promise<void> {
  const { opts } = ctx;
  const dataDir = tempDir('half');
  const creds = await createClient({ dataDir, storeFlags: [] }, opts.loadCore);
  const km = await startKeymint({ core: opts.serverCore, dataDir, alg: 'RS256', dialects: ['oauth2'], storeFlags: [], extraFlags: opts.serverFlags });
  if (!km.ok) throw new Error(`keymint serve refused to start: ${km.reason}`);
  try {
    const req = OAUTH2.request(km.server.base, creds);
    await checkToken('keymint RS256', req, OAUTH2.token, 'RS256');
    await warmUp(ctx, 'keymint RS256', req);
    let capacity = ctx.figures.get('keymint RS256');
    if (!capacity) {
      const series = loadSeries('keymint RS256 capacity');
      for (let r = 1; r <= opts.rounds; r++) await round(ctx, series, req, r);
      capacity = series.pick(opts.pick);
      if (capacity) ctx.figures.set('keymint RS256', capacity);
    }
    if (!capacity || capacity.rps <= 0) throw new Error('no RS256 capacity to halve');
    const rate = Math.max(1, Math.floor(capacity.rps / 2));
    const series = new Series<LoadResult>(`keymint RS256 at ${int(rate)} tokens/s`, (r) => (failureShare(r) > 0.01 ? -Infinity : -r.p99));
    for (let r = 1; r <= opts.rounds; r++) {
      const res = series.add(await pacedLoad(req, { connections: opts.connections, seconds: opts.duration, core: opts.loadCore, rate }));
      progress(`${series.label} (half capacity) round ${r}/${opts.rounds}: ${describe(res)}`);
    }
    const picked = series.pick(opts.pick);
    if (!picked) return;
    const table = ctx.report.table('Latency at half capacity (RS256, paced open loop)', ['offered rate', 'answered tokens/s', 'p50', 'p99', 'rounds (p99)']);
    table.rows.push([`${int(rate)}/s (½ × ${int(capacity.rps)})`, int(picked.rps), ms(picked.p50), ms(picked.p99), series.rounds.map((x) => ms(x.p99)).join(', ')]);
    table.notes.push('Latency counts from each request\'s scheduled send time (bench/paced-load.ts), so a stall is not hidden by a waiting generator.');
    ctx.report.target('p99 at half capacity (RS256)', ms(picked.p99), `≤ ${P99_GOAL_MS} ms`, failureShare(picked) <= 0.01 && picked.p99 <= P99_GOAL_MS);
  } finally {
    await km.server.stop();
    removeTempDir(dataDir);
  }
}

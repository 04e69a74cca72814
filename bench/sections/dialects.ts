/**
 * Issue 3: one run per seed dialect, each on a server mounting `oauth2` and that dialect (one client
 * registry, RS256), the two measured in alternating order (A B, B A, …) so the ratio compares like
 * with like. Target: a dialect costs ≤ 10% of throughput vs oauth2 with the same token format. A
 * dialect the server refuses to mount (not in this build yet) is skipped with a note.
 */
import { keymintAt, round, warmUp, type Context } from '../context.ts';
import { removeTempDir, tempDir } from '../procs.ts';
import { DIALECT_RECIPES, OAUTH2, type Recipe } from '../recipes.ts';
import { int, loadSeries, ms, pairedRatio, progress, ratio, ratioDetail, rates } from '../rounds.ts';
import { checkToken, createClient, startKeymint } from '../servers.ts';
import type { Credentials } from '../recipes.ts';
import type { Table } from '../report.ts';

const MAX_COST = 0.1;

export async function dialectsSection(ctx: Context): Promise<void> {
  const dataDir = tempDir('dialects');
  try {
    const creds = await createClient(keymintAt(ctx, dataDir), ctx.opts.loadCore);
    const table = ctx.report.table('Dialects vs oauth2 on the same server (RS256, 64 connections)', [
      'dialect',
      'path',
      'tokens/s',
      'p99',
      'oauth2 tokens/s (same server)',
      'ratio (paired)',
      'cost',
    ]);
    for (const recipe of DIALECT_RECIPES) await measureDialect(ctx, recipe, dataDir, creds, table);
  } finally {
    removeTempDir(dataDir);
  }
}

async function measureDialect(ctx: Context, recipe: Recipe, dataDir: string, creds: Credentials, table: Table): Promise<void> {
  const { opts } = ctx;
  progress(`dialect ${recipe.name}: starting keymint serve --dialect oauth2 --dialect ${recipe.mount}`);
  const km = await startKeymint(keymintAt(ctx, dataDir, { dialects: ['oauth2', recipe.mount] }));
  if (!km.ok) {
    progress(`dialect ${recipe.name}: skipped, the server refused to mount it: ${km.reason}`);
    table.rows.push([recipe.name, recipe.path, 'skipped', '', '', '', '']);
    table.notes.push(`${recipe.name} skipped: \`keymint serve\` refused to mount it (${km.reason}).`);
    return;
  }
  try {
    const base = OAUTH2.request(km.server.base, creds);
    const req = recipe.request(km.server.base, creds);
    await checkToken(`keymint oauth2`, base, OAUTH2.token, 'RS256');
    await checkToken(`keymint ${recipe.name}`, req, recipe.token, recipe.format === 'jwt' ? 'RS256' : undefined);
    await warmUp(ctx, `oauth2 (with ${recipe.name})`, base);
    await warmUp(ctx, recipe.name, req);
    const oauth2 = loadSeries(`oauth2 (server with ${recipe.name})`);
    const dialect = loadSeries(recipe.name);
    for (let r = 1; r <= opts.rounds; r++) {
      const order = r % 2 === 1 ? [[oauth2, base], [dialect, req]] as const : [[dialect, req], [oauth2, base]] as const;
      for (const [series, request] of order) await round(ctx, series, request, r);
    }
    const o = oauth2.pick(opts.pick);
    const d = dialect.pick(opts.pick);
    if (!o || !d) return;
    const x = pairedRatio(rates(dialect), rates(oauth2), opts.pick);
    const detail = ratioDetail(rates(dialect), rates(oauth2), opts.pick);
    const sameFormat = recipe.format === OAUTH2.format;
    const cost = Number.isFinite(x) ? `${((1 - x) * 100).toFixed(1)}%` : 'n/a';
    table.rows.push([recipe.name, recipe.path, int(d.rps), ms(d.p99), int(o.rps), ratio(x), cost]);
    if (!sameFormat) {
      table.notes.push(
        `${recipe.name} issues ${recipe.format} tokens (stored), oauth2 issues JWTs: the ratio includes the token format, so its 10% target is not evaluated here.`,
      );
    }
    ctx.report.target(
      `${recipe.name} codec cost vs oauth2`,
      `${cost}${detail ? ` (${Number.isFinite(x) ? `ratio ${ratio(x)}: ` : ''}${detail})` : ''}`,
      `≤ ${MAX_COST * 100}%${sameFormat ? '' : ' (same format only)'}`,
      sameFormat && Number.isFinite(x) ? 1 - x <= MAX_COST : undefined,
    );
  } finally {
    await km.server.stop();
  }
}

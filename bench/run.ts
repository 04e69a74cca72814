/**
 * `npm run bench`: Keymint's token endpoint under load against its references, section by section
 * (core, half, dialects, scale, verify), printed as it goes and written to docs/benchmarks.md.
 * Servers and references run pinned to one core, load generators to another; every child process
 * and temp dir is removed on exit, on Ctrl-C and on failure.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Context } from './context.ts';
import { loaderVersion, resolveLoader } from './load.ts';
import { machine } from './machine.ts';
import { OptionError, parseOptions, USAGE, type BenchOptions, type Section } from './options.ts';
import { cleanup, cleanupSync, hasTaskset, ROOT } from './procs.ts';
import { Report, writeDocs } from './report.ts';
import { progress } from './rounds.ts';
import { coreSection } from './sections/core.ts';
import { dataSection } from './sections/data.ts';
import { dialectsSection } from './sections/dialects.ts';
import { halfSection } from './sections/half.ts';
import { scaleSection } from './sections/scale.ts';
import { senderSection } from './sections/sender.ts';
import { sandboxSection } from './sections/sandbox.ts';
import { signingSection } from './sections/signing.ts';
import { verifySection } from './sections/verify-bench.ts';
import { workersSection } from './sections/workers.ts';

const RUNNERS: Record<Section, (ctx: Context) => Promise<void>> = {
  core: coreSection,
  half: halfSection,
  signing: signingSection,
  workers: workersSection,
  dialects: dialectsSection,
  sender: senderSection,
  scale: scaleSection,
  data: dataSection,
  verify: verifySection,
  sandbox: sandboxSection,
};

const DOCS = join(ROOT, 'docs/benchmarks.md');

/** Set on Ctrl-C / SIGTERM: sections that fail because their children were stopped are not reported. */
let stopping = false;

/** The command as typed, BENCH_* and KEYMINT_* variables included (never the KEK), for the report. */
function command(argv: readonly string[]): string {
  const q = (s: string) => (/^[\w./=,:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') || (k.startsWith('KEYMINT_') && k !== 'KEYMINT_KEK'))
    .map(([k, v]) => `${k}=${q(v ?? '')}`);
  return [...env, 'npm run bench', ...(argv.length ? ['--', ...argv.map(q)] : [])].join(' ');
}

/** Which Keymint was measured: the checkout of the CLI under test, its commit and whether it was clean. */
function build(bin: string): string {
  const dir = dirname(dirname(bin));
  const git = (...args: string[]) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  if (!commit) return bin;
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? ', uncommitted changes' : '';
  return `${git('rev-parse', '--abbrev-ref', 'HEAD')}@${commit}${dirty} (${relative(ROOT, bin) || bin})`;
}

function header(opts: BenchOptions, argv: readonly string[], loader: string, minutes: number): string {
  const m = machine();
  const pin = hasTaskset ? `servers and references on core ${opts.serverCore}, load generators on core ${opts.loadCore} (taskset)` : 'none (taskset not found)';
  return [
    `## Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    ...(opts.note ? [`> **${opts.note}**`, ''] : []),
    `- Command: \`${command(argv)}\``,
    `- Machine: ${m.cpu}, nproc ${m.nproc}, ${m.memory}, Linux ${m.kernel}; load average at the end ${m.load}`,
    `- Keymint: ${build(opts.keymint)}`,
    `- Node ${m.node}; load generator ${loader}; pinning: ${pin}`,
    `- ${opts.rounds} round(s) × ${opts.duration} s per target, ${opts.pick} round reported, ${opts.warmup} s warm-up, ${opts.connections} connections; sections: ${opts.sections.join(', ')}; run took ${minutes} min`,
    '',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = parsed;
  const loader = resolveLoader(opts.loader);
  const ctx: Context = { opts, loader, report: new Report() };
  const t0 = Date.now();
  if (!hasTaskset) progress('warning: taskset not found; processes are not pinned, figures are not comparable');
  else if (availableParallelism() < 2 || opts.serverCore === opts.loadCore) progress('warning: servers and load generators share one core; figures understate capacity');
  progress(`load generator: ${loaderVersion(loader)}; sections: ${opts.sections.join(', ')}; ${opts.rounds} × ${opts.duration} s rounds`);
  let failed = 0;
  for (const section of opts.sections) {
    progress(`── section ${section}`);
    try {
      await RUNNERS[section](ctx);
    } catch (err) {
      if (stopping) return 130;
      failed++;
      const message = (err as Error).message;
      progress(`section ${section} FAILED: ${message}`);
      ctx.report.notes.push(`section ${section} FAILED: ${message.split('\n')[0]}`);
    }
  }
  const text = header(opts, argv, loaderVersion(loader), Math.round((Date.now() - t0) / 60_000)) + ctx.report.markdown();
  process.stdout.write(`\n${text}\n`);
  if (!opts.write) return failed ? 1 : 0;
  if (failed) {
    progress('a section failed: docs/benchmarks.md was not written');
    return 1;
  }
  writeDocs(DOCS, text);
  progress(`wrote ${DOCS}`);
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: stopping every child process and removing temp dirs`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', cleanupSync);

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
